"""``leadgate reasons``: the reject reason codes sales choose from when they reject an MQL.

Each code says where a rejected lead goes: ``nurture`` (recycled, it may qualify again) or
``disqualified`` (it may not). The list lives in the store (setting ``reject_reasons``); outcome
imports and ``POST /v1/leads/{id}/disposition`` check rejections against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from leadgate.cli.common import operator
from leadgate.cli.store_cmds import AS_OF_OPTION, DB_OPTION, JSON_OPTION, _now, _open, console
from leadgate.errors import IngestError

reasons_app = typer.Typer(
    help="List and change the reject reason codes sales use.", no_args_is_help=True
)

TARGET_HELP = "Where a lead rejected with this code goes: nurture or disqualified."


def _show(reasons: dict[str, str], usage: dict[str, int], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(reasons, indent=2))
        return
    table = Table("code", "rejected leads go to", "rejections recorded")
    for code, target in reasons.items():
        table.add_row(code, target, str(usage.get(code, 0)))
    retired = {c: n for c, n in usage.items() if c not in reasons}
    console.print(table)
    if retired:
        listed = ", ".join(f"{c} ({n})" for c, n in sorted(retired.items()))
        console.print(f"codes no longer listed but used in history: {listed}", highlight=False)


def list_cmd(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show the reason codes, where each sends a rejected lead, and how often it was used."""
    from leadgate.service import reject_reason_usage, reject_reasons

    with _open(db) as store:
        reasons, usage = reject_reasons(store), reject_reason_usage(store)
    _show(reasons, usage, as_json)


def set_cmd(
    code: str = typer.Argument(..., help="Reason code, a word like no_budget."),
    to: str = typer.Option(..., "--to", help=TARGET_HELP),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
) -> None:
    """Add a reason code, or change where an existing code sends rejected leads."""
    from leadgate.service import change_reject_reasons

    with _open(db) as store:
        reasons = change_reject_reasons(store, add={code: to}, at=_now(as_of), by=operator())
    console.print(f"[green]✓[/] {code} -> {reasons[code]} ({len(reasons)} codes)", highlight=False)


def remove_cmd(
    codes: list[str] = typer.Argument(..., help="Reason code(s) to remove."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
) -> None:
    """Remove reason codes (rejections already recorded keep theirs)."""
    from leadgate.service import change_reject_reasons

    with _open(db) as store:
        reasons = change_reject_reasons(store, remove=codes, at=_now(as_of), by=operator())
    console.print(
        f"[green]✓[/] removed {', '.join(codes)} ({len(reasons)} codes left)", highlight=False
    )


def _read_mapping(file: Path) -> dict[str, str]:
    import yaml

    try:
        data: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IngestError("no such file", file=str(file)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)  # one line, as the model loader says it
        raise IngestError(f"not valid YAML or JSON: {reason}", file=str(file), line=line) from None
    if not isinstance(data, dict) or not data:
        raise IngestError(
            "must map each reason code to nurture or disqualified, e.g. 'no_budget: nurture'",
            file=str(file),
        )
    out: dict[str, str] = {}
    for code, target in data.items():
        if not isinstance(target, str):
            raise IngestError(
                f"must be nurture or disqualified, got {target!r}", file=str(file), field=str(code)
            )
        out[str(code)] = target
    return out


def replace_cmd(
    file: Path = typer.Argument(..., help="YAML or JSON mapping: code -> nurture|disqualified."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
) -> None:
    """Replace the whole list with the codes in FILE."""
    from leadgate.service import set_reject_reasons

    mapping = _read_mapping(file)
    with _open(db) as store:
        reasons = set_reject_reasons(store, mapping, at=_now(as_of), by=operator())
    console.print(f"[green]✓[/] {len(reasons)} reason codes from {file}", highlight=False)


def reset_cmd(db: str | None = DB_OPTION, as_of: str | None = AS_OF_OPTION) -> None:
    """Go back to the built-in reason codes."""
    from leadgate.service import reset_reject_reasons

    with _open(db) as store:
        reasons = reset_reject_reasons(store, at=_now(as_of), by=operator())
    console.print(f"[green]✓[/] {len(reasons)} built-in reason codes", highlight=False)


def register(app: typer.Typer) -> None:
    reasons_app.command("list")(list_cmd)
    reasons_app.command("set")(set_cmd)
    reasons_app.command("remove")(remove_cmd)
    reasons_app.command("replace")(replace_cmd)
    reasons_app.command("reset")(reset_cmd)
    app.add_typer(reasons_app, name="reasons")
