"""Incremental per-lead scoring state: what each rule needs of a lead's events, updated per event.

A cache of the pure function ``engine.python.score_lead``: for a lead whose events were folded in
(``apply``), ``evaluate`` gives the same score, dimensions, checks and lacks as ``score_lead`` over
all those events (1e-9; property-tested in tests/engine/test_incremental.py), in O(rules) for an
unwindowed rule instead of O(history). What each kind of rule keeps (a "track"; identical tracks
are shared):

- ``count``: the number of matching events (an undecayed rule, or a count test, with no window);
- ``decay``: the number of matching events and their decayed sum against a reference time
  ``ref`` (the newest matching event): ``sum 0.5 ** ((ref - t) / half_life)``, every term <= 1,
  so nothing overflows however long the history (the sum is re-based each time a newer event
  moves ``ref``; a back-dated event adds its own term <= 1). Scoring at ``as_of`` multiplies by
  ``0.5 ** ((as_of - ref) / half_life)``. Kept with a compensation term (Neumaier) so that
  thousands of additions stay within a few ulps of the exact sum;
- ``recent``: the timestamps of the ``max_count`` most recent matching events (a rule with
  ``max_count``: within a window, the most recent in the window are a prefix of these);
- ``window``: the timestamps of the matching events still inside ``within_days`` as of the last
  prune (``prune``): those that left the window can never come back, as ``as_of`` only moves on.

The state holds no event ids: explanations' ``event_ids`` are listed by the pure engine
(``get_lead``); rules results carry ``event_ids=()`` here. The state is JSON (a dict), and
``evaluate`` refuses (``None``: the caller rebuilds from the events) when it cannot answer
exactly: an event later than ``as_of`` is folded in (it does not exist yet for that score), or
``as_of`` is before the last prune. A plan with a rule kind this module does not know has no
spec (``spec_of`` returns ``None``): such a model is always scored by the pure engine.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from leadgate.engine import ir
from leadgate.engine.event import Event, as_utc
from leadgate.engine.python import assemble_score, predicate
from leadgate.engine.result import RuleResult, Score

VERSION = 1
DAY = ir.SECONDS_PER_DAY

Mode = Literal["count", "decay", "recent", "window"]
State = dict[str, Any]


@dataclass(frozen=True)
class Track:
    """What one event filter needs kept (see the module docstring)."""

    filter: ir.EventFilter
    mode: Mode
    half_life: float | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Spec:
    """A plan's tracks, which track each rule and count test reads, and the tracks by type."""

    plan_hash: str
    tracks: tuple[Track, ...]
    of_rule: dict[str, int]  # rule key -> track index
    of_count: dict[int, int]  # id of an EventCount of the plan -> track index
    by_type: dict[str, tuple[int, ...]]


def _count_track(count: ir.EventCount) -> Track:
    return Track(count.filter, "window" if count.filter.within_days is not None else "count")


def _rule_track(rule: ir.EventRule) -> Track:
    if rule.max_count is not None:
        return Track(rule.filter, "recent", rule.half_life_days, rule.max_count)
    if rule.filter.within_days is not None:
        return Track(rule.filter, "window")
    if rule.half_life_days is not None:
        return Track(rule.filter, "decay", rule.half_life_days)
    return Track(rule.filter, "count")


def _build_spec(plan: ir.Plan) -> Spec | None:
    tracks: dict[Track, int] = {}
    of_rule: dict[str, int] = {}
    of_count: dict[int, int] = {}
    for rule in plan.rules:
        if isinstance(rule, ir.ProfileRule):
            continue
        if isinstance(rule, ir.EventRule):
            track = _rule_track(rule)
        elif isinstance(rule, ir.CountRule):
            track = _count_track(rule.count)
        else:  # a rule kind added after this module: the pure engine scores the model
            return None
        of_rule[rule.key] = tracks.setdefault(track, len(tracks))
    every_check = [
        c for seg in plan.segments for c in (*seg.policy.gates, *seg.policy.disqualifiers)
    ]
    for check in every_check:
        if check.events is not None:
            of_count[id(check.events)] = tracks.setdefault(_count_track(check.events), len(tracks))
    for rule in plan.rules:
        if isinstance(rule, ir.CountRule):
            of_count[id(rule.count)] = of_rule[rule.key]
    ordered = tuple(tracks)
    by_type: dict[str, list[int]] = {}
    for i, track in enumerate(ordered):
        for t in dict.fromkeys(track.filter.types):
            by_type.setdefault(t, []).append(i)
    return Spec(plan.hash, ordered, of_rule, of_count, {t: tuple(ix) for t, ix in by_type.items()})


