"""Running ``leadgate`` in tests: as a user runs it (a process of its own) or in this process.

``leadgate(...)`` starts ``python -m leadgate``: what a user sees, start-up and exit included
(0.5 to 1+ CPU-s a run). ``in_process(...)`` runs the same ``leadgate.cli.main`` (library errors
rendered as one line, exit codes, OSError paths) inside the test process, at a small fraction of
that cost; tests use it for the variations of a behaviour whose user-facing form one subprocess
run already checks. Both return a ``CompletedProcess`` with the exit code, stdout and stderr.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store_helpers import PG_URL

# Environment both runners give ``leadgate``: the test database for ``--engine postgres``, and
# no store URL from the developer's shell.
_BASE_ENV = {"LEADGATE_PG_URL": PG_URL}
_DROPPED = ("LEADGATE_DB",)


def _env(env: dict[str, str] | None) -> dict[str, str]:
    merged = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    return {**merged, **_BASE_ENV, **(env or {})}


def leadgate(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    umask: int | None = None,
    input: str | None = None,
    timeout: float = 300,  # a Spark run starts a JVM: minutes on a loaded CI machine
) -> subprocess.CompletedProcess[str]:
    """``python -m leadgate ARGS`` as a user runs it."""

    def before() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "leadgate", *args],
        capture_output=True, text=True, timeout=timeout, env=_env(env), cwd=cwd, input=input,
        preexec_fn=before if umask is not None else None,
    )  # fmt: skip


def _set_environ(env: dict[str, str]) -> None:
    """Make ``os.environ`` equal ``env`` key by key (never empty in between: a thread of the
    test, such as a stand-in server, may read it meanwhile)."""
    for key in [k for k in os.environ if k not in env]:
        del os.environ[key]
    for key, value in env.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


@contextmanager
def _swapped(env: dict[str, str], cwd: Path | str | None, argv: list[str]) -> Iterator[None]:
    """The process-wide state a run reads or changes, restored afterwards."""
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    _set_environ(env)
    sys.argv = argv
    try:
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        _set_environ(saved_env)


def in_process(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    input: str | None = None,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``leadgate ARGS`` through ``leadgate.cli.main`` in this process: exit code, stdout and
    stderr as the process gives them (stdout and stderr are pipes, not a terminal)."""
    import leadgate.cli as cli

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode()), encoding="utf-8")
    saved = sys.stdin, sys.stdout, sys.stderr
    debug = dict(cli._DEBUG)
    code = 0
    with _swapped(_env(env), cwd, ["leadgate", *args]):
        sys.stdin, sys.stdout, sys.stderr = stdin, out, err
        saved_umask = os.umask(umask) if umask is not None else None
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            if saved_umask is not None:
                os.umask(saved_umask)
            sys.stdin, sys.stdout, sys.stderr = saved
            cli._DEBUG.update(debug)
    return subprocess.CompletedProcess(["leadgate", *args], code, _text(out), _text(err))


def _text(stream: io.TextIOWrapper) -> str:
    """What was written, read back as ``subprocess.run(text=True)`` reads a pipe (universal
    newlines: a csv module's \\r\\n arrives as \\n)."""
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return io.TextIOWrapper(io.BytesIO(raw.getvalue()), encoding="utf-8", errors="replace").read()


def one_line_error(done: subprocess.CompletedProcess[str], *words: str, code: int = 1) -> str:
    """Assert the run failed with ``code`` and one ``error:`` line on stderr holding every word,
    no traceback; return that line."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == code, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]
