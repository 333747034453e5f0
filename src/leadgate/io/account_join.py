"""A lead plus its account, defined once: the Python merge and its SQL (sqlglot) form.

docs/semantics.md "Accounts": a lead's account is the accounts row whose ``account_id`` equals the
lead's (compared as text); each account attribute ``x`` reads as the lead field ``account.x``,
and a value the lead itself has under ``account.x`` wins over its account's. The file readers
(``io.readers.read_leads``) merge in Python with ``with_account``; the DuckDB runner and the
store's batch export build their views with ``join_account`` and ``account_value``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

ACCOUNT_PREFIX = "account."
ACCOUNT_ID = "account_id"


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
    return exp.Coalesce(this=lead_value, expressions=[account_value])


def join_account(query: exp.Select, lead: str, accounts_table: str, alias: str) -> exp.Select:
    """``query`` (reading the leads as ``lead``) LEFT JOINed with its account as ``alias``."""
    on = exp.EQ(
        this=exp.cast(exp.column(ACCOUNT_ID, table=lead), "text"),
        expression=exp.cast(exp.column(ACCOUNT_ID, table=alias), "text"),
    )
    return query.join(exp.to_table(accounts_table).as_(alias), on=on, join_type="left")
