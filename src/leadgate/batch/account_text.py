"""Account records as the text ``leadgate accounts score`` writes, built by DuckDB: JSONL lines,
CSV rows and the flat Parquet columns, byte for byte what ``io.writers`` makes of
``AccountScore.to_record()`` (``engine/accounts_result.ACCOUNT_RECORD``).

Mapping every account row back to an ``AccountScore`` in Python cost more than the account
query itself (docs/performance.md, "Accounts"); here the database writes the records and the
Python mapping stays for ``explain`` and the table. The SQL reads one row per account: the
account query's columns (``engine/accounts_sql.account_query``: ``lead_id`` is the account id,
``check_<key>``, ``acc_score_<i>``, ``acc_total``, ``acc_met_*``, ``role_filled_<i>``,
``acc_completeness``, ``segment_index``) and, per role ``i``, ``jm_<i>``: the JSON texts of its
members' ids joined by ", " in id order (``role_members_sql``), NULL when it has none.

The verdict is read as ``accounts_qualify.qualify_account`` reads it from those columns (a NULL
flag is false, as Python's ``bool(None)``); lack texts are ``Lack.__str__``'s, the numbers in them
``records.num_text_sql``. Two facts beyond ``record_text``'s: the completeness, rounded to 4
decimals by Python's ``round``, is DuckDB's ``printf('%.4f')`` read back as a double (both round
the exact binary value; tested on ties such as 0.03125); and the flat formats hold the buying
group as ``json.dumps(sort_keys=True)`` text, which escapes non-ASCII (``ensure_ascii``), so
``members_ascii`` tells the caller when a member id needs the Python writer instead.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlglot import exp

from leadgate.batch.record_text import csv_field_sql, json_text_sql, number_sql, text_pieces
from leadgate.batch.records import lack_text_sql, literal_sql, num_text_sql, sql_call
from leadgate.engine.accounts_ir import ABM_SEGMENT, AccountPlan
from leadgate.engine.accounts_qualify import policy_of
from leadgate.engine.accounts_result import ACCOUNT_RECORD
from leadgate.engine.event import as_utc
from leadgate.engine.qualify import requirements
from leadgate.engine.record_spec import FIELDS, LIST_SEPARATOR, Kind
from leadgate.engine.result import shortfall_text

Text = list[str | exp.Expression]  # literal pieces and SQL text pieces, concatenated


def _lit(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def _col(name: str) -> exp.Expression:
    return exp.column(name)


def _flag(name: str) -> exp.Expression:
    """A boolean column as Python's ``bool(value)`` reads it: NULL is false."""
    return exp.Coalesce(this=exp.cast(_col(name), "boolean"), expressions=[exp.false()])


def _double(name: str) -> exp.Expression:
    """A number column as ``accounts_runner._f`` reads it: NULL is 0.0."""
    return exp.Coalesce(
        this=exp.cast(_col(name), "double"), expressions=[literal_sql(Kind.NUMBER, 0.0)]
    )


def _not(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.paren(e, copy=False))


def _filled(i: int) -> exp.Expression:
    """Role ``i``'s engaged leads, as ``int(row["role_filled_<i>"] or 0)``."""
    return exp.Coalesce(
        this=exp.cast(_col(f"role_filled_{i}"), "bigint"), expressions=[exp.Literal.number(0)]
    )


def lacks(plan: AccountPlan) -> list[tuple[exp.Expression, Text]]:
    """(condition, text) of every lack an account may have, in ``qualify_account``'s order:
    disqualifiers, gates, floors, the roles short of their count (when the completeness bar is
    missed), the threshold."""
    index = {d.name: i for i, d in enumerate(plan.dimensions)}
    out: list[tuple[exp.Expression, Text]] = []
    roles: list[tuple[exp.Expression, Text]] = []
    group = plan.buying_group
    if group is not None and group.min_completeness is not None:
        missed = _not(_flag("acc_met_completeness"))
        for i, role in enumerate(group.roles):
            short = exp.LT(this=_filled(i), expression=exp.Literal.number(role.required))
            text: Text = [f"role {role.name}: ", exp.cast(_filled(i), "varchar"),
                          f" of {role.required} engaged"]  # fmt: skip
            roles.append((exp.And(this=missed.copy(), expression=short), text))
    for req in requirements(plan.base, policy_of(plan)):
        if req.kind == "disqualified":
            out.append((_flag(f"check_{req.key}"), [str(req.lack())]))
            continue
        if req.kind == "gate":
            out.append((_not(_flag(f"check_{req.key}")), [str(req.lack())]))
            continue
        assert req.need is not None
        if req.kind == "threshold":
            out += roles
            met, value = "acc_met_total", _double("acc_total")
        else:
            i = index[req.key]
            met, value = f"acc_met_floor_{i}", _double(f"acc_score_{i}")
        before, after = shortfall_text(req.kind, req.name, req.need)
        short_by = exp.Sub(this=literal_sql(Kind.NUMBER, req.need), expression=value)
        out.append(
            (_not(_flag(met)), [before, num_text_sql(short_by), *([after] if after else [])])
        )
    return out


