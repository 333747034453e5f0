"""Conditions (``ir.Cond``) and the value semantics they rest on, as sqlglot expressions.

docs/semantics.md "Values" and "Operators" are the contract, ``engine/python.py`` the reference.
A ``ValueScope`` stands for one input table (the leads, or the events' properties). Conditions
read *slots* of it: ``t`` (the value's text, NULL when missing), ``n`` (its number), ``f`` (folded
text) and ``d`` (folded email domain). The scope remembers which slots were used and projects
exactly those, once, in a CTE (``ValueScope.projections``), so each field is parsed once per row.

Invariant 6: a field name reaches SQL only as a quoted identifier (resolved against the input's
real columns, exactly, so a missing column is NULL and never an error) and a value only as a
literal. Every test is coalesced to FALSE before ``not``/``all``/``any`` see it, so SQL's
three-valued logic cannot disagree with "a missing value matches no test".
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql_regex import literal_pattern
from leadgate.engine.targets import SqlTarget, cast

# How a column holds its values; the text and number of a value follow from it.
TEXT, NUMBER, BOOLEAN = "text", "number", "boolean"
COLUMN_KINDS = (TEXT, NUMBER, BOOLEAN)


def alias(e: exp.Expression, name: str | exp.Identifier) -> exp.Expression:
    """``e AS name`` without copying ``e``."""
    return typing.cast(exp.Expression, exp.alias_(e, name, copy=False))


def lit(value: str) -> exp.Literal:
    """A text literal (sqlglot escapes quotes and backslashes per dialect)."""
    return exp.Literal.string(value)


def num(value: float) -> exp.Expression:
    """A numeric literal, always typed as a double so engines do not pick DECIMAL arithmetic."""
    return cast(exp.Literal.number(repr(float(value))), "double")


def coalesce_false(e: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=e, expressions=[exp.false()])


def and_all(items: list[exp.Expression]) -> exp.Expression:
    """Conjunction (TRUE when empty); sqlglot adds the parentheses precedence needs."""
    return typing.cast(exp.Expression, exp.and_(*items, copy=False)) if items else exp.true()


def or_any(items: list[exp.Expression]) -> exp.Expression:
    """Disjunction (FALSE when empty)."""
    return typing.cast(exp.Expression, exp.or_(*items, copy=False)) if items else exp.false()


def equals_any(x: exp.Expression, values: Sequence[str]) -> exp.Expression:
    """``x`` equals one of ``values`` (text literals): ``x = a OR x = b ...``, the same truth
    (and NULL) as ``x IN (a, b, ...)``. DuckDB runs a short chain of equalities several times
    faster than IN (about 5x for the one-element lists of an event rule's type test), which is
    the query's most repeated test: one per event and event filter."""
    tests: list[exp.Expression] = [exp.EQ(this=x.copy(), expression=lit(v)) for v in values]
    return or_any(tests) if len(tests) <= 1 else exp.paren(or_any(tests), copy=False)


def case(
    ifs: Sequence[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None
) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in ifs], default=default)


def _length(x: exp.Expression) -> exp.Expression:
    return exp.Length(this=x)


def ends_with(x: exp.Expression, suffix: str) -> exp.Expression:
    """``x`` ends with ``suffix`` (code points), without LIKE wildcards or engine-specific calls."""
    n = len(suffix)
    start = exp.Add(
        this=exp.Sub(this=_length(x.copy()), expression=exp.Literal.number(n)),
        expression=exp.Literal.number(1),
    )
    return exp.And(
        this=exp.GTE(this=_length(x.copy()), expression=exp.Literal.number(n)),
        expression=exp.EQ(this=exp.Substring(this=x, start=start), expression=lit(suffix)),
    )


_REGEX_SPECIAL = set("\\.^$|?*+()[]{}-")


