"""``leadgate.errors.OptionError.render``: parameters spelled by the adapter, user text kept."""

from __future__ import annotations

from leadgate.errors import OptionError


def test_render_spells_mentions_and_keeps_the_users_braces() -> None:
    error = OptionError("by", "unknown dimension '}{db}' (give {db} or {leads})", mentions=("db",))

    def flag(name: str) -> str:
        return f"--{name}"

    # every {db} is a mention (the quoted one too); {leads} is not mentioned: kept as written
    assert error.render(flag) == "--by: unknown dimension '}--db' (give --db or {leads})"
    plain = OptionError("by", "unknown dimension '}' or '{'")
    assert plain.render(flag) == "--by: unknown dimension '}' or '{'"
