"""Writing score records as CSV, JSONL or Parquet (all or nothing: a temp file, then a rename)."""

from __future__ import annotations

import csv
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from leadgate.engine.record_spec import FIELDS, LIST_SEPARATOR, flat_names
from leadgate.errors import LeadgateError


def flat_record(record: dict[str, Any]) -> dict[str, Any]:
    """One score record with nested parts flattened for tables as ``record_spec`` says:
    scores.fit -> score_fit, model.hash -> model_hash, a list joined by "; "."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        spec = FIELDS.get(key)
        if spec is not None and spec.flat_prefix and isinstance(value, dict):
            out.update(zip(flat_names(spec, value), value.values(), strict=True))
        elif isinstance(value, list):
            out[key] = LIST_SEPARATOR.join(str(v) for v in value)
        elif isinstance(value, dict):
            out[key] = json.dumps(value, sort_keys=True)
        else:
            out[key] = value
    return out


def check_output_path(path: Path) -> None:
    """A file can be written at ``path``: its folder exists (no command creates the folder of
    an output file: a mistyped path would leave stray folders) and it is not itself a folder.

    Raises:
        LeadgateError: naming ``path`` (never a temporary file).
    """
    folder = path.parent
    if not folder.exists():
        raise LeadgateError(f"{path}: folder {folder} does not exist (create it first)")
    if not folder.is_dir():
        raise LeadgateError(f"{path}: {folder} is not a folder")
    if path.is_dir():
        raise LeadgateError(f"{path}: is a folder; give the file to write")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LeadgateError(f"{path}: cannot write in {folder}: permission denied")


def check_output_folder(folder: Path) -> None:
    """A folder of outputs (charts, generated data) can be made at ``folder``: it is a folder
    already, or the folder it goes in exists (the output's own folder is made, not its parents).
    """
    if folder.exists():
        if not folder.is_dir():
            raise LeadgateError(f"{folder}: is a file; give a folder to write into")
        return
    if not folder.parent.exists():
        raise LeadgateError(f"{folder}: folder {folder.parent} does not exist (create it first)")
    if not folder.parent.is_dir():
        raise LeadgateError(f"cannot write to {folder}: {folder.parent} is not a folder")


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` sets it to read it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def output_mode(path: Path) -> int:
    """The permission bits a written file gets: those of the file it replaces, else those any
    new file gets (0666 less the umask); never the 0600 of a temporary file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; on success it takes ``output_mode`` and
    replaces ``path`` (the output appears whole or not at all), on failure it is removed.

    Raises:
        LeadgateError: ``path`` cannot be written (its folder is missing or refuses); the
            message names ``path``, not the temporary file.
    """
    p = Path(path)
    check_output_path(p)
    try:
        fd, name = tempfile.mkstemp(prefix=".leadgate-", dir=p.parent)
    except OSError as exc:
        raise LeadgateError(f"{p}: cannot write in {p.parent}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, output_mode(p))
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_output(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through ``atomic_output``."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_records(records: Iterable[dict[str, Any]], path: str | Path, fmt: str) -> int:
    """Write records to ``path`` atomically; return how many were written."""
    with atomic_output(path) as tmp:
        return _write(records, tmp, fmt)


def _write(records: Iterable[dict[str, Any]], p: Path, fmt: str) -> int:
    count = 0
    if fmt == "jsonl":
        with p.open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                count += 1
        return count
    rows = [flat_record(r) for r in records]
    if fmt == "csv":
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        with p.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), p)
        return len(rows)
    raise LeadgateError(f"unknown output format '{fmt}' (use csv, jsonl or parquet)")
