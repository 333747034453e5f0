"""Shared by the agreement tests: random models, leads and events, and the engines to compare.

Models are built as dicts and go through ``parse_model`` like a user's file; field names, values,
dimension and segment names include quotes, semicolons, SQL keywords and unicode, so a leak into
SQL text would show up as a syntax error or a wrong answer. Inputs are written as files (CSV), so
every engine reads exactly what a user's files would give it.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from factories import model_text

AS_OFS = (
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 10, 28, 11, 59, 30, 250000, tzinfo=UTC),
    datetime(2026, 12, 15, 6, 0, tzinfo=UTC),
)
FIELDS = (
    "title", "industry", "size", "email", "country", 'we"ird', "semi;colon", "DROP TABLE leads",
    "ünï", "account.tier", "select", "it's",
)  # fmt: skip
PROPS = ("url", "channel", "amount", 'q"uote', "; DELETE", "ä")
EVENT_PROPS = (*PROPS, "qty")  # qty: numeric or absent (summed by measures and points_per)
TYPES = ("open", "click", "view", "demo", "Open", "it's;")
TEXTS = (
    "vp sales", "VP", "Director", "acme", "o'brien", "semi;colon", "--", "É", "é", "select",
    '"quoted"', "%", "_", "\\", "US", "us", "true", "no", "yes", "1e3", "007", "12", "-0.5", ".5",
    "5.", "12.5", "200", " 12", "a@acme.com", "b@GMAIL.com", "c@eu.rival.io", "d@uni.edu", "x@",
    "@y", "a@b@rival.io", "/pricing", "/PRICING/teams", "ünï", "0", "n/a",
)  # fmt: skip
REGEXES = (
    "^a",
    "com$",
    r"\bvp\b",
    "[0-9]+",
    "a|é",
    r"\d{2}",
    r"\.edu$",
    "(?:x|y)z",
    r"^\S+$",
    "[[:alpha:]]{3}",
    r"o'b",
)
NUMBERS = (0, 1, 5, 12, 12.5, 200, 1000, -3, 0.5)
ACCOUNT_EVENT = 5  # an event's drawn lead from here on: an account-level event (issue #16)

field_st = st.sampled_from(FIELDS)
prop_st = st.sampled_from(PROPS)
scalar_st = st.one_of(st.sampled_from(TEXTS), st.sampled_from(NUMBERS), st.booleans())


def _op(value_field: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    text = st.sampled_from(TEXTS).filter(bool)
    ops = st.one_of(
        st.builds(lambda v: {"eq": v}, scalar_st),
        st.builds(lambda v: {"ne": v}, scalar_st),
        st.builds(lambda v: {"in": v}, st.lists(scalar_st, min_size=1, max_size=3)),
        st.builds(lambda v: {"not_in": v}, st.lists(scalar_st, min_size=1, max_size=3)),
        st.builds(lambda o, v: {o: v}, st.sampled_from(["gt", "gte", "lt", "lte"]), st.sampled_from(NUMBERS)),
        st.builds(lambda a, b: {"between": sorted([a, b])}, st.sampled_from(NUMBERS), st.sampled_from(NUMBERS)),
        st.builds(lambda o, v: {o: v}, st.sampled_from(["contains", "not_contains", "starts_with", "ends_with"]), text),
        st.builds(lambda v: {"matches": v}, st.sampled_from(REGEXES)),
        st.builds(lambda v: {"domain_matches": v}, st.sampled_from(REGEXES)),
        st.builds(lambda v: {"exists": v}, st.booleans()),
        st.builds(lambda v: {"domain_in": v}, st.lists(st.sampled_from(["rival.io", "acme.com", "gmail.com", "b@rival.io"]), min_size=1, max_size=2)),
        st.builds(lambda o, v: {o: v}, st.sampled_from(["free_email", "not_free_email"]), st.booleans()),
    )  # fmt: skip
    return st.builds(lambda f, o: {f: o}, value_field, ops)


def conditions(value_field: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        _op(value_field),
        lambda inner: st.one_of(
            st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda x: {"not": x}, inner),
        ),
        max_leaves=4,
    )


when_st = conditions(field_st)
where_st = conditions(prop_st)
days_st = st.sampled_from([0.5, 1, 3, 7, 30, 90])
types_st = st.one_of(
    st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True)
)


def _opt(key: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), strategy.map(lambda v: {key: v}))


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in parts:
        out.update(p)
    return out


plain_count_st = st.builds(
    lambda t, w, d, lo, hi: _merge({"type": t}, w, d, {"min_count": lo}, hi),
    types_st, _opt("where", where_st), _opt("within_days", days_st), st.integers(0, 3),
    _opt("max_count", st.integers(3, 6)),
)  # fmt: skip
# Measures: "qty" is numeric (or absent) in every event, so a sum never meets a non-number.
MEASURES = (
    "count", "distinct_days", {"sum": "qty"}, {"distinct": "url"}, {"distinct": "amount"},
    {"distinct": "lead_id"},
)  # fmt: skip
measured_st = st.builds(
    lambda t, w, d, m, lo, hi, sc: _merge({"type": t, "measure": m}, w, d, lo, hi, sc),
    types_st, _opt("where", where_st), _opt("within_days", days_st), st.sampled_from(MEASURES),
    _opt("min", st.sampled_from([0, 1, 2, 3, 12.5])), _opt("max", st.sampled_from([3, 4, 200])),
    _opt("scope", st.sampled_from(["account", "lead"])),
).filter(lambda c: c.get("min", 1) <= c.get("max", 1e9))  # fmt: skip
count_st = st.one_of(plain_count_st, measured_st)
profile_rule = st.builds(
    lambda w, p: {"when": w, "points": p}, when_st, st.sampled_from([5, 10, -7, 2.5, 0])
)
event_rule = st.builds(
    lambda e, w, d, h, mp, mc, p: _merge({"event": e, "points": p}, w, d, h, mp, mc),
    types_st, _opt("where", where_st), _opt("within_days", days_st), _opt("half_life_days", days_st),
    _opt("max_points", st.sampled_from([5, 12.5, 30])), _opt("max_count", st.integers(1, 3)),
    st.sampled_from([3, 10, -4, 0.7]),
)  # fmt: skip
per_unit_rule = st.builds(
    lambda e, w, d, h, mp, p: _merge({"event": e, "points": p, "points_per": "qty"}, w, d, h, mp),
    types_st, _opt("where", where_st), _opt("within_days", days_st), _opt("half_life_days", days_st),
    _opt("max_points", st.sampled_from([5, 12.5, 30])), st.sampled_from([2, -0.5]),
)  # fmt: skip
count_rule = st.builds(lambda c, p: {"events": c, "points": p}, count_st, st.sampled_from([8, -5]))
rule_st = st.one_of(profile_rule, event_rule, count_rule, per_unit_rule)
DIM_NAMES = ("fit", "engagement", 'we"ird dim', "intent; DROP TABLE x", "ünï")
check_st = st.builds(
    lambda n, w, e: _merge({"name": n}, w, e) if (w or e) else {"name": n, "when": {"title": {"exists": True}}},
    st.sampled_from(["business email", "o'reilly; --", "ünï"]), _opt("when", when_st), _opt("events", count_st),
)  # fmt: skip


def pql_st(dims: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A PQL block: signals of any measure and scope, gates on scores, profile or events."""
    score_gate = st.builds(
        lambda d, v: {"name": "fit floor", "when": {f"score.{d}": {"gte": v}}},
        st.sampled_from([*dims, "total"]), st.sampled_from([0, 5, 20]),
    )  # fmt: skip
    signals = st.lists(count_st, min_size=1, max_size=3).map(
        lambda cs: [{"name": f"s{i} o'brien;", "events": c} for i, c in enumerate(cs)]
    )
    return st.builds(
        lambda sigs, k, gates: {
            "signals": sigs, "min_signals": min(k, len(sigs)), "require": gates,
        },
        signals, st.integers(1, 2), st.lists(st.one_of(score_gate, check_st), max_size=2),
    )  # fmt: skip


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    """A random model as a dict (name/version default in ``factories.model_text``)."""
    dims: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(DIM_NAMES), min_size=1, max_size=3, unique=True)):
        rules = draw(st.lists(rule_st, max_size=4))
        dim = _merge(
            {"rules": [{"name": f"r{i} '\"", **r} for i, r in enumerate(rules)]},
            draw(_opt("max", st.sampled_from([10, 25]))), draw(_opt("min", st.sampled_from([-5, 0]))),
            draw(_opt("half_life_days", days_st)), draw(_opt("within_days", days_st)),
        )  # fmt: skip
        dims[name] = dim
    floors = draw(
        st.dictionaries(st.sampled_from(list(dims)), st.sampled_from([0, 5, 10]), max_size=2)
    )
    segments = [
        _merge(
            {"name": name, "when": draw(when_st)},
            draw(_opt("threshold", st.sampled_from([0, 5, 20]))),
            draw(
                _opt(
                    "floors",
                    st.dictionaries(
                        st.sampled_from(list(dims)), st.sampled_from([1, 8]), max_size=1
                    ),
                )
            ),
            draw(_opt("require", st.lists(check_st, max_size=1))),
            draw(_opt("disqualify", st.lists(check_st, max_size=1))),
        )
        for name in draw(
            st.lists(st.sampled_from(["enterprise", "o'brien; --", "ünï"]), max_size=2, unique=True)
        )
    ]
    out = _merge(
        {"threshold": draw(st.sampled_from([0, 10, 15, 30])), "dimensions": dims, "floors": floors},
        {"require": draw(st.lists(check_st, max_size=2))},
        {"disqualify": draw(st.lists(check_st, max_size=1))},
        {"segments": segments} if segments else {},
    )
    if draw(st.booleans()):
        out["pql"] = draw(pql_st(list(dims)))
    # check names are unique within a list (the loader says so); keep them hostile but distinct
    for holder in (out, *segments, out.get("pql", {})):
        for key in ("require", "disqualify"):
            for i, chk in enumerate(holder.get(key) or []):
                chk["name"] = f"{chk['name']} {i}"
    return out


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


