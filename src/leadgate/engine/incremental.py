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

Besides the tracks, ``evaluate`` keeps which conditions on the profile alone the profile meets
(key ``"p"``: a digest of the profile and one ``0``/``1`` per condition: the profile rules', the
segments' and the gates' and disqualifiers'): they depend on the profile alone, so while the
digest is the same the regexes and domain tests are not run again; another profile (a profile or
account change) recomputes them, and a publish rebuilds the whole state.

The state holds no event ids: explanations' ``event_ids`` are listed by the pure engine
(``get_lead``); rules results carry ``event_ids=()`` here. The state is JSON (a dict), and
``evaluate`` refuses (``None``: the caller rebuilds from the events) when it cannot answer
exactly: an event later than ``as_of`` is folded in (it does not exist yet for that score), or
``as_of`` is before the last prune. Rule results are built by the pure engine's own functions
(``profile_rule_result``, ``event_rule_result``, ``count_rule_result``, ``decay_term``,
``holds``) and dispatched with its rule visitor, so a new rule kind must be given a track here.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from leadgate.engine import ir
from leadgate.engine.event import Event, as_utc
from leadgate.engine.python import (
    Predicate,
    assemble_score,
    count_rule_result,
    decay_term,
    event_rule_result,
    holds,
    predicate,
    profile_hit_result,
)
from leadgate.engine.result import RuleResult, Score

VERSION = 1
DAY = ir.SECONDS_PER_DAY

Mode = Literal["count", "decay", "recent", "window"]
State = dict[str, Any]
# A rule's result from the lead's track data, its profile's flags ("0"/"1" per condition on the
# profile, ``Spec.of_cond``) and the time scored at: built once per plan (``_RuleCompiler``),
# called once per rule and lead.
RuleScore = Callable[[list[Any], str, float], RuleResult]


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
    profile_rules: tuple[ir.ProfileRule, ...] = ()
    # The conditions on the profile alone, whose answers the state keeps: the profile rules'
    # (first, in order), then the segments' and the checks' (``of_cond``: position by node id).
    profile_tests: tuple[Predicate, ...] = ()
    of_cond: dict[int, int] = field(default_factory=dict)
    wheres: tuple[Predicate | None, ...] = ()  # each track's ``where`` test
    scorers: tuple[RuleScore, ...] = ()  # of ``plan.rules``, in order


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


class _RuleTrack(ir.RuleVisitor["Track | None"]):
    """The track a rule reads (``None``: a profile rule reads no events)."""

    def visit_ProfileRule(self, rule: ir.ProfileRule) -> Track | None:
        return None

    def visit_EventRule(self, rule: ir.EventRule) -> Track | None:
        return _rule_track(rule)

    def visit_CountRule(self, rule: ir.CountRule) -> Track | None:
        return _count_track(rule.count)


def _memo(make: Callable[[int], RuleResult]) -> Callable[[int], RuleResult]:
    """``make`` remembered by its argument: a result that depends on a count alone is the same
    (frozen) object for every lead with that count."""
    seen: dict[int, RuleResult] = {}

    def get(n: int) -> RuleResult:
        got = seen.get(n)
        if got is None:
            if len(seen) >= 1024:
                seen.clear()
            got = seen[n] = make(n)
        return got

    return get


class _RuleCompiler(ir.RuleVisitor[RuleScore]):
    """How each rule's result is read from a lead's state, decided once per plan: the rule
    visitor and the track lookups are not run again per lead, and results that depend only on
    a profile flag or a count are built once."""

    def __init__(
        self, tracks: tuple[Track, ...], of_rule: Mapping[str, int], of_cond: Mapping[int, int]
    ):
        self.tracks, self.of_rule, self.of_cond = tracks, of_rule, of_cond

    def visit_ProfileRule(self, rule: ir.ProfileRule) -> RuleScore:
        j = self.of_cond[id(rule.when)]
        miss, hit = profile_hit_result(rule, False), profile_hit_result(rule, True)
        return lambda data, flags, now: hit if flags[j] == "1" else miss

    def visit_EventRule(self, rule: ir.EventRule) -> RuleScore:
        i = self.of_rule[rule.key]
        track = self.tracks[i]
        if track.mode == "count":
            by_n = _memo(lambda n: event_rule_result(rule, n, rule.points * n))
            return lambda data, flags, now: by_n(int(data[i]))
        return lambda data, flags, now: _event_rule(rule, track, data[i], now)

    def visit_CountRule(self, rule: ir.CountRule) -> RuleScore:
        i = self.of_rule[rule.key]
        track = self.tracks[i]
        by_n = _memo(lambda n: count_rule_result(rule, n))
        return lambda data, flags, now: by_n(_count(track, data[i], now))


def _build_spec(plan: ir.Plan) -> Spec:
    tracks: dict[Track, int] = {}
    of_rule: dict[str, int] = {}
    of_count: dict[int, int] = {}
    for rule in plan.rules:
        track = ir.visit_rule(rule, _RuleTrack())
        if track is not None:
            of_rule[rule.key] = tracks.setdefault(track, len(tracks))
        if isinstance(rule, ir.CountRule):
            of_count[id(rule.count)] = of_rule[rule.key]
    policies = [seg.policy for seg in plan.segments]
    for check in [c for p in policies for c in (*p.gates, *p.disqualifiers)]:
        if check.events is not None:
            of_count[id(check.events)] = tracks.setdefault(_count_track(check.events), len(tracks))
    ordered = tuple(tracks)
    by_type: dict[str, list[int]] = {}
    for i, track in enumerate(ordered):
        for t in dict.fromkeys(track.filter.types):
            by_type.setdefault(t, []).append(i)
    types = {t: tuple(ix) for t, ix in by_type.items()}
    profile_rules = tuple(r for r in plan.rules if isinstance(r, ir.ProfileRule))
    conds: dict[int, ir.Cond] = {id(r.when): r.when for r in profile_rules}
    for seg in plan.segments:
        whens = [seg.when, *(c.when for c in (*seg.policy.gates, *seg.policy.disqualifiers))]
        conds.update((id(w), w) for w in whens if w is not None)
    of_cond = {key: i for i, key in enumerate(conds)}
    compiler = _RuleCompiler(ordered, of_rule, of_cond)
    return Spec(
        plan.hash, ordered, of_rule, of_count, types, profile_rules,
        profile_tests=tuple(predicate(c) for c in conds.values()),
        of_cond=of_cond,
        wheres=tuple(
            None if t.filter.where is None else predicate(t.filter.where) for t in ordered
        ),
        scorers=tuple(ir.visit_rule(rule, compiler) for rule in plan.rules),
    )  # fmt: skip


# By the plan object's id (hashing a whole plan per event would cost more than the scoring);
# the plan is kept alongside so that its id cannot be reused by another plan meanwhile.
_SPECS: dict[int, tuple[ir.Plan, Spec]] = {}


def supports(plan: ir.Plan) -> bool:
    """Can a state of counts, decayed sums and event times stand for ``plan``? Not when it
    measures more than a count (distinct days, sums, distinct values), reads the account's
    events (a teammate's or an account-level event changes them, not only the lead's own),
    gives points per a property or has a PQL block: those leads are scored from their events
    (``score_rows``, which reads the account's), as before the state existed."""
    if plan.pql is not None:
        return False
    if any(r.points_per is not None for r in plan.rules if isinstance(r, ir.EventRule)):
        return False
    return all(
        c.measure.kind is ir.MeasureKind.COUNT and c.scope is ir.Scope.LEAD
        for c in plan.event_counts
    )


def spec_of(plan: ir.Plan) -> Spec:
    """The tracks of ``plan`` (built once per plan)."""
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
        where = spec.wheres[i]
        if where is not None and not where(event.properties):
            continue
        data[i] = _fold(spec.tracks[i], data[i], e, pruned)


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
        assert hl is not None
        decayed = 0.0 if not n else decay_term(rule.points, (now - ref) / DAY, hl) * (s + c)
    else:  # the same terms, summed the same way, as engine/python.py
        times = _in_scope(track, data, now)
        n = len(times)
        if hl is None:
            decayed = rule.points * n
        else:
            decayed = math.fsum(decay_term(rule.points, (now - e) / DAY, hl) for e in times)
    return event_rule_result(rule, n, decayed)


def _digest(profile: Mapping[str, Any]) -> str:
    # The profile's repr, in its own key order: profiles are JSON values, whose reprs tell any
    # two apart (1, 1.0, True and "1" included). The same profile in another key order gets
    # another digest, which only costs recomputing its flags; repr is a third of the cost of a
    # sorted JSON text, per lead and event.
    return hashlib.blake2b(repr(profile).encode(), digest_size=12).hexdigest()


def _profile_flags(spec: Spec, state: State, profile: Mapping[str, Any]) -> str:
    """Which of the spec's conditions on the profile alone ``profile`` meets ("0"/"1" each, in
    ``Spec.of_cond`` order): from the state when it was computed for the same profile (digest),
    else computed and kept in the state."""
    digest = _digest(profile)
    kept = state.get("p")
    if (
        isinstance(kept, list) and len(kept) == 2 and kept[0] == digest
        and isinstance(kept[1], str) and len(kept[1]) == len(spec.profile_tests)
    ):  # fmt: skip
        return kept[1]
    flags = "".join("1" if test(profile) else "0" for test in spec.profile_tests)
    state["p"] = [digest, flags]
    return flags


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
    flags = _profile_flags(spec, state, profile)
    results = [score(data, flags, now) for score in spec.scorers]

    def test(cond: ir.Cond) -> bool:
        i = spec.of_cond.get(id(cond))
        return predicate(cond)(profile) if i is None else flags[i] == "1"

    def count_holds(count: ir.EventCount) -> tuple[bool, int, float]:
        i = spec.of_count[id(count)]
        n = _count(spec.tracks[i], data[i], now)
        return holds(count, n), n, float(n)

    return assemble_score(plan, profile, results, count_holds, as_of, lead_id, test)
