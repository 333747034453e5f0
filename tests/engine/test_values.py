"""engine/values.py: the value semantics both executors rest on (docs/semantics.md "Values")."""

from __future__ import annotations

import math

import pytest

from leadgate.engine.values import bool_of, domain_of, fold, get_field, number_of, text_of


def test_fold_lowercases_ascii_only() -> None:
    assert fold("VP Sales") == "vp sales"
    assert fold("ÉCOLE") == "École"  # non-ASCII letters keep their case, as in every SQL target


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, None), ("", None), ("x", "x"), (True, "true"), (False, "false"), (12, "12"),
     (12.5, "12.5"), (math.nan, None), ([1], None)],
)  # fmt: skip
def test_text_of(value: object, text: str | None) -> None:
    assert text_of(value) == text


@pytest.mark.parametrize(
    ("value", "number"),
    [("12", 12.0), ("1e3", 1000.0), ("-0.5", -0.5), (".5", 0.5), ("5.", 5.0), (" 12", None),
     ("12 users", None), ("12\n", None), (True, None), (7, 7.0), (math.nan, None), (None, None)],
)  # fmt: skip
def test_number_of_reads_numbers_from_text_only_when_numeric(
    value: object, number: float | None
) -> None:
    assert number_of(value) == number


@pytest.mark.parametrize(
    ("value", "flag"),
    [("YES", True), ("t", True), ("1", True), (1, True), ("No", False), ("0", False),
     (False, False), ("maybe", None), ("", None)],
)  # fmt: skip
def test_bool_of(value: object, flag: bool | None) -> None:
    assert bool_of(value) is flag


@pytest.mark.parametrize(
    ("value", "domain"),
    [("a@ACME.com", "acme.com"), ("a@b@Rival.io", "rival.io"), ("x@", None), ("nobody", None),
     (None, None)],
)  # fmt: skip
def test_domain_of_is_the_folded_text_after_the_last_at(value: object, domain: str | None) -> None:
    assert domain_of(value) == domain


def test_get_field_prefers_the_key_then_a_dotted_path() -> None:
    record = {"account.tier": "flat", "account": {"tier": "nested", "size": 5}, "a": 1}
    assert get_field(record, "account.tier") == "flat"
    assert get_field(record, "account.size") == 5
    assert get_field(record, "account.missing") is None
    assert get_field(record, "a.b") is None
    assert get_field(record, "nope") is None