def _suffix_regex(d: exp.Expression, domains: tuple[str, ...]) -> exp.Expression:
    """One RE2 search, case-sensitive (``d`` and ``domains`` are folded already)."""
    escaped = ("".join("\\" + c if c in _REGEX_SPECIAL else c for c in x) for x in domains)
    pattern = "(?:^|\\.)(?:" + "|".join(escaped) + ")$"
    return exp.RegexpLike(this=d, expression=lit(pattern))


# Up to this many domains, ``SqlTarget.literal_calls`` tests each with one ``suffix`` call rather
# than one RE2 search for them all (DuckDB, 1M domains: 0.03 against 0.08 CPU-s for one domain).
_FEW_DOMAINS = 3


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _literal_test(d: exp.Expression, text: str, at_start: bool, at_end: bool) -> exp.Expression:
    """``d`` (ASCII-folded) holds ``text`` where ``literal_pattern``'s anchors say; byte-wise
    calls are exact because ``text`` is ASCII, whose bytes only ever encode themselves."""
    if at_start and at_end:
        return exp.EQ(this=d, expression=lit(text))
    name = "prefix" if at_start else "suffix" if at_end else "contains"
    return _call(name, d, lit(text))


def _suffix_in(
    d: exp.Expression, domains: tuple[str, ...], target: SqlTarget | None = None
) -> exp.Expression:
    """``d`` is one of ``domains`` or a subdomain of one: equality, then one IN per suffix length.

    Grouping the '.domain' suffixes by length turns 130 free-mail providers into about a dozen
    hashed IN tests instead of 130 string scans per row.
    """
    if target is not None and target.literal_calls and len(domains) <= _FEW_DOMAINS:
        # A '.'-led byte suffix of UTF-8 text starts on a character: '.' is one byte.
        equal = exp.In(this=d.copy(), expressions=[lit(x) for x in domains])
        return or_any([equal, *(_call("suffix", d.copy(), lit("." + x)) for x in domains)])
    if target is not None and target.domain_regex:
        return _suffix_regex(d, domains)
    parts: list[exp.Expression] = [exp.In(this=d.copy(), expressions=[lit(x) for x in domains])]
    by_length: dict[int, list[str]] = {}
    for x in domains:
        by_length.setdefault(len(x) + 1, []).append("." + x)
    for n, suffixes in sorted(by_length.items()):
        start = exp.Add(
            this=exp.Sub(this=_length(d.copy()), expression=exp.Literal.number(n)),
            expression=exp.Literal.number(1),
        )
        long_enough = exp.GTE(this=_length(d.copy()), expression=exp.Literal.number(n))
        tail = case([(long_enough, exp.Substring(this=d.copy(), start=start))])
        parts.append(exp.In(this=tail, expressions=[lit(s) for s in suffixes]))
    return or_any(parts)


