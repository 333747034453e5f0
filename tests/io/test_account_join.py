"""io/account_join.py: a lead plus its account, the Python merge and its SQL form agree."""

from __future__ import annotations

import duckdb
from sqlglot import exp

from leadgate.io.account_join import (
    account_value,
    join_account,
    merge_account_fields,
    with_account,
)


def test_the_leads_own_value_wins_and_the_account_id_is_not_an_attribute() -> None:
    profile = {"lead_id": "1", "account.tier": "own"}
    merged = with_account(profile, {"account_id": "A", "tier": "gold", "size": 5, "empty": None})
    assert merged == {"lead_id": "1", "account.tier": "own", "account.size": 5}
    assert with_account({"lead_id": "2"}, None) == {"lead_id": "2"}


def test_the_sql_form_gives_what_the_python_merge_gives() -> None:
    leads = [("1", "A", "own"), ("2", "A", None), ("3", "B", None), ("4", None, None)]
    accounts = {"A": {"account_id": "A", "tier": "gold"}, "7": {"account_id": "7", "tier": "x"}}
    with duckdb.connect() as con:
        con.execute("CREATE TABLE l (lead_id TEXT, account_id TEXT, own TEXT)")
        con.executemany("INSERT INTO l VALUES (?, ?, ?)", leads)
        con.execute("CREATE TABLE acc (account_id TEXT, tier TEXT)")
        con.executemany(
            "INSERT INTO acc VALUES (?, ?)",
            [(a["account_id"], a["tier"]) for a in accounts.values()],
        )
        query = exp.select(
            exp.column("lead_id", table="l"),
            exp.alias_(
                account_value(exp.column("own", table="l"), exp.column("tier", table="a")), "tier"
            ),
        ).from_(exp.to_table("l").as_("l"))
        rows = dict(
            con.execute(
                join_account(query, "l", "acc", "a").order_by("lead_id").sql("duckdb")
            ).fetchall()
        )
    for lead_id, account_id, own in leads:
        profile = {"lead_id": lead_id, **({"account.tier": own} if own else {})}
        merged = with_account(profile, accounts.get(str(account_id)) if account_id else None)
        assert rows[lead_id] == merged.get("account.tier"), lead_id


def test_merging_account_columns_follows_the_python_merge() -> None:
    # The runners' column form (DuckDB: sqlglot expressions, Spark: Columns): here, strings.
    columns = {"lead_id": "l.lead_id", "account.tier": "l.tier", "account.n": "l.n"}
    kinds = {"lead_id": "text", "account.tier": "text", "account.n": "text"}
    account = [("account_id", "a.id", "text"), ("tier", "a.tier", "text"), ("n", "a.n", "number"),
               ("size", "a.size", "number")]  # fmt: skip
    merge_account_fields(columns, kinds, account, lambda lead, acc: f"{lead}|{acc}", "text")
    assert columns == {
        "lead_id": "l.lead_id",
        "account.tier": "l.tier|a.tier",  # the lead's own value first
        "account.n": "l.n|a.n",
        "account.size": "a.size",
    }  # account_id is the join key, not a field
    assert kinds == {"lead_id": "text", "account.tier": "text", "account.n": "text",
                     "account.size": "number"}  # fmt: skip
