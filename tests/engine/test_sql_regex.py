"""RE2 patterns rewritten for PostgreSQL and Java (Spark): same meaning, or a declared refusal."""

from __future__ import annotations

import pytest

from leadgate.engine.sql_regex import translate_regex
from leadgate.errors import UnsupportedTargetError

W = "[0-9A-Za-z_]"
B = f"(?:(?<={W})(?!{W})|(?<!{W})(?={W}))"

# (RE2 pattern, PostgreSQL, Java)
CASES = [
    (r"\bvp\b", f"{B}vp{B}", f"{B}vp{B}"),
    ("^a.c$", r"^a[^\n]c$", r"^a[^\n]c\z"),
    (r"\d{2}\s", r"[0-9]{2}[\t\n\f\r ]", r"[0-9]{2}[\t\n\f\r ]"),
    (r"[^\w.]", "[^0-9A-Za-z_.]", "[^0-9A-Za-z_.]"),
    ("[[:alpha:]]+", "[A-Za-z]+", "[A-Za-z]+"),
    ("[a[&]", "[a[&]", r"[a\[\&]"),
    ("[]a]", r"[\]a]", r"[\]a]"),
    ("(?P<x>ab)|(?:cd)", "(ab)|(?:cd)", "(ab)|(?:cd)"),
    (r"\x41\t\.", r"\u0041\u0009\.", r"\u0041\u0009\."),
]


@pytest.mark.parametrize(("pattern", "postgres", "java"), CASES)
def test_translation(pattern: str, postgres: str, java: str) -> None:
    assert translate_regex(pattern, "postgres") == postgres
    assert translate_regex(pattern, "java") == java
    assert translate_regex(pattern, "re2") == pattern


@pytest.mark.parametrize(
    ("pattern", "what"),
    [(r"\pL", r"the escape '\\p'"), ("(?i)a", "inline flags"), (r"\Qa.b\E", r"the escape '\\Q'"),
     ("[[:^alpha:]]", r"the class '\[:\^alpha:\]'"), ("a\\", "a trailing backslash")],
)  # fmt: skip
def test_untranslatable_patterns_are_refused_by_name(pattern: str, what: str) -> None:
    for flavor, engine in (("postgres", "PostgreSQL"), ("java", "Spark")):
        with pytest.raises(UnsupportedTargetError, match=rf"uses {what}, which {engine} cannot"):
            translate_regex(pattern, flavor)
