"""Readers for leads, accounts and events (CSV, JSONL, Parquet) with row-level validation."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from leadgate.engine.event import Event, as_utc
from leadgate.errors import IngestError
from leadgate.io.account_join import with_account
from leadgate.io.checks import bad_utf8_error, check_input
from leadgate.io.formats import flatten, format_of, infer_cell
from leadgate.io.owners import Owners

RESERVED_EVENT_COLUMNS = ("event_id", "lead_id", "type", "timestamp")
PARQUET_BATCH_ROWS = 8192


class Position:
    """How far a reader has got through its file, for progress bars: ``fraction()`` is 0.0 to 1.0.

    CSV and JSONL count bytes read from disk (the reader reads ahead by a buffer, so the fraction
    runs slightly ahead of the rows); Parquet counts rows against the row count in its footer.
    Before the reader opens its file the fraction is 0.0; once it has closed it, 1.0.
    """

    def __init__(self) -> None:
        self._probe: Callable[[], float] = lambda: 0.0

    def follow(self, probe: Callable[[], float]) -> None:
        """Set by the reader: how to tell its position."""
        self._probe = probe

    def fraction(self) -> float:
        return min(1.0, self._probe())


def _byte_probe(raw: io.BufferedReader) -> Callable[[], float]:
    size = os.fstat(raw.fileno()).st_size
    return lambda: raw.tell() / size if size else 1.0


def read_table(
    path: str | Path,
    fmt: str | None = None,
    position: Position | None = None,
    required: Sequence[str] = (),
    need_rows: bool = False,
    owners: Owners | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, row) from a CSV, JSONL or Parquet file; values typed, '' missing.

    Rows are read as they are asked for (a Parquet file a record batch at a time), so a caller
    that keeps no rows holds no more than a batch. For Parquet the "line" is the 1-based row
    number. ``position`` follows how far through the file the reader is. ``required``: columns
    a CSV header must name; ``need_rows``: a file without rows is refused. A 0-byte file or one
    that is not UTF-8 text is refused (``io.checks``), naming the line. ``owners``: only the
    rows of those leads and accounts (``io.owners``), with their line numbers.
    """
    p = Path(path)
    kind = format_of(p, fmt)
    delimiter = check_input(p, kind, required, need_rows)
    position = position or Position()
    try:
        if kind == "csv":
            yield from _read_csv(p, position, delimiter or ",", owners)
        elif kind == "jsonl":
            yield from _read_jsonl(p, position, owners)
        else:
            yield from _read_parquet(p, position, owners)
    except UnicodeDecodeError:
        # The text reader decodes ahead of the rows: its error cannot name the line.
        raise bad_utf8_error(p) or IngestError("not UTF-8 text", file=str(p)) from None
    finally:
        position.follow(lambda: 1.0)  # the file is closed: it cannot be asked any more