@dataclass
class ValueScope:
    """The fields of one input table that conditions read, and the slot columns they need.

    Args:
        target: the SQL engine.
        table: alias of the input table in the projecting query.
        prefix: prefix of the slot aliases ("p" for the profile, "e" for event properties).
        kinds: column name -> ``text``/``number``/``boolean`` for the columns the input really
            has, or None to assume every named field is a column (printing a query for a
            warehouse: values are then read generically as text).
        hidden: names that are never fields (the events' own columns: id, lead, type, time).
        renames: field -> physical column name, where the loader stored it under another name.
        inline: slots are not projected: ``slot`` returns the slot's expression itself, over the
            field's raw value projected once as ``<prefix><index>_r`` (``raw_projections``). The
            event flags use this so that a property is folded or parsed only inside the CASE
            branch of the event types that test it, not for every event.
        owner: (field, lead column): the field reads as missing on a row whose lead column is
            NULL. An account-level event's ``account_id`` names its owner and is not one of its
            properties (``io.account_events``), while a lead event's ``account_id`` is.
    """

    target: SqlTarget
    table: str
    prefix: str
    kinds: Mapping[str, str] | None
    hidden: frozenset[str] = frozenset()
    renames: Mapping[str, str] = field(default_factory=dict)
    inline: bool = False
    owner: tuple[str, str] | None = None
    slots: dict[str, int] = field(default_factory=dict)
    used: dict[tuple[int, str], None] = field(default_factory=dict)

    def slot(self, name: str, kind: str) -> exp.Expression:
        """The column holding slot ``kind`` (t, n, f, d) of field ``name``; marks it used.

        With ``inline``, the slot's expression over the field's raw column instead.
        """
        index = self.slots.setdefault(name, len(self.slots))
        self.used[(index, kind)] = None
        if self.inline:
            return self._slot_expr(name, kind)
        return exp.column(f"{self.prefix}{index}_{kind}")

    def kind_of(self, name: str) -> str | None:
        """How the input holds field ``name`` (None: no such column, or never a field)."""
        return self._kind(name)

    def _kind(self, name: str) -> str | None:
        if name in self.hidden:
            return None
        if self.kinds is None:
            return TEXT
        return self.kinds.get(name)

    def _physical(self, name: str) -> exp.Expression:
        physical = self.renames.get(name, name)
        column = exp.column(exp.to_identifier(physical, quoted=True), table=self.table)
        if self.owner is None or name != self.owner[0]:
            return column
        lead = exp.column(exp.to_identifier(self.owner[1], quoted=True), table=self.table)
        return exp.If(this=exp.Is(this=lead, expression=exp.Null()), true=exp.Null(), false=column)

    def _raw(self, name: str) -> exp.Expression:
        if self.inline:
            return exp.column(f"{self.prefix}{self.slots[name]}_r")
        return self._physical(name)

    def text_expr(self, name: str) -> exp.Expression:
        """The value's text (docs/semantics.md "Text"), NULL when missing."""
        kind, col = self._kind(name), self._raw(name)
        if kind == TEXT:
            return exp.Nullif(this=cast(col, "text"), expression=lit(""))
        if kind == NUMBER:
            return cast(col, "text")
        if kind == BOOLEAN:
            return case([(col, lit("true")), (exp.Not(this=col.copy()), lit("false"))])
        return cast(exp.Null(), "text")  # typed, or PostgreSQL infers text where a number goes

    def number_expr(self, name: str) -> exp.Expression:
        """The value as a number: numbers as they are, text only when it matches NUMBER_PATTERN."""
        kind, col = self._kind(name), self._raw(name)
        if kind == NUMBER:
            return cast(col, "double")
        if kind != TEXT:
            return cast(exp.Null(), "double")
        text = self.text_expr(name)
        ifs = [(self.target.regex(text, ir.NUMBER_PATTERN), cast(text.copy(), "double"))]
        if self.target.dynamic_types:
            # SQLite: a cell stored as a number is a number whatever its text looks like.
            typeof = exp.Anonymous(this="typeof", expressions=[col])
            numeric = exp.In(this=typeof, expressions=[lit("integer"), lit("real")])
            ifs.insert(0, (numeric, cast(col.copy(), "double")))
        return case(ifs)

    def domain_expr(self, name: str) -> exp.Expression:
        """Folded text after the last '@'; NULL without an '@' or with nothing after it."""
        # Folding first, then cutting: the same text (folding never touches '@'), but one fold
        # of the whole address instead of one per use of the cut part (DuckDB's fold names its
        # argument three times).
        folded = self.target.fold(self.text_expr(name))
        last = self.target.after_last_at(folded.copy())
        # Without an '@', "after the last '@'" is the whole text (every target's after_last_at),
        # so NULLIF against the whole text makes it NULL; with one, what follows it is shorter
        # than the text, never equal. No CASE: DuckDB ran the CASE form 2.5x slower (0.40 against
        # 0.16 CPU-s for 1M addresses; engines share the folded text between the two uses).
        return exp.Nullif(this=exp.Nullif(this=last, expression=folded), expression=lit(""))

    def _slot_expr(self, name: str, kind: str) -> exp.Expression:
        if kind == "t":
            return self.text_expr(name)
        if kind == "n":
            return self.number_expr(name)
        if kind == "f":
            return self.target.fold(self.text_expr(name))
        return self.domain_expr(name)

    def projections(self) -> list[exp.Expression]:
        """``<slot expr> AS <slot alias>`` for every slot some condition used."""
        if self.inline:
            return self.raw_projections()
        names = {i: n for n, i in self.slots.items()}
        return [
            alias(self._slot_expr(names[index], kind), f"{self.prefix}{index}_{kind}")
            for index, kind in sorted(self.used, key=lambda k: (k[0], "tnfd".index(k[1])))
        ]

    def raw_projections(self) -> list[exp.Expression]:
        """``<column> AS <prefix><index>_r`` for every field an inline slot reads."""
        return [
            alias(self._physical(name), f"{self.prefix}{index}_r")
            for name, index in self.slots.items()
            if self._kind(name) is not None
        ]


