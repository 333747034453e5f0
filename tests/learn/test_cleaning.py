"""Cleaning cells and typing columns of messy exports."""

from __future__ import annotations

import math

import pytest

from leadgate.learn.cleaning import (
    MISSING,
    OTHER,
    category_values,
    classify_column,
    is_free_email,
    is_placeholder,
    parse_number,
)


@pytest.mark.parametrize(
    "value", [None, "", "Select", "-- Select --", "N/A", "--", "n.a.", " unknown ", "Please select"]
)
def test_placeholders_are_missing(value: object) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["Software", "0", 0, "Selection committee", "NA West"])
def test_real_values_are_not_placeholders(value: object) -> None:
    assert not is_placeholder(value)


@pytest.mark.parametrize(
    ("value", "number", "textual"),
    [(12, 12.0, False), ("200", 200.0, False), ("1,234", 1234.0, True), ("12%", 12.0, True),
     ("$5,000.50", 5000.5, True), ("1e3", 1000.0, False), ("12,34", None, False),
     ("-1,000", None, False), ("200 staff", None, False), (True, None, False)],
)  # fmt: skip
def test_parse_number(value: object, number: float | None, textual: bool) -> None:
    assert parse_number(value) == (number, textual)


def test_classify_columns() -> None:
    n = 200
    assert classify_column("size", [f"{i * 37:,}" for i in range(n)]).kind == "numeric"
    assert classify_column("size", [f"{i * 37:,}" for i in range(n)]).text_numbers
    assert classify_column("rating", [i % 5 for i in range(n)]).kind == "categorical"
    assert classify_column("id", [f"X{i}" for i in range(n)]).kind == "identifier"
    assert classify_column("mail", [f"a{i}@x.com" for i in range(n)]).kind == "email"
    assert classify_column("when", ["2025-01-02"] * n).kind == "date"
    assert classify_column("blank", ["Select"] * n).kind == "empty"


def test_categories_fold_case_pool_rare_and_mark_placeholders() -> None:
    values = ["Software"] * 30 + ["software"] * 5 + ["Odd"] * 3 + ["Select", None]
    cats, kept, placeholders = category_values(values, min_count=20)
    assert kept == {"software": 35}
    assert cats.count(OTHER) == 3 and cats.count(MISSING) == 2
    assert placeholders == ["select"]


def test_free_email_follows_the_engine_list() -> None:
    assert is_free_email("sam@gmail.com") == 1.0
    assert is_free_email("sam@mail.yahoo.com") == 1.0
    assert is_free_email("dana@acme.com") == 0.0
    assert math.isnan(is_free_email("no address"))
