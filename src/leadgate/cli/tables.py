"""Tables on the terminal: they fit its width without cutting a value, or ``--wide`` shows all.

rich shrinks a table that is wider than the console by cutting cells (``15,1…``, a timestamp
without its seconds). A number cut short is worse than a missing column, so ``print_table``
keeps every cell whole: text wraps at spaces; when even that does not fit, the table loses its
ruled border, and then columns are left out from the right (never the first) with a note naming them. ``--wide`` prints every column at
the table's full width instead (the terminal may then wrap the lines).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer
from rich import box
from rich.console import Console
from rich.table import Table

WIDE = typer.Option(False, "--wide", help="Show every column, however wide (no column left out).")
PIPED_WIDTH = 160  # off a terminal and without COLUMNS: room for the widest report table


def stdout_console(**kwargs: object) -> Console:
    """The console for a command's output: the terminal's width; piped, ``COLUMNS`` when set,
    else ``PIPED_WIDTH`` (a file has no width to respect, so it gets whole tables)."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console(**kwargs)  # type: ignore[arg-type]
    return Console(width=PIPED_WIDTH, **kwargs)  # type: ignore[arg-type]


def _ranges(console: Console, table: Table) -> list[tuple[int, int]]:
    """Each column's (narrowest, widest) width with padding; a ``no_wrap`` column cannot be
    narrower than its widest cell. (rich's measuring helpers are private, but the layout must
    match rich's exactly.)"""
    options = console.options.update(width=10**6)
    out = []
    for col in table.columns:
        m = table._measure_column(console, options, col)
        out.append((m.maximum if col.no_wrap else m.minimum, m.maximum))
    return out


def _width(console: Console, table: Table, *, least: bool) -> int:
    ranges = _ranges(console, table)
    return table._extra_width + sum(lo if least else hi for lo, hi in ranges)


def print_table(
    console: Console, table: Table, *, wide: bool = False, drop_first: Sequence[str] = ()
) -> None:
    """Print ``table`` so that no cell is cut: fitted to the console (columns left out, those
    named in ``drop_first`` first, then from the right; a note names them), or at full width
    with ``wide``."""
    if wide:
        saved = console.width
        console.width = max(saved, _width(console, table, least=False))
        try:
            console.print(table)
        finally:
            console.width = saved
        return
    if _width(console, table, least=True) > console.width:
        # A lighter frame first: one space between columns instead of a ruled border.
        table.box = box.SIMPLE_HEAD
        table.pad_edge = False
        table.collapse_padding = True
    order = [str(c.header) for c in table.columns]
    left_out: list[str] = []
    while len(table.columns) > 1 and _width(console, table, least=True) > console.width:
        names = [str(c.header) for c in table.columns]
        first = [i for i, name in enumerate(names) if name in drop_first]
        left_out.append(str(table.columns.pop(first[0] if first else -1).header))
        for index, column in enumerate(table.columns):
            column._index = index  # rich pads and styles a column by its position
    _fix_widths(console, table)
    console.print(table)
    if left_out:
        console.print(
            f"{len(left_out)} column(s) left out to fit {console.width} columns: "
            f"{', '.join(sorted(left_out, key=order.index))} (--wide shows them)",
            style="dim",
            highlight=False,
            soft_wrap=False,  # wrapped at the width like the table, even on a soft-wrap console
        )


def _fix_widths(console: Console, table: Table) -> None:
    """Give each column a fixed width between its narrowest (its longest word) and its widest.

    rich itself narrows the widest columns below their longest word (and cuts it) when a table
    is too wide; so when it is, the spare room is shared here in proportion to what each column
    could use, and no column gets less than its longest word.
    """
    ranges = _ranges(console, table)
    room = console.width - table._extra_width
    if sum(hi for _, hi in ranges) <= room:
        return  # fits whole: rich lays it out unchanged
    spare = max(0, room - sum(lo for lo, _ in ranges))
    wants = [hi - lo for lo, hi in ranges]
    total = sum(wants) or 1
    for col, (lo, _), want in zip(table.columns, ranges, wants, strict=True):
        col.width = lo + spare * want // total - table._get_padding_width(col._index)
