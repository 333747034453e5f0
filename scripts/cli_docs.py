"""Regenerate docs/cli.md from the command line's own help (run: .venv/bin/python scripts/cli_docs.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from leadgate.cli import _register, app

ROOT = Path(__file__).resolve().parents[1]


def _help(args: list[str]) -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    out = subprocess.run(
        [sys.executable, "-m", "leadgate", *args, "--help"], capture_output=True, text=True, env=env
    )
    return "\n".join(
        line.rstrip()
        for line in out.stdout.replace("python -m leadgate", "leadgate").strip("\n").splitlines()
    )


def main() -> None:
    _register()
    root = typer.main.get_command(app)
    parts = [
        "# Command-line reference\n",
        "Generated from `leadgate COMMAND --help` by `scripts/cli_docs.py`. Every command that uses the",
        "store takes `--db URL` (or `LEADGATE_DB`; default: the SQLite file `leadgate.db`). Exit codes:",
        "0 ok, 1 user error (one line naming file, line and field), 2 usage, 3 not found or conflict;",
        "`leadgate --debug COMMAND` shows a traceback instead. A bad time is worded one way in",
        "every command (`--as-of: expected an ISO 8601 timestamp such as 2026-11-01 or",
        "2026-11-01T09:30:00Z, got 'yesterday'`). Output files: the folder must exist (no command",
        "creates it; `--chart DIR` and `synth --out DIR` make that one folder, not its parents);",
        "files follow the umask and appear whole or not at all. `tick`, `load` and `models publish`",
        "refuse an `--as-of` before the store's latest scoring unless `--force`",
        "(docs/store-and-lifecycle.md).\n",
    ]
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        parts.append(f"## leadgate {name}\n\n```\n{_help([name])}\n```\n")
        for sub in getattr(cmd, "commands", {}):
            if True:
                parts.append(f"### leadgate {name} {sub}\n\n```\n{_help([name, sub])}\n```\n")
    (ROOT / "docs" / "cli.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