profile_st = st.dictionaries(
    field_st, st.one_of(st.sampled_from(TEXTS), st.sampled_from(NUMBERS)), max_size=6
)
event_st = st.tuples(
    st.integers(0, 6),  # lead; 5 and 6: an account-level event of account A0 or A1 (no lead)
    st.sampled_from(TYPES),
    # seconds before AS_OFS[0]; whole days apart often, so events fall either side of midnight
    st.one_of(
        st.integers(-3 * 86400, 120 * 86400),
        st.builds(lambda d, s: d * 86400 + s, st.integers(-1, 10), st.sampled_from([-1, 0, 1])),
    ),
    st.sampled_from([0, 250000, 999999]),  # microseconds
    st.builds(
        lambda props, qty: {**props, **qty},
        st.dictionaries(
            prop_st, st.one_of(st.sampled_from(TEXTS), st.sampled_from(NUMBERS)), max_size=3
        ),
        _opt("qty", st.sampled_from(NUMBERS)),
    ),
)
inputs_st = st.tuples(st.lists(profile_st, min_size=1, max_size=5), st.lists(event_st, max_size=25))


def write_inputs(
    folder: Path, profiles: list[dict[str, Any]], events: list[Any]
) -> tuple[Path, Path]:
    """leads.csv and events.csv for the drawn inputs (every field a column; '' is missing)."""
    leads, evs = folder / "leads.csv", folder / "events.csv"
    # Only fields some lead has become columns: a field no file has must act as missing.
    fields = [f for f in FIELDS if any(f in p for p in profiles)]
    props_used = [f for f in EVENT_PROPS if any(f in e[4] for e in events)]
    # an account_id column only when some event is account-level: the files without one keep
    # the SQL engines' per-lead sums of account measures covered (sql_events.summed)
    with_accounts = any(e[0] >= ACCOUNT_EVENT for e in events)
    with leads.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_id", "account_id", *fields])
        for i, p in enumerate(profiles):
            # two accounts of two leads each, the fifth lead alone (scope: account)
            account = f"A{i // 2}" if i < 4 else ""
            w.writerow([f"L{i}", account, *(_cell(p.get(f)) for f in fields)])
    with evs.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        owner = ["account_id"] if with_accounts else []
        w.writerow(["event_id", "lead_id", *owner, "type", "timestamp", *props_used])
        for j, (lead, type_, secs, micros, props) in enumerate(events):
            ts = AS_OFS[0] - timedelta(seconds=secs, microseconds=micros)
            stamp = ts.isoformat().replace("+00:00", "Z")
            if lead >= ACCOUNT_EVENT:
                who = ["", f"A{lead - ACCOUNT_EVENT}"]
            else:
                who = [f"L{lead % max(1, len(profiles))}", *([""] if with_accounts else [])]
            w.writerow([f"e{j}", *who, type_, stamp, *(_cell(props.get(f)) for f in props_used)])
    return leads, evs