def mqa_sql(plan: AccountPlan) -> exp.Expression:
    """The record's ``mqa``: the account lacks nothing."""
    conds = [cond for cond, _ in lacks(plan)]
    anyone = conds[0]
    for cond in conds[1:]:
        anyone = exp.Or(this=anyone, expression=cond)
    return _not(anyone)


def _abm(plan: AccountPlan) -> exp.Expression:
    names = [s.name for s in plan.base.segments]
    if ABM_SEGMENT not in names:
        return exp.false()
    at = exp.EQ(this=_col("segment_index"), expression=exp.Literal.number(names.index(ABM_SEGMENT)))
    return exp.Coalesce(this=at, expressions=[exp.false()])


def _missing(plan: AccountPlan, *, json_text: bool) -> exp.Expression:
    """The lack texts joined: the items of a JSON list, or ``flat_record``'s "; " join.
    ``concat_ws`` skips the NULL of every lack the account does not have."""
    items = []
    for cond, text in lacks(plan):
        if json_text:  # model text escaped here; the numbers between need no escaping
            text = ['"', *(json.dumps(p, ensure_ascii=False)[1:-1] if isinstance(p, str) else p
                           for p in text), '"']  # fmt: skip
        items.append(exp.Case(ifs=[exp.If(this=cond, true=lack_text_sql(text))]))
    return sql_call("concat_ws", _lit(", " if json_text else LIST_SEPARATOR), *items)


def _completeness() -> exp.Expression:
    """``round(completeness, 4)`` as JSON writes it."""
    rounded = sql_call("printf", _lit("%.4f"), exp.cast(_col("acc_completeness"), "double"))
    return number_sql(exp.cast(rounded, "double"), json_text=True)


def _members(i: int) -> Text:
    return ["[", exp.Coalesce(this=_col(f"jm_{i}"), expressions=[_lit("")]), "]"]


def _group(plan: AccountPlan, *, flat: bool) -> Text:
    """``buying_group``: as the JSONL record has it (``group_record``'s key order), or as
    ``flat_record`` writes it (``json.dumps(sort_keys=True)``)."""
    group = plan.buying_group
    if group is None:
        return [json.dumps({"completeness": None, "roles": {}}, sort_keys=flat)]
    roles = list(enumerate(group.roles))
    if flat:
        roles.sort(key=lambda pair: pair[1].name)
    out: Text = ['{"completeness": ', _completeness(), ', "roles": {']
    for n, (i, role) in enumerate(roles):
        name = json.dumps(role.name, ensure_ascii=flat)
        filled = exp.cast(_filled(i), "varchar")
        required = json.dumps(role.required)
        out.append((", " if n else "") + name + ": {")
        if flat:
            out += [
                '"filled": ',
                filled,
                ', "members": ',
                *_members(i),
                f', "required": {required}}}',
            ]
        else:
            out += [
                '"filled": ',
                filled,
                f', "required": {required}, "members": ',
                *_members(i),
                "}",
            ]
    return [*out, "}}"]


def _values(plan: AccountPlan, as_of: datetime) -> dict[str, Any]:
    return {
        "account_id": exp.cast(_col("lead_id"), "varchar"),
        "scores": [(d.name, _double(f"acc_score_{i}")) for i, d in enumerate(plan.dimensions)],
        "total": _double("acc_total"),
        "mqa": mqa_sql(plan),
        "abm": _abm(plan),
        "threshold": plan.threshold,
        "as_of": as_utc(as_of).isoformat(),
        "model": plan.identity(),
    }