_NUM_CMP = {
    ir.Op.NUM_EQ: exp.EQ, ir.Op.NUM_NE: exp.NEQ, ir.Op.NUM_GT: exp.GT,
    ir.Op.NUM_GTE: exp.GTE, ir.Op.NUM_LT: exp.LT, ir.Op.NUM_LTE: exp.LTE,
}  # fmt: skip
_WORDS = {True: ir.TRUE_WORDS, False: ir.FALSE_WORDS}


def _folded(
    scope: ValueScope, name: str, needles: tuple[str, ...],
    test: typing.Callable[[exp.Expression], exp.Expression],
) -> exp.Expression:  # fmt: skip
    """``test`` on field ``name``'s folded text (the ``f`` slot), which may be NULL when missing.

    Where the target's ``lower()`` is a cheap superset of its fold (``SqlTarget.lower_prefilter``)
    and the field is read inline (an event property, folded per event), the exact test runs only
    on the values that pass ``test`` on ``lower(text)``; the others are FALSE, or NULL when the
    value is missing, as the exact test would be. With ASCII needles that prefilter misses no
    match: a needle's match is ASCII text, which ``lower()`` folds as the fold does, character by
    character (docs/performance.md, #12: the pricing rule's url fold was a fifth of the events
    half on typed times).
    """
    exact = test(scope.slot(name, "f"))
    if not (scope.inline and scope.target.lower_prefilter and all(n.isascii() for n in needles)):
        return exact
    text = scope.slot(name, "t")
    # A text cell is missing when empty (NULLIF(cell, '')); the prefilter and the missing test
    # read the cell itself, so DuckDB copies no NULLIF'd text per event: an empty cell that passes
    # the prefilter reaches the exact test as NULL, which is NULL as a missing value must be.
    cell = text.this if _is_empty_nulled(text) else text
    missing: exp.Expression = exp.Is(this=cell.copy(), expression=exp.Null())
    if cell is not text:
        missing = exp.Or(this=missing, expression=exp.EQ(this=cell.copy(), expression=lit("")))
    return case([(test(exp.Lower(this=cell.copy())), exact), (missing, exp.Null())], exp.false())


def _is_empty_nulled(text: exp.Expression) -> bool:
    """Whether ``text`` is ``NULLIF(x, '')`` (``ValueScope.text_expr`` of a text column)."""
    empty = text.args.get("expression")
    return isinstance(text, exp.Nullif) and isinstance(empty, exp.Literal) and empty.this == ""