def _read_csv(
    p: Path, position: Position, delimiter: str, owners: Owners | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    with p.open("rb") as raw, io.TextIOWrapper(raw, newline="", encoding="utf-8-sig") as fh:
        position.follow(_byte_probe(raw))
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise IngestError(f"unreadable CSV: {exc}", file=str(p), line=1) from None
        names = [h.strip() for h in header]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise IngestError(f"column '{dup}' appears twice in the header", file=str(p), line=1)
        line = reader.line_num
        ids = [names.index(n) if n in names else None for n in ("lead_id", "account_id")]
        try:
            for cells in reader:
                start, line = line + 1, reader.line_num
                if not cells or all(c == "" for c in cells):
                    continue
                if len(cells) != len(names):
                    raise IngestError(
                        f"expected {len(names)} columns, found {len(cells)}",
                        file=str(p),
                        line=start,
                    )
                if owners is not None and not owners.keeps(
                    *(None if i is None else infer_cell(cells[i]) for i in ids)
                ):
                    continue
                yield start, {n: infer_cell(c) for n, c in zip(names, cells, strict=True)}
        except csv.Error as exc:
            raise IngestError(f"unreadable CSV: {exc}", file=str(p), line=line + 1) from None


def _read_jsonl(
    p: Path, position: Position, owners: Owners | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    with p.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as fh:
        position.follow(_byte_probe(raw))
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise IngestError(
                    f"not valid JSON: {exc.msg} (column {exc.colno})", file=str(p), line=number
                ) from None
            if not isinstance(row, dict):
                raise IngestError("each line must be a JSON object", file=str(p), line=number)
            if owners is not None and not owners.keeps(row.get("lead_id"), row.get("account_id")):
                continue
            yield number, {k: (None if v == "" else v) for k, v in flatten(row).items()}


def _read_parquet(
    p: Path, position: Position, owners: Owners | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
        raise IngestError(f"not a readable Parquet file: {exc}", file=str(p)) from None
    total = pf.metadata.num_rows
    number = 0
    position.follow(lambda: number / total if total else 1.0)
    with pf:
        # One record batch at a time, never the whole table: a batch's rows become Python
        # dicts (several hundred bytes each), so the batch is kept small.
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            start = number
            mask = None if owners is None else owners.arrow_mask(batch)
            if mask is None:
                numbered: Iterator[tuple[int, dict[str, Any]]] = enumerate(batch.to_pylist())
            else:  # Arrow tests the ids: the other rows never become Python objects
                import pyarrow.compute as pc

                kept = pc.indices_nonzero(mask)
                numbered = zip(kept.to_pylist(), batch.take(kept).to_pylist(), strict=True)
            for index, row in numbered:
                number = start + index + 1
                if (
                    mask is None
                    and owners is not None
                    and not owners.keeps(row.get("lead_id"), row.get("account_id"))
                ):
                    continue
                yield number, {k: (None if v == "" else v) for k, v in flatten(row).items()}
            number = start + batch.num_rows


def first_refusal(files: Sequence[str | Path]) -> IngestError | None:
    """The first problem this reader finds in ``files`` (file, line, what), or None if all read.

    For engines that read files themselves (DuckDB, Spark) and fail with their own words: the
    user then reads the same line whichever engine ran.
    """
    for path in files:
        try:
            for _ in read_table(path):
                pass
        except IngestError as found:
            return found
    return None


def _text_id(value: Any, file: str, line: int, field: str) -> str:
    if value is None:
        raise IngestError("is required", file=file, line=line, field=field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise IngestError(
            f"must be text or a number, got {value!r}", file=file, line=line, field=field
        )
    return str(value)


def bad_time(value: Any) -> str:
    """The one wording for a time that cannot be read, in files, options and API fields."""
    return (
        f"expected an ISO 8601 timestamp such as 2026-11-01 or 2026-11-01T09:30:00Z, got {value!r}"
    )


def parse_timestamp(
    value: Any, file: str = "", line: int | None = None, field: str = "timestamp"
) -> datetime:
    """ISO 8601 text (with or without zone; naive means UTC) or a datetime -> aware UTC datetime."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return as_utc(datetime(value.year, value.month, value.day))
    if isinstance(value, str) and value.strip():
        try:
            return as_utc(datetime.fromisoformat(value.strip()))
        except (ValueError, OverflowError):  # overflow: 0001-01-01T00:00+14:00 is before year 1
            pass
    raise IngestError(
        bad_time(value),
        file=file,
        line=line,
        field=field,
    )


def read_accounts(path: str | Path) -> dict[str, dict[str, Any]]:
    """Accounts by ``account_id``."""
    file = str(path)
    out: dict[str, dict[str, Any]] = {}
    for line, row in read_table(path, required=("account_id",)):
        account_id = _text_id(row.get("account_id"), file, line, "account_id")
        if account_id in out:
            raise IngestError(
                f"duplicate account_id '{account_id}'", file=file, line=line, field="account_id"
            )
        out[account_id] = row
    return out


def read_leads(
    path: str | Path, accounts: str | Path | None = None, need_rows: bool = False
) -> list[dict[str, Any]]:
    """Lead profiles; with an accounts file, each lead's account attributes as ``account.<attr>``.

    ``need_rows``: a file without leads is refused (there is nothing to score)."""
    file = str(path)
    by_account = read_accounts(accounts) if accounts else {}
    seen: set[str] = set()
    leads: list[dict[str, Any]] = []
    for line, row in read_table(path, required=("lead_id",), need_rows=need_rows):
        lead_id = _text_id(row.get("lead_id"), file, line, "lead_id")
        if lead_id in seen:
            raise IngestError(
                f"duplicate lead_id '{lead_id}'", file=file, line=line, field="lead_id"
            )
        seen.add(lead_id)
        profile = {k: v for k, v in row.items() if v is not None}
        profile["lead_id"] = lead_id
        account_id = row.get("account_id")
        account = by_account.get(str(account_id)) if account_id is not None else None
        leads.append(with_account(profile, account))
    return leads


def event_id_of(lead_id: str, type_: str, timestamp: datetime, properties: dict[str, Any]) -> str:
    """A stable id derived from an event's content, so a replayed file adds nothing."""
    payload = json.dumps(
        [lead_id, type_, timestamp.isoformat(), sorted((k, str(v)) for k, v in properties.items())],
        separators=(",", ":"),
    )
    return "h" + hashlib.sha1(payload.encode()).hexdigest()[:20]


def event_from_row(row: dict[str, Any], file: str = "", line: int | None = None) -> Event:
    """Validate one event row (lead_id, type, timestamp, optional event_id, properties)."""
    lead_id = _text_id(row.get("lead_id"), file, line or 0, "lead_id")
    type_ = row.get("type")
    if not isinstance(type_, str) or not type_.strip():
        raise IngestError(
            "is required (the event type, e.g. email_open)", file=file, line=line, field="type"
        )
    ts = parse_timestamp(row.get("timestamp"), file, line)
    props = {k: v for k, v in row.items() if k not in RESERVED_EVENT_COLUMNS and v is not None}
    given = row.get("event_id")
    event_id = str(given) if given is not None else event_id_of(lead_id, type_, ts, props)
    return Event(
        lead_id=lead_id, type=type_.strip(), timestamp=ts, event_id=event_id, properties=props
    )


def iter_events(path: str | Path, position: Position | None = None) -> Iterator[Event]:
    """Events one at a time as the file is read; ids given or derived from content.

    A bad row raises ``IngestError`` when it is reached, after the rows before it were yielded:
    a caller that writes as it reads must do so inside a transaction it can roll back.
    """
    file = str(path)
    for line, row in read_table(path, position=position, required=("lead_id", "type", "timestamp")):
        yield event_from_row(row, file, line)


def read_events(path: str | Path) -> list[Event]:
    """Events; ids given or derived from content; every row validated before any is returned."""
    return list(iter_events(path))
