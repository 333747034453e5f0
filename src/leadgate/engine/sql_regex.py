"""Model regexes (RE2 syntax) rewritten for SQL engines whose regex dialect is not RE2.

docs/semantics.md "Regexes": a model regex is RE2, case-insensitive, searched anywhere. DuckDB and
BigQuery run RE2 itself and SQLite calls the ``re2`` module, so they take the pattern as written.
PostgreSQL (ARE) and Spark (``java.util.regex``) read some of the same text differently:

- ``\\b`` is a word boundary in RE2 but a backspace in PostgreSQL, whose ``\\y`` (like Java's
  ``\\b``) also counts non-ASCII letters: both get RE2's ASCII boundary as lookarounds;
- ``.`` matches a newline in PostgreSQL; ``$`` matches before a final newline in Java;
- ``\\s``, ``\\w``, ``\\d`` and POSIX classes follow the locale (PostgreSQL) or differ (Java ``\\s``
  includes vertical tab); they are spelled out as the ASCII sets RE2 means;
- ``[`` and ``&&`` inside a class are nested classes / intersections in Java.

Constructs with no faithful translation (Unicode classes ``\\p``, ``\\Q..\\E``, inline flags other
than at the start, octal escapes) raise ``UnsupportedTargetError``: a gap is declared, not hidden.
"""

from __future__ import annotations

from leadgate.errors import UnsupportedTargetError

# RE2's Perl classes and POSIX classes are ASCII-only; these are their members, class-body form.
_PERL = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": "0-9A-Za-z_"}
_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\u0000-\\u007f", "blank": "\\t ",
    "cntrl": "\\u0000-\\u001f\\u007f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\u000b\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}  # fmt: skip
# Written as code points: Java reads "\\v" as a class of vertical whitespace, not one character.
_SIMPLE_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
# RE2's word boundary is ASCII-only; PostgreSQL's \y follows the locale and Java's \b counts
# Unicode letters, so both get RE2's definition spelled out with one-character lookarounds.
_W = "[0-9A-Za-z_]"
_WORD_BOUNDARY = f"(?:(?<={_W})(?!{_W})|(?<!{_W})(?={_W}))"
_NOT_WORD_BOUNDARY = f"(?:(?<={_W})(?={_W})|(?<!{_W})(?!{_W}))"
# Per flavour: word boundary, its negation, start and end of text, and what '.' becomes.
_ANCHORS = {
    "postgres": {"b": _WORD_BOUNDARY, "B": _NOT_WORD_BOUNDARY, "A": "\\A", "z": "\\Z",
                 ".": "[^\\n]", "$": "$"},
    "java": {"b": _WORD_BOUNDARY, "B": _NOT_WORD_BOUNDARY, "A": "\\A", "z": "\\z",
             ".": "[^\\n]", "$": "\\z"},
}  # fmt: skip


def _hex(code: int, flavor: str) -> str:
    # Both PostgreSQL and Java read \u with exactly four hex digits (PostgreSQL's \x takes any
    # number of digits, so "\x41B" would be one character there).
    if code > 0xFFFF:
        return f"\\U{code:08x}" if flavor == "postgres" else f"\\x{{{code:x}}}"
    return f"\\u{code:04x}"


def _refuse(pattern: str, flavor: str, what: str) -> UnsupportedTargetError:
    engine = {"postgres": "PostgreSQL", "java": "Spark"}[flavor]
    return UnsupportedTargetError(
        f"regex {pattern!r} uses {what}, which {engine} cannot match the way RE2 does; "
        "rewrite the pattern or run this model on DuckDB or SQLite"
    )


