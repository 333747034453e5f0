"""A file-system refusal the user must fix is one line naming the path, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_os_error_from_a_rename_names_its_target(tmp_path: Path) -> None:
    """The CLI's handler, on a rename onto a folder (what a writer's last step does)."""
    code = (
        "import os; from leadgate import cli; "
        "cli._register = lambda: None; "
        "cli.app.command('boom')(lambda: os.replace(os.environ['SRC'], os.environ['DST'])); "
        "cli.main()"
    )
    src = tmp_path / "src.txt"
    src.write_text("x")
    target = tmp_path / "target"
    target.mkdir()
    res = subprocess.run(
        [sys.executable, "-c", code, "boom"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "SRC": str(src), "DST": str(target)},
    )  # fmt: skip
    assert res.returncode == 1, res.stderr
    assert res.stderr.strip() == f"error: {target}: Is a directory"