def write_model(folder: Path, model: dict[str, Any]) -> Path:
    path = folder / "model.yaml"
    path.write_text(model_text(model), encoding="utf-8")
    return path


def sql_engines() -> list[str]:
    """The SQL engines every run has; PostgreSQL and Spark have their own marked test files."""
    return ["duckdb", "sqlite"]


def assert_agree(expected: list[dict[str, Any]], got: list[dict[str, Any]], engine: str) -> None:
    """Same leads, segments, MQL flags and reasons; scores and totals within 1e-9."""
    assert [r["lead_id"] for r in got] == [r["lead_id"] for r in expected], engine
    for a, b in zip(expected, got, strict=True):
        where = f"{engine}: lead {a['lead_id']}"
        assert b["segment"] == a["segment"], where
        assert b["mql"] == a["mql"], where
        assert (b["pql"], b["pql_signals"]) == (a["pql"], a["pql_signals"]), where
        assert abs(b["total"] - a["total"]) <= 1e-9, (where, a["total"], b["total"])
        for dim, value in a["scores"].items():
            assert abs(b["scores"][dim] - value) <= 1e-9, (where, dim, value, b["scores"][dim])
        # "fit floor 20: short by 3.5": compare what is lacking (the amounts are checked above)
        assert [m.split(":")[0] for m in b["missing"]] == [m.split(":")[0] for m in a["missing"]], (
            where
        )
        assert b["threshold"] == a["threshold"] and b["model"] == a["model"], where


@st.composite
def measure_models(draw: st.DrawFn) -> dict[str, Any]:
    """A model of measured count rules, per-unit event rules and a PQL block only: denser in
    measures, bounds and scopes than ``models``."""
    rules = draw(
        st.lists(
            st.one_of(st.builds(lambda c: {"events": c, "points": 8}, measured_st), per_unit_rule),
            min_size=1,
            max_size=4,
        )
    )
    model: dict[str, Any] = {
        "threshold": draw(st.sampled_from([0, 10, 20])),
        "dimensions": {"usage": {"rules": [{"name": f"r{i}", **r} for i, r in enumerate(rules)]}},
        "pql": draw(pql_st(["usage"])),
    }
    for i, chk in enumerate(model["pql"]["require"]):
        chk["name"] = f"{chk['name']} {i}"
    return model
