"""Option parsing and rendering helpers shared by the command modules."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from leadgate.errors import LeadgateError
from leadgate.io.readers import bad_time, parse_timestamp


def parse_time(value: str | None, option: str) -> datetime | None:
    """A time option (``--as-of``, ``--since``, ``--until``) as an aware UTC time; None when
    not given. One wording for a bad time in every command."""
    if value is None:
        return None
    try:
        return parse_timestamp(value, field=option)
    except LeadgateError:
        # The option's name, not the "<input>:" of a file without a name.
        raise LeadgateError(f"{option}: {bad_time(value)}") from None


if TYPE_CHECKING:
    from leadgate.store.audit import Actor


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
