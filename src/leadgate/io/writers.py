"""Writing score records as CSV, JSONL or Parquet (all or nothing: a temp file, then a rename)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable
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
    """A file can be written at ``path``: its folder exists and it is not itself a folder."""
    if path.parent and not path.parent.exists():
        raise LeadgateError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise LeadgateError(f"{path}: is a folder; give the file to write")


def write_records(records: Iterable[dict[str, Any]], path: str | Path, fmt: str) -> int:
    """Write records to ``path`` atomically; return how many were written."""
    p = Path(path)
    check_output_path(p)
    fd, tmp = tempfile.mkstemp(prefix=".leadgate-", dir=p.parent or ".")
    os.close(fd)
    try:
        count = _write(records, Path(tmp), fmt)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


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