def translate_regex(pattern: str, flavor: str) -> str:
    """Rewrite an RE2 pattern for ``flavor`` ('re2', 'postgres' or 'java'), meaning unchanged.

    Raises:
        UnsupportedTargetError: the pattern uses a construct the flavour cannot express.
    """
    if flavor == "re2":
        return pattern
    anchors = _ANCHORS[flavor]
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise _refuse(pattern, flavor, "a trailing backslash")
            e = pattern[i + 1]
            i += 2
            if e.lower() in _PERL:
                body = _PERL[e.lower()]
                if in_class:
                    if e.isupper():
                        raise _refuse(pattern, flavor, f"'\\{e}' inside a class")
                    out.append(body)
                else:
                    out.append(f"[{'^' if e.isupper() else ''}{body}]")
            elif e in ("b", "B", "A", "z") and not in_class:
                out.append(anchors[e])
            elif e == "x":
                if i < n and pattern[i] == "{":
                    end = pattern.find("}", i)
                    if end < 0:
                        raise _refuse(pattern, flavor, "an unterminated \\x{...}")
                    code, i = int(pattern[i + 1 : end], 16), end + 1
                else:
                    code, i = int(pattern[i : i + 2], 16), i + 2
                out.append(_hex(code, flavor))
            elif e in _SIMPLE_ESCAPES:
                out.append(_hex(_SIMPLE_ESCAPES[e], flavor))
            elif e.isalnum():
                raise _refuse(pattern, flavor, f"the escape '\\{e}'")
            else:
                out.append("\\" + e)  # an escaped punctuation character stands for itself
            continue
        if in_class:
            if c == "]" and out[-1] not in ("[", "[^"):
                in_class = False
                out.append("]")
            elif c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i)
                name = pattern[i + 2 : end] if end > 0 else ""
                negated = name.startswith("^")
                if negated or name not in _POSIX:
                    raise _refuse(pattern, flavor, f"the class '[:{name}:]'")
                out.append(_POSIX[name])
                i = end + 2
                continue
            elif c in "[&" and flavor == "java":
                out.append("\\" + c)  # literal in RE2, nested class / intersection in Java
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ']' is a literal member
                out.append("\\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
                continue
            if pattern.startswith("(?P<", i) or pattern.startswith("(?<", i):
                end = pattern.find(">", i)
                out.append("(")  # a group's name does not change what matches
                i = end + 1
                continue
            raise _refuse(pattern, flavor, "inline flags")
        if c in (".", "$"):
            out.append(anchors[c])
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# ASCII characters that RE2's case-insensitive matching pairs with a non-ASCII character
# (Unicode simple case folding: U+017F LATIN SMALL LETTER LONG S, U+212A KELVIN SIGN); a literal
# test on ASCII-folded text would miss those, so a pattern naming them is left to RE2.
_FOLDS_BEYOND_ASCII = frozenset("kKsS")
_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def literal_pattern(pattern: str) -> tuple[str, bool, bool] | None:
    """``(text, at_start, at_end)`` when ``pattern`` only searches for one literal text, anchored
    by a leading ``^`` and/or a trailing ``$``, and case-insensitive RE2 on ASCII-folded text
    (no ``A``-``Z``) finds it exactly where a case-sensitive search for the folded ``text`` does;
    otherwise None.

    Exact because: every character of ``text`` is ASCII and printable, a letter's only case
    partners are its ASCII upper/lower forms (not ``k`` or ``s``), RE2's ``^``/``$`` without
    ``(?m)`` are the text's start and end, and an escaped punctuation character stands for
    itself. ``tests/engine/test_sql_regex.py`` checks the partner claim over every code point.
    """
    body = pattern
    at_start = body.startswith("^")
    if at_start:
        body = body[1:]
    at_end = body.endswith("$") and not body.endswith("\\$")
    if at_end:
        body = body[:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body):
                return None
            c = body[i + 1]
            if c.isalnum() or not c.isascii():  # \b, \d, \x41 ...: not one literal character
                return None
            i += 2
        elif c in _SPECIAL:
            return None
        else:
            i += 1
        if not (c.isascii() and c.isprintable()) or c in _FOLDS_BEYOND_ASCII:
            return None
        out.append(c.lower())
    return "".join(out), at_start, at_end
