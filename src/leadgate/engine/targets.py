"""One ``SqlTarget`` per SQL engine: every dialect difference the compiler needs, stated as data.

STYLE.md "Keep differences between targets as data": ``engine/sql.py`` never asks which engine it
compiles for; it calls the builders of the target it was given. Each builder returns a sqlglot
expression, and sqlglot prints it in the target's dialect.

What differs, and why it matters for agreement with the Python executor (docs/semantics.md):
- ``fold``: ASCII-only case folding. ``translate(x, 'A..Z', 'a..z')``, except on SQLite, which has
  no ``translate`` but whose built-in ``lower`` already folds ASCII only, and on DuckDB, whose
  ``translate`` is slow: ``lower`` there for pure-ASCII text, ``translate`` otherwise.
- ``epoch_seconds``: an event timestamp as seconds since 1970 (a real number). Ages are always
  ``(as_of_epoch - epoch) / 86400``; no dialect date difference is ever used (issue 3's trap).
- ``regex``: how an RE2 pattern is searched, case-insensitively, and which translation it needs
  (``engine/sql_regex.py``).
- ``after_last_at``: the text after the last '@' of an email (its domain).
- ``dynamic_types``: SQLite keeps each cell's own type, so a numeric value is read by type first.
- ``strip``: an event type without the whitespace ``str.strip()`` removes (``TRIM(x)`` removes
  spaces only); DuckDB trims only types that start or end with something other than a printable
  ASCII character, because its TRIM with a character set costs about 85 ns a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from leadgate.engine.sql_regex import translate_regex

Builder = Callable[[exp.Expression], exp.Expression]
RegexBuilder = Callable[[exp.Expression, str], exp.Expression]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# What Python's str.strip() removes (every character for which str.isspace() is true): the event
# reader strips the type (io/readers.py), so SQL must trim the same set, not only spaces.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def cast(e: exp.Expression, to: str) -> exp.Cast:
    """CAST without copying ``e`` (sqlglot copies by default; the compiler builds fresh trees)."""
    return exp.cast(e, to, copy=False)


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _translate_fold(x: exp.Expression) -> exp.Expression:
    return exp.Translate(this=x, from_=_lit(_UPPER), to=_lit(_UPPER.lower()))


def _duckdb_fold(x: exp.Expression) -> exp.Expression:
    # DuckDB's translate() is slow (~6 us a row); lower() is fast but folds non-ASCII letters too.
    # Text whose byte length equals its character length is pure ASCII, where the two agree.
    ascii_only = exp.EQ(this=_call("strlen", x.copy()), expression=exp.Length(this=x.copy()))
    return exp.Case(
        ifs=[exp.If(this=ascii_only, true=exp.Lower(this=x.copy()))], default=_translate_fold(x)
    )


def _lower_fold(x: exp.Expression) -> exp.Expression:
    # SQLite's built-in lower() folds A-Z only (no ICU), exactly the folding we define.
    return exp.Lower(this=x)


def _strip(x: exp.Expression) -> exp.Expression:
    # sqlglot spells it per dialect: TRIM(x, chars) or TRIM(chars FROM x).
    return exp.Trim(this=x, expression=_lit(WHITESPACE))


def _duckdb_strip(x: exp.Expression) -> exp.Expression:
    # Every whitespace character is a control or space (<= 32) or non-ASCII (>= 133), so a text
    # whose first and last characters are printable ASCII has nothing to strip.
    def printable(end: int) -> exp.Expression:
        char = exp.Substring(
            this=x.copy(), start=exp.Literal.number(end), length=exp.Literal.number(1)
        )
        return exp.Between(
            this=_call("ord", char), low=exp.Literal.number(33), high=exp.Literal.number(126)
        )

    # The first character by two comparisons of the text (bytewise: at least '!', below DEL),
    # cheaper than cutting it out and decoding it.
    first = exp.And(
        this=exp.GTE(this=x.copy(), expression=_lit("!")),
        expression=exp.LT(this=x.copy(), expression=_call("chr", exp.Literal.number(127))),
    )
    kept = exp.And(this=first, expression=printable(-1))
    return exp.Case(ifs=[exp.If(this=kept, true=x.copy())], default=_strip(x))


def _micros_epoch(name: str) -> Builder:
    # Whole microseconds divided by 1e6: the correctly rounded double, like datetime.timestamp().
    return lambda ts: exp.Div(this=_call(name, ts), expression=exp.Literal.number("1000000.0"))


def _snowflake_epoch(ts: exp.Expression) -> exp.Expression:
    micros = _call("DATE_PART", exp.var("EPOCH_MICROSECOND"), ts)
    return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))


def _pg_epoch(ts: exp.Expression) -> exp.Expression:
    # EXTRACT(EPOCH) is numeric (exact) on PostgreSQL 14+; cast once to double at the end.
    return cast(exp.Extract(this=exp.var("EPOCH"), expression=ts), "double")


def _sqlite_epoch(ts: exp.Expression) -> exp.Expression:
    # SQLite has no timestamp type: a number is already epoch seconds; ISO text is parsed with
    # unixepoch() (whole seconds) plus its fraction from strftime('%f') (milliseconds).
    typeof = exp.Anonymous(this="typeof", expressions=[ts])
    frac = exp.Sub(
        this=cast(_call("strftime", _lit("%f"), ts.copy()), "double"),
        expression=cast(_call("strftime", _lit("%S"), ts.copy()), "double"),
    )
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.In(this=typeof, expressions=[_lit("integer"), _lit("real")]),
                true=cast(ts.copy(), "double"),
            )
        ],
        default=exp.Add(this=_call("unixepoch", ts.copy()), expression=frac),
    )


def _search(flavor: str, prefix: str = "") -> RegexBuilder:
    return lambda x, p: exp.RegexpLike(this=x, expression=_lit(prefix + translate_regex(p, flavor)))


def _pg_search(x: exp.Expression, p: str) -> exp.Expression:
    return exp.RegexpILike(this=x, expression=_lit(translate_regex(p, "postgres")))


def _sqlite_search(x: exp.Expression, p: str) -> exp.Expression:
    # `x REGEXP p` calls the regexp() function leadgate registers (batch/sqlite_runner.py), which
    # compiles p with leadgate.model.regex_safety.compile_regex: RE2, case-insensitive.
    return exp.RegexpLike(this=x, expression=_lit(p))


def _snowflake_search(x: exp.Expression, p: str) -> exp.Expression:
    # REGEXP_LIKE is anchored on Snowflake; REGEXP_INSTR searches. POSIX-ish flavour: like PG's.
    pos = _call(
        "REGEXP_INSTR", x, _lit(translate_regex(p, "postgres")), exp.Literal.number(1),
        exp.Literal.number(1), exp.Literal.number(0), _lit("i"),
    )  # fmt: skip
    return exp.GT(this=pos, expression=exp.Literal.number(0))


def _split_last(x: exp.Expression) -> exp.Expression:
    return _call("SPLIT_PART", x, _lit("@"), exp.Literal.number(-1))


def _spark_last(x: exp.Expression) -> exp.Expression:
    return _call("SUBSTRING_INDEX", x, _lit("@"), exp.Literal.number(-1))


def _sqlite_last(x: exp.Expression) -> exp.Expression:
    # rtrim(x, <every character but '@'>) strips back to the last '@'; what follows is the domain.
    everything_but_at = _call("replace", x.copy(), _lit("@"), _lit(""))
    kept = exp.Length(this=_call("rtrim", x.copy(), everything_but_at))
    return exp.Substring(this=x, start=exp.Add(this=kept, expression=exp.Literal.number(1)))


def _bigquery_last(x: exp.Expression) -> exp.Expression:
    return _call("REGEXP_EXTRACT", x, _lit("[^@]*$"))


@dataclass(frozen=True)
class SqlTarget:
    """How one engine spells what the compiler needs.

    Attributes:
        name: leadgate's name for the target (``--dialect``/``--engine``).
        dialect: the sqlglot dialect that prints the query.
        fold: ASCII-only lower-casing.
        epoch_seconds: a timestamp column -> seconds since the epoch, as a double.
        regex: (text, RE2 pattern) -> boolean "found anywhere, case-insensitive".
        after_last_at: email text -> the text after its last '@'.
        dynamic_types: cells keep their own type (SQLite), so numbers are read by type first.
        strip: text without leading and trailing whitespace, as ``str.strip()``.
        notes: what the engine must provide, printed in ``leadgate sql``'s header.
        domain_regex: test "a domain or a subdomain of one of these" with one case-sensitive RE2
            search (DuckDB: long IN lists become joins there) instead of IN per suffix length.
        runnable: leadgate can execute queries on it (the others are printed for warehouses).
        day_bits: count the distinct days of a window of at most 62 days as the set bits of a
            BIGINT (``bit_count(bit_or(1 << day))``, DuckDB) instead of COUNT(DISTINCT day).
        inline_events: write the event CTEs (``ev``, ``ev_m``) ``AS NOT MATERIALIZED``, so that
            each reader scans the events with its own filter pushed into the scan. DuckDB
            materializes a CTE that is read twice (a ``{distinct: PROPERTY}`` measure's ``dv<j>``
            beside ``ev_agg``), and then reads every event row with every column before the
            type filter (docs/performance.md, #16).
        lower_prefilter: ``lower()`` maps each character on its own and folds ASCII as ``fold``
            does, and is much cheaper than ``fold``: a text test with ASCII operands on an event
            property first runs on ``lower(text)``, and on the fold only where that passed
            (``sql_conditions._folded``; DuckDB, whose fold first counts the characters).
        literal_calls: a domain regex that is one literal text (``sql_regex.literal_pattern``)
            and a short domain list are tested with byte-wise ``prefix``/``suffix``/
            ``contains`` calls and equality instead of an RE2 search (DuckDB: about a third of
            the search's cost; exact on UTF-8 text for ASCII operands and '.'-led suffixes).
    """

    name: str
    dialect: str
    fold: Builder
    epoch_seconds: Builder
    regex: RegexBuilder
    after_last_at: Builder
    dynamic_types: bool = False
    runnable: bool = True
    domain_regex: bool = False
    day_bits: bool = False
    inline_events: bool = False
    lower_prefilter: bool = False
    literal_calls: bool = False
    notes: str = ""
    strip: Builder = _strip


TARGETS: dict[str, SqlTarget] = {
    t.name: t
    for t in (
        SqlTarget("duckdb", "duckdb", _duckdb_fold, _micros_epoch("epoch_us"),
                  _search("re2", "(?i)"), _split_last, domain_regex=True, strip=_duckdb_strip,
                  day_bits=True, inline_events=True, lower_prefilter=True, literal_calls=True),
        SqlTarget("sqlite", "sqlite", _lower_fold, _sqlite_epoch, _sqlite_search, _sqlite_last,
                  dynamic_types=True, notes="SQLite 3.38+ with math functions; register a "
                  "regexp(pattern, text) function: RE2 search, case-insensitive"),
        SqlTarget("postgres", "postgres", _translate_fold, _pg_epoch, _pg_search, _split_last,
                  notes="PostgreSQL 14+ (exact EXTRACT(EPOCH), split_part with -1)"),
        # (?iu): Unicode-aware case-insensitivity like RE2's; (?d): only \n ends a line.
        SqlTarget("spark", "spark", _translate_fold, _micros_epoch("unix_micros"),
                  _search("java", "(?diu)"), _spark_last,
                  notes="Spark 3.1+ (unix_micros); set spark.sql.caseSensitive=true"),
        SqlTarget("snowflake", "snowflake", _translate_fold, _snowflake_epoch,
                  _snowflake_search, _split_last, runnable=False),
        SqlTarget("bigquery", "bigquery", _translate_fold, _micros_epoch("UNIX_MICROS"),
                  _search("re2", "(?i)"), _bigquery_last, runnable=False),
    )
}  # fmt: skip


def target(name: str) -> SqlTarget:
    """The target called ``name``.

    Raises:
        UnsupportedTargetError: no such target.
    """
    from leadgate.errors import UnsupportedTargetError

    if name not in TARGETS:
        raise UnsupportedTargetError(f"unknown SQL dialect '{name}' (use {', '.join(TARGETS)})")
    return TARGETS[name]