# By the plan object's id (hashing a whole plan per event would cost more than the scoring);
# the plan is kept alongside so that its id cannot be reused by another plan meanwhile.
_SPECS: dict[int, tuple[ir.Plan, Spec | None]] = {}


def spec_of(plan: ir.Plan) -> Spec | None:
    """The tracks of ``plan`` (built once per plan), or ``None`` when it cannot be tracked."""
    cached = _SPECS.get(id(plan))
    if cached is None or cached[0] is not plan:
        if len(_SPECS) > 64:
            _SPECS.clear()
        cached = _SPECS[id(plan)] = (plan, _build_spec(plan))
    return cached[1]


def _empty(track: Track) -> Any:
    if track.mode == "count":
        return 0
    if track.mode == "decay":
        return [0, 0.0, 0.0, None]  # n, sum, compensation, ref
    return []


def new_state(spec: Spec) -> State:
    """The state of a lead with no events."""
    return {"v": VERSION, "latest": None, "pruned": None, "t": [_empty(t) for t in spec.tracks]}


def usable(spec: Spec, state: Any) -> bool:
    """Is ``state`` (as read back from the store) a state of this spec's shape?"""
    return (
        isinstance(state, dict)
        and state.get("v") == VERSION
        and isinstance(state.get("t"), list)
        and len(state["t"]) == len(spec.tracks)
    )


def _neumaier(total: float, comp: float, x: float) -> tuple[float, float]:
    t = total + x
    if abs(total) >= abs(x):
        comp += (total - t) + x
    else:
        comp += (x - t) + total
    return t, comp


def _fold(track: Track, data: Any, e: float, pruned: float | None) -> Any:
    if track.mode == "count":
        return data + 1
    if track.mode == "decay":
        n, s, c, ref = data
        hl = track.half_life
        assert hl is not None
        if ref is None:
            return [n + 1, 1.0, 0.0, e]
        if e > ref:  # re-base on the newer event: older terms shrink, the new one is 1
            factor = 0.5 ** (((e - ref) / DAY) / hl)
            s, c = _neumaier(s * factor, c * factor, 1.0)
            return [n + 1, s, c, e]
        s, c = _neumaier(s, c, 0.5 ** (((ref - e) / DAY) / hl))
        return [n + 1, s, c, ref]
    if track.mode == "recent":
        assert track.limit is not None
        bisect.insort(data, -e)  # kept as negated times: most recent first
        del data[track.limit :]
        return data
    within = track.filter.within_days
    assert within is not None
    if pruned is not None and (pruned - e) / DAY > within:
        return data  # already outside the window at the last prune: never counted again
    bisect.insort(data, e)
    return data


def apply(spec: Spec, state: State, event: Event) -> None:
    """Fold one event into ``state`` (in place). The event must not have been folded before."""
    tracks = spec.by_type.get(event.type)
    e = event.epoch
    latest = state["latest"]
    state["latest"] = e if latest is None or e > latest else latest
    if not tracks:
        return
    data, pruned = state["t"], state["pruned"]
    for i in tracks:
        track = spec.tracks[i]
        where = track.filter.where
        if where is not None and not predicate(where)(event.properties):
            continue
        data[i] = _fold(track, data[i], e, pruned)


def build(spec: Spec, events: Iterable[Event], as_of: datetime) -> State:
    """The state of a lead with these events (a rebuild), pruned at ``as_of``."""
    state = new_state(spec)
    for ev in events:
        apply(spec, state, ev)
    prune(spec, state, as_of)
    return state


