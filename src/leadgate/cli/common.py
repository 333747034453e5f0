"""Option parsing and rendering helpers shared by the command modules."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from leadgate.errors import LeadgateError

if TYPE_CHECKING:
    from rich.progress import Progress

    from leadgate.store.audit import Actor

# Heavy modules (the readers pull in the engine, rich.progress its own tree) are imported inside
# the functions that need them: every command module imports this one, and `leadgate --help`
# or a CSV score should not pay for what they never use (issue #14).


def parse_time(value: str | None, option: str) -> datetime | None:
    """A time option (``--as-of``, ``--since``, ``--until``) as an aware UTC time; None when
    not given. One wording for a bad time in every command."""
    if value is None:
        return None
    from leadgate.io.readers import bad_time, parse_timestamp

    try:
        return parse_timestamp(value, field=option)
    except LeadgateError:
        # The option's name, not the "<input>:" of a file without a name.
        raise LeadgateError(f"{option}: {bad_time(value)}") from None


def operator() -> Actor:
    """Who runs this command, for the audit log: ``cli:<os user>`` (``cli:unknown`` when the
    system cannot say). Command-line writes are audited as the local operator, whatever
    ``--actor`` says (that only labels the history rows)."""
    from leadgate.store.audit import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}")


def parse_as_of(value: str | None) -> datetime:
    """``--as-of``: ISO 8601 (naive means UTC); default: now. The only clock read is here."""
    return parse_time(value, "--as-of") or datetime.now(UTC)


@contextmanager
def progress_bar(description: str, *, transient: bool = True) -> Iterator[Progress]:
    """A rich progress bar on stderr (hidden when stderr is not a terminal)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    # disable: off a terminal rich would still end the (invisible) bar with a blank line.
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal,
    ) as progress:
        yield progress


def fmt_points(value: float) -> str:
    """Points for people: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
