"""The documentation's examples run as written.

Every fenced block whose info string is ``bash runnable`` in README.md and docs/*.md is run with
bash, as a user would paste it, in a temporary folder laid out like a clone (``src/`` links to
the repository's), with ``leadgate`` on PATH. The blocks of one file run in order in one folder,
so a later block may use an earlier one's output. Links in the same files must stay inside the
repository (a clone has nothing beside it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def runnable_blocks(text: str) -> list[str]:
    """The bodies of the fenced blocks marked ``runnable`` (``bash runnable``), in order."""
    return [m.group(2) for m in FENCE.finditer(text) if "runnable" in m.group(1).split()[1:]]


def test_fence_parser_picks_only_marked_blocks() -> None:
    text = "```bash\nrm -rf /\n```\n\n```bash runnable\necho one\n```\n```json\n{}\n```\n"
    assert runnable_blocks(text) == ["echo one\n"]


def test_readme_has_runnable_examples() -> None:
    blocks = runnable_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert any("leadgate explain" in b for b in blocks)


def _leadgate_on_path(folder: Path) -> dict[str, str]:
    """An environment whose ``leadgate`` is this interpreter's leadgate (the tested code)."""
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    shim = bin_dir / "leadgate"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m leadgate "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.parametrize(
    "doc",
    [d for d in DOCS if runnable_blocks(d.read_text(encoding="utf-8"))],
    ids=lambda d: d.relative_to(ROOT).as_posix(),
)
def test_runnable_blocks_run_as_written(doc: Path, tmp_path: Path) -> None:
    (tmp_path / "src").symlink_to(ROOT / "src", target_is_directory=True)
    env = _leadgate_on_path(tmp_path)
    for block in runnable_blocks(doc.read_text(encoding="utf-8")):
        res = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert res.returncode == 0, f"{doc.name}: this block failed:\n{block}\n{res.stderr}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_links_stay_inside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor: not a file of the clone
        path = (doc.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert path.exists(), f"{doc.name} links to a missing file: {target}"
    assert "../shared" not in text
