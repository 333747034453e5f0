"""The error hierarchy: one root, subclassed by what the user must fix.

Adapters translate these (CLI: exit codes, HTTP: status codes). Anything that is not a
``LeadgateError`` is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class LeadgateError(Exception):
    """Raised for a condition the user can fix; the message is shown without a traceback."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a user file: where it is, what is wrong, how to fix it."""

    message: str
    path: str = ""
    file: str = ""
    line: int | None = None
    column: int | None = None
    hint: str = ""

    def __str__(self) -> str:
        where = self.file or "<model>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path + ': ' if self.path else ''}{self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class ModelError(LeadgateError):
    """Raised when a scoring model file is not valid YAML or breaks the model's rules.

    ``problems`` holds every problem found, each with file, line, column and a hint.
    """

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class IngestError(LeadgateError):
    """Raised when an input row (lead, event, outcome) is invalid; names file, line and field."""

    def __init__(
        self, message: str, *, file: str = "", line: int | None = None, field: str = ""
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        where = file or "<input>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


class FieldError(IngestError):
    """Raised for a bad value of one named field or option (HTTP 422 naming it; CLI:
    ``field: message``); the message has no ``<input>`` location prefix."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, field=field)
        Exception.__init__(self, f"{field}: {message}")


class NotFoundError(LeadgateError):
    """Raised when a named lead, model version, key or file does not exist."""


class ConflictError(LeadgateError):
    """Raised when an action conflicts with the current state (e.g. an illegal stage transition)."""


class UnsupportedTargetError(LeadgateError):
    """Raised when a SQL engine or dialect cannot run a requested feature or is not installed."""


class OptionError(LeadgateError):
    """Raised when a library call gets an option it does not take (e.g. a Spark master for the
    DuckDB engine), a bad value for one, or a combination of options that does not go together.

    ``parameter`` names the library parameter at fault ("" when the message is about several),
    and ``{name}`` placeholders in ``message`` name others (listed in ``mentions``). ``str()``
    says the parameters' own names; adapters call ``render`` with their own spelling (the CLI
    ``--spark-master``, the API a JSON field).
    """

    def __init__(self, parameter: str, message: str, *, mentions: tuple[str, ...] = ()) -> None:
        self.parameter = parameter
        self.detail = message
        self.mentions = mentions
        super().__init__(self.render(lambda name: name))

    def render(self, spell: Callable[[str], str]) -> str:
        """The message with each parameter spelled by ``spell``."""
        # Only the ``{name}`` of each mentioned parameter is replaced, not ``str.format``: a
        # message may quote the user's text, braces included (``by=}`` made the API answer 500).
        detail = self.detail
        for m in self.mentions:
            detail = detail.replace("{" + m + "}", spell(m))
        return f"{spell(self.parameter)}: {detail}" if self.parameter else detail
