"""A lead plus its account, defined once: the Python merge and its SQL (sqlglot) form.

docs/semantics.md "Accounts": a lead's account is the accounts row whose ``account_id`` equals the
lead's (compared as text); each account attribute ``x`` reads as the lead field ``account.x``,
and a value the lead itself has under ``account.x`` wins over its account's. The file readers
(``io.readers.read_leads``) and the store's per-lead re-score merge in Python with
``with_account``; the DuckDB runner and the store's batch export build their views with
``join_account`` and ``account_value``. The Spark runner joins DataFrames with the same condition
(``account_on``, rendered as Spark SQL) and merges the columns with the same rule
(``merge_account_fields``, as the DuckDB runner does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    # Imported where a query is built: readers load this module, and they need no sqlglot.
    from sqlglot import exp

ACCOUNT_PREFIX = "account."
ACCOUNT_ID = "account_id"
JOIN_TYPE = "left"  # a lead without an account (or with an unknown one) is kept, without account.*

C = TypeVar("C")  # a column in a query builder (a sqlglot expression, a Spark column)


def account_field(attribute: str) -> str:
    """The lead field an account attribute reads as."""
    return ACCOUNT_PREFIX + attribute


def with_account(profile: dict[str, Any], account: Mapping[str, Any] | None) -> dict[str, Any]:
    """``profile`` with its account's attributes added (the lead's own values win)."""
    for key, value in (account or {}).items():
        if value is not None and key != ACCOUNT_ID:
            profile.setdefault(account_field(key), value)
    return profile


def account_value(lead_value: exp.Expression, account_value: exp.Expression) -> exp.Expression:
    """SQL of a lead field ``account.x``: the lead's own value, else its account's ``x``."""
    from sqlglot import exp

    return exp.Coalesce(this=lead_value, expressions=[account_value])


def account_on(lead_key: exp.Expression, account_key: exp.Expression) -> exp.Expression:
    """The join condition: the lead's ``account_id`` equals the account's, compared as text."""
    from sqlglot import exp

    return exp.EQ(this=exp.cast(lead_key, "text"), expression=exp.cast(account_key, "text"))


def join_account(query: exp.Select, lead: str, accounts_table: str, alias: str) -> exp.Select:
    """``query`` (reading the leads as ``lead``) LEFT JOINed with its account as ``alias``."""
    from sqlglot import exp

    on = account_on(exp.column(ACCOUNT_ID, table=lead), exp.column(ACCOUNT_ID, table=alias))
    return query.join(exp.to_table(accounts_table).as_(alias), on=on, join_type=JOIN_TYPE)


def merge_account_fields(
    columns: dict[str, C],
    kinds: dict[str, str],
    account: Iterable[tuple[str, C, str]],
    coalesce: Callable[[C, C], C],
    mixed_kind: str,
) -> None:
    """Add each account attribute ``(name, column, kind)`` to a lead's ``columns`` and ``kinds``
    as the field ``account.<name>`` (``account_id`` itself is the join key, not a field).

    Where the lead has its own ``account.<name>``, its value wins (``coalesce(lead, account)``)
    and the field's kind is ``mixed_kind`` unless both sides have the same kind.
    """
    for name, column, kind in account:
        if name == ACCOUNT_ID:
            continue
        field = account_field(name)
        if field in columns:
            column = coalesce(columns[field], column)
            kind = kind if kinds[field] == kind else mixed_kind
        columns[field], kinds[field] = column, kind