def _bool(value: exp.Expression, true: str, false: str) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=value, true=_lit(true))], default=_lit(false))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def jsonl_line_sql(plan: AccountPlan, as_of: datetime) -> exp.Expression:
    """One account's JSONL line (no newline): ``json.dumps(record, ensure_ascii=False)``."""
    v = _values(plan, as_of)
    by_field: dict[str, Text] = {
        "account_id": [json_text_sql(v["account_id"])],
        "total": [number_sql(v["total"], json_text=True)],
        "mqa": [_bool(v["mqa"], "true", "false")],
        "abm": [_bool(v["abm"], "true", "false")],
        "missing": ["[", _missing(plan, json_text=True), "]"],
        "buying_group": _group(plan, flat=False),
        "threshold": [_dumps(v["threshold"])],
        "as_of": [_dumps(v["as_of"])],
        "model": [_dumps(v["model"])],
    }
    scores: Text = ["{"]
    for n, (name, value) in enumerate(v["scores"]):
        scores += [(", " if n else "") + _dumps(name) + ": ", number_sql(value, json_text=True)]
    by_field["scores"] = [*scores, "}"]
    parts: Text = ["{"]
    for n, name in enumerate(ACCOUNT_RECORD):
        parts += [(", " if n else "") + _dumps(name) + ": ", *by_field[name]]
    return text_pieces([*parts, "}"])


def flat_values_sql(plan: AccountPlan, as_of: datetime) -> list[tuple[str, exp.Expression, str]]:
    """``flat_record``'s columns of the account record: (name, value, kind: text, number or
    bool), in its order."""
    v = _values(plan, as_of)
    model = FIELDS["model"].flat_prefix
    score = FIELDS["scores"].flat_prefix
    cols: list[tuple[str, exp.Expression, str]] = [("account_id", v["account_id"], "text")]
    cols += [(score + name, value, "number") for name, value in v["scores"]]
    cols += [
        ("total", v["total"], "number"),
        ("mqa", v["mqa"], "bool"),
        ("abm", v["abm"], "bool"),
        ("missing", _missing(plan, json_text=False), "text"),
        ("buying_group", text_pieces(_group(plan, flat=True)), "text"),
        ("threshold", literal_sql(Kind.NUMBER, v["threshold"]), "number"),
        ("as_of", _lit(v["as_of"]), "text"),
    ]
    cols += [(model + k, _lit(text), "text") for k, text in v["model"].items()]
    names = [name for name, _, _ in cols]
    assert len(set(names)) == len(names), names  # flat_record would merge them
    return cols


def csv_header(plan: AccountPlan, as_of: datetime) -> str:
    """The header ``csv.DictWriter.writeheader`` writes (line end included)."""
    buf = io.StringIO()
    csv.writer(buf).writerow([name for name, _, _ in flat_values_sql(plan, as_of)])
    return buf.getvalue()


def csv_line_sql(plan: AccountPlan, as_of: datetime) -> exp.Expression:
    """One account's CSV row (no line end), as ``csv.DictWriter`` writes ``flat_record``."""
    parts: Text = []
    for n, (_, value, kind) in enumerate(flat_values_sql(plan, as_of)):
        if n:
            parts.append(",")
        if kind == "bool":
            parts.append(_bool(value, "True", "False"))
        elif kind == "number":
            parts.append(number_sql(value, json_text=False))
        else:
            parts.append(csv_field_sql(value))
    return text_pieces(parts)


def role_members_sql(plan: AccountPlan, members: str) -> str:
    """Per account (``acct``): each role's members as JSON texts joined by ", " in id order
    (``jm_<i>``), and whether every member id is ASCII (``members_ascii``); over the members
    query's rows (``members``: a table or a parenthesised query)."""
    lead_id = exp.cast(_col("lead_id"), "varchar")
    cols: list[exp.Expr] = [_col("acct")]
    group = plan.buying_group
    for i, _ in enumerate(group.roles if group is not None else ()):
        agg = exp.GroupConcat(
            this=exp.Order(
                this=json_text_sql(lead_id), expressions=[exp.Ordered(this=lead_id.copy())]
            ),
            separator=_lit(", "),
        )
        fills = exp.And(
            this=exp.EQ(this=_col("role_ix"), expression=exp.Literal.number(i)),
            expression=_flag("engaged"),
        )
        cols.append(exp.alias_(exp.Filter(this=agg, expression=exp.Where(this=fills)), f"jm_{i}"))
    # UTF-8 bytes = characters: ASCII only.
    ascii_only = exp.EQ(
        this=sql_call("strlen", lead_id.copy()), expression=sql_call("length", lead_id.copy())
    )
    cols.append(exp.alias_(sql_call("bool_and", ascii_only), "members_ascii"))
    return (
        exp.select(*cols).from_(exp.maybe_parse(members, dialect="duckdb")).group_by(_col("acct"))
    ).sql("duckdb")


def role_columns(plan: AccountPlan) -> Sequence[str]:
    """The columns ``role_members_sql`` adds to an account's row."""
    group = plan.buying_group
    return [f"jm_{i}" for i, _ in enumerate(group.roles if group is not None else ())]