def prune(spec: Spec, state: State, as_of: datetime) -> None:
    """Drop window entries that are outside their window at ``as_of`` (and so at any later
    time); a no-op when ``as_of`` is before the last prune."""
    now = as_utc(as_of).timestamp()
    pruned = state["pruned"]
    if pruned is not None and now <= pruned:
        return
    for i, track in enumerate(spec.tracks):
        if track.mode == "window":
            within = track.filter.within_days
            state["t"][i] = [e for e in state["t"][i] if (now - e) / DAY <= within]
    state["pruned"] = now


def _in_scope(track: Track, data: Any, now: float) -> list[float]:
    """The timestamps a windowed or limited track counts at ``now``."""
    within = track.filter.within_days
    times = [-x for x in data] if track.mode == "recent" else data
    if within is None:
        return list(times)
    return [e for e in times if (now - e) / DAY <= within]


def _count(track: Track, data: Any, now: float) -> int:
    if track.mode == "count":
        return int(data)
    if track.mode == "decay":
        return int(data[0])
    return len(_in_scope(track, data, now))


def _event_rule(rule: ir.EventRule, track: Track, data: Any, now: float) -> RuleResult:
    hl = rule.half_life_days
    if track.mode == "count":
        n = int(data)
        decayed = rule.points * n
    elif track.mode == "decay":
        n, s, c, ref = data
        decayed = 0.0 if not n else rule.points * 0.5 ** (((now - ref) / DAY) / hl) * (s + c)
    else:  # the same terms, summed the same way, as engine/python.py
        times = _in_scope(track, data, now)
        n = len(times)
        if hl is None:
            decayed = rule.points * n
        else:
            decayed = math.fsum(rule.points * 0.5 ** (((now - e) / DAY) / hl) for e in times)
    points, capped = decayed, False
    if rule.max_points is not None and abs(decayed) > rule.max_points:
        points, capped = math.copysign(rule.max_points, decayed), True
    return RuleResult(
        rule.key, rule.dimension, rule.name, rule.kind, n > 0, n, rule.points * n, decayed,
        points, capped,
    )  # fmt: skip


def evaluate(
    spec: Spec,
    plan: ir.Plan,
    state: State,
    profile: Mapping[str, Any],
    as_of: datetime,
    lead_id: str | None = None,
) -> Score | None:
    """The lead's score at ``as_of`` from its state, or ``None`` when the state cannot say
    exactly (an event after ``as_of`` folded in, or ``as_of`` before the last prune)."""
    as_of = as_utc(as_of)
    now = as_of.timestamp()
    latest, pruned = state["latest"], state["pruned"]
    if (latest is not None and latest > now) or (pruned is not None and now < pruned):
        return None
    data = state["t"]
    results: list[RuleResult] = []
    for rule in plan.rules:
        if isinstance(rule, ir.ProfileRule):
            hit = predicate(rule.when)(profile)
            pts = rule.points if hit else 0.0
            results.append(
                RuleResult(
                    rule.key, rule.dimension, rule.name, rule.kind, hit, 0, pts, pts, pts, False
                )
            )
            continue
        i = spec.of_rule[rule.key]
        if isinstance(rule, ir.EventRule):
            results.append(_event_rule(rule, spec.tracks[i], data[i], now))
        else:
            assert isinstance(rule, ir.CountRule)
            hit, n = _holds(rule.count, spec.tracks[i], data[i], now)
            pts = rule.points if hit else 0.0
            results.append(
                RuleResult(
                    rule.key, rule.dimension, rule.name, rule.kind, hit, n, pts, pts, pts, False
                )
            )

    def holds(count: ir.EventCount) -> tuple[bool, int]:
        i = spec.of_count[id(count)]
        return _holds(count, spec.tracks[i], data[i], now)

    return assemble_score(plan, profile, results, holds, as_of, lead_id)


def _holds(count: ir.EventCount, track: Track, data: Any, now: float) -> tuple[bool, int]:
    n = _count(track, data, now)
    return n >= count.min_count and (count.max_count is None or n <= count.max_count), n