def _test_expr(node: ir.Test, scope: ValueScope) -> exp.Expression:
    """One operator on one field; may be NULL when the value is missing (coalesced by caller)."""
    op, arg, f = node.op, node.arg, node.field
    if op in _NUM_CMP:
        test: exp.Expression = _NUM_CMP[op](this=scope.slot(f, "n"), expression=num(arg))  # type: ignore[arg-type,assignment]
        return test
    if op is ir.Op.NUM_BETWEEN:
        low, high = typing.cast(tuple[float, float], arg)
        return exp.Between(this=scope.slot(f, "n"), low=num(low), high=num(high))
    if op in (ir.Op.NUM_IN, ir.Op.NUM_NOT_IN):
        nums = typing.cast(tuple[float, ...], arg)
        test = exp.In(this=scope.slot(f, "n"), expressions=[num(v) for v in nums])
        return test if op is ir.Op.NUM_IN else exp.Not(this=test)
    if op in (ir.Op.TEXT_IN, ir.Op.TEXT_NOT_IN):
        values = tuple(str(v) for v in arg)  # type: ignore[attr-defined]
        test = _folded(
            scope, f, values, lambda x: exp.In(this=x, expressions=[lit(v) for v in values])
        )
        return test if op is ir.Op.TEXT_IN else exp.Not(this=test)
    if op is ir.Op.BOOL_EQ:
        return exp.In(this=scope.slot(f, "f"), expressions=[lit(w) for w in _WORDS[bool(arg)]])
    if op in (ir.Op.CONTAINS, ir.Op.NOT_CONTAINS):
        needle = str(arg)
        found = _folded(
            scope, f, (needle,),
            lambda x: exp.GT(
                this=exp.StrPosition(this=x, substr=lit(needle)), expression=exp.Literal.number(0)
            ),
        )  # fmt: skip
        return found if op is ir.Op.CONTAINS else exp.Not(this=found)
    if op is ir.Op.STARTS_WITH:
        prefix = str(arg)
        return _folded(
            scope, f, (prefix,),
            lambda x: exp.EQ(
                this=exp.Substring(
                    this=x, start=exp.Literal.number(1), length=exp.Literal.number(len(prefix))
                ),
                expression=lit(prefix),
            ),
        )  # fmt: skip
    if op is ir.Op.ENDS_WITH:
        suffix = str(arg)
        return _folded(scope, f, (suffix,), lambda x: ends_with(x, suffix))
    if op is ir.Op.MATCHES:
        return scope.target.regex(scope.slot(f, "t"), str(arg))
    if op is ir.Op.EXISTS:
        t = scope.slot(f, "t")
        return (
            exp.Not(this=exp.Is(this=t, expression=exp.Null()))
            if arg
            else exp.Is(this=t, expression=exp.Null())
        )
    if op is ir.Op.DOMAIN_IN:
        return _suffix_in(scope.slot(f, "d"), tuple(arg), scope.target)  # type: ignore[arg-type]
    if op is ir.Op.DOMAIN_MATCHES:
        literal = literal_pattern(str(arg)) if scope.target.literal_calls else None
        if literal is not None:
            return _literal_test(scope.slot(f, "d"), *literal)
        return scope.target.regex(scope.slot(f, "d"), str(arg))
    if op is ir.Op.FREE_EMAIL:
        want_free, free_list = typing.cast(tuple[bool, tuple[str, ...]], arg)
        d = scope.slot(f, "d")
        is_free = coalesce_false(_suffix_in(d.copy(), tuple(free_list), scope.target))
        present = exp.Not(this=exp.Is(this=d.copy(), expression=exp.Null()))
        return exp.And(this=present, expression=is_free if want_free else exp.Not(this=is_free))
    raise AssertionError(f"operator {op} has no SQL form")


class _Conditions(ir.CondVisitor[exp.Expression]):
    """A condition node -> a boolean expression over one scope's slots."""

    def __init__(self, scope: ValueScope) -> None:
        self.scope = scope

    def visit_Test(self, cond: ir.Test) -> exp.Expression:
        return coalesce_false(_test_expr(cond, self.scope))

    def visit_AllOf(self, cond: ir.AllOf) -> exp.Expression:
        return and_all([ir.visit_cond(c, self) for c in cond.items])

    def visit_AnyOf(self, cond: ir.AnyOf) -> exp.Expression:
        return or_any([ir.visit_cond(c, self) for c in cond.items])

    def visit_Not(self, cond: ir.Not) -> exp.Expression:
        return exp.Not(this=exp.paren(ir.visit_cond(cond.item, self), copy=False))


def condition_expr(cond: ir.Cond, scope: ValueScope) -> exp.Expression:
    """A condition as a boolean expression that is never NULL (docs/semantics.md "Operators")."""
    return ir.visit_cond(cond, _Conditions(scope))
