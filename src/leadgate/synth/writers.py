"""Turning generated arrays into the synthetic data files (CSV tables, streamed event files).

Timestamps are written as ISO 8601 UTC text (``2026-03-01T12:00:00Z``, whole seconds) in every
format, Parquet included: that is the events contract every reader and executor codes against. Missing values are empty CSV cells, JSON nulls and Parquet
nulls. Output is byte-for-byte reproducible for a given input.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from leadgate.synth import catalogs as cat
from leadgate.synth.activity import NONE
from leadgate.synth.calendar import Calendar
from leadgate.synth.events import EventBlock

EVENT_FORMATS = ("parquet", "csv", "jsonl")
DAY = 86_400
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("lead_id", pa.string()),
        ("type", pa.string()),
        ("timestamp", pa.string()),
        ("url", pa.string()),
        ("asset", pa.string()),
        ("channel", pa.string()),
    ]
)
_CSV_OPTIONS = pacsv.WriteOptions(quoting_style="needed")


@lru_cache(maxsize=1)
def _clock_strings() -> pa.Array:
    """``"HH:MM:SSZ"`` for every second of a day (86,400 strings, built once)."""
    s = np.arange(DAY)
    return pa.array(
        [
            f"{h:02d}:{m:02d}:{x:02d}Z"
            for h, m, x in zip(s // 3600, s // 60 % 60, s % 60, strict=True)
        ]
    )


def iso_utc(epoch: np.ndarray) -> pa.Array:
    """Epoch seconds as ISO 8601 UTC text (``2026-03-01T12:00:00Z``); ``NONE`` becomes null.

    Built from two lookups, the day's date and the time of day, so millions of timestamps
    format in a fraction of a second.
    """
    epoch = np.asarray(epoch, dtype=np.int64)
    mask = epoch == NONE
    if not len(epoch):
        return pa.array([], type=pa.string())
    valid = epoch[~mask]
    day = np.where(mask, 0, epoch // DAY)
    first = int(valid.min() // DAY) if len(valid) else 0
    last = int(valid.max() // DAY) if len(valid) else 0
    dates = np.arange(first, last + 1).astype("datetime64[D]").astype(str)
    date_t = pa.array([f"{d}T" for d in dates])
    day_idx = pa.array(np.clip(day - first, 0, None), mask=mask)
    clock_idx = pa.array(epoch % DAY)
    return pc.binary_join_element_wise(date_t.take(day_idx), _clock_strings().take(clock_idx), "")


def write_csv(columns: dict[str, Any], path: Path) -> None:
    """Write a table of numpy/pyarrow columns as CSV (quoted only where needed)."""

    def arrow(v: Any) -> pa.Array:
        if isinstance(v, pa.Array):
            return v
        if v.dtype == object:
            return text_or_null(v)
        return pa.array(v)

    table = pa.table({k: arrow(v) for k, v in columns.items()})
    pacsv.write_csv(table, path, _CSV_OPTIONS)


def text_or_null(values: np.ndarray) -> pa.Array:
    """Object array of strings; empty strings become nulls (empty CSV cells)."""
    arr = pa.array(values, type=pa.string())
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def json_lines(table: pa.Table) -> str:
    """One JSON object per row, built column-wise by pyarrow (no Python loop per event).

    Every value comes from the generator's own vocabularies (ASCII letters, digits and
    ``-_/:.``), so no value needs JSON escaping; nulls become ``null``.
    """
    if not len(table):
        return ""
    parts: list[Any] = []
    for k, name in enumerate(table.column_names):
        col = table.column(name)
        quoted = pc.binary_join_element_wise('"', col, '"', "")
        value = pc.if_else(pc.is_null(col), "null", quoted)
        parts.append(('{"' if k == 0 else ',"') + name + '":')
        parts.append(value)
    parts.append("}\n")
    return _concat(pc.binary_join_element_wise(*parts, ""))


def _concat(lines: Any) -> str:
    arr = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    data = arr.buffers()[2]
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    return bytes(memoryview(data)[offsets[0] : offsets[-1]]).decode("ascii")


class EventWriter:
    """Streams event blocks to one file, block by block, so memory stays bounded."""

    def __init__(
        self,
        path: Path,
        fmt: str,
        cal: Calendar,
        lead_ids: np.ndarray,
        extra: tuple[str, ...] = (),
        extra_types: tuple[str, ...] = (),
    ) -> None:
        """``extra``: more text property columns (after the base ones) that ``write_rows``
        fills; ``extra_types``: the vocabulary of its rows' ``type`` codes."""
        self.path = path
        self.fmt = fmt
        self.count = 0
        self.schema = pa.schema([*EVENT_SCHEMA, *(pa.field(c, pa.string()) for c in extra)])
        self._extra = extra
        self._extra_types = pa.array(extra_types, type=pa.string())
        self._types = pa.array(cat.EVENT_TYPES)
        self._urls = pa.array(cal.urls)
        self._assets = pa.array(cal.assets)
        self._channels = pa.array(cal.channels)
        self._lead_ids = lead_ids
        self._writer: Any = None
        self._fh: Any = None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            # Dictionary-encode only the low-cardinality columns: smaller and faster than both
            # "everything" and "nothing".
            self._writer = pq.ParquetWriter(
                path,
                self.schema,
                compression="zstd",
                use_dictionary=["lead_id", "type", "url", "asset", "channel", *extra[:1]],
            )
        elif fmt == "csv":
            self._writer = pacsv.CSVWriter(path, self.schema, write_options=_CSV_OPTIONS)
        else:
            self._fh = path.open("w", encoding="utf-8", newline="\n")

    def _ids(self, n: int) -> pa.Array:
        ids = pc.cast(pa.array(np.arange(self.count + 1, self.count + n + 1)), pa.string())
        return pc.binary_join_element_wise("E", pc.utf8_lpad(ids, 9, "0"), "")

    def _lead_ids_of(self, lead: np.ndarray) -> pa.Array:
        lo = int(lead.min()) if len(lead) else 0
        hi = int(lead.max()) + 1 if len(lead) else 0
        return pa.array(self._lead_ids[lo:hi], type=pa.string()).take(pa.array(lead - lo))

    def _table(self, block: EventBlock) -> pa.Table:
        def codes(vocab: pa.Array, c: np.ndarray) -> pa.Array:
            return vocab.take(pa.array(c, mask=c < 0))

        nulls = pa.nulls(len(block), pa.string())
        return pa.table(
            {
                "event_id": self._ids(len(block)),
                "lead_id": self._lead_ids_of(block.lead),
                "type": self._types.take(pa.array(block.type.astype(np.int32))),
                "timestamp": iso_utc(block.timestamp),
                "url": codes(self._urls, block.url),
                "asset": codes(self._assets, block.asset),
                "channel": codes(self._channels, block.channel),
                **{c: nulls for c in self._extra},
            },
            schema=self.schema,
        )

    def write(self, block: EventBlock) -> None:
        """Append one block of events (ids continue from the previous block)."""
        self._emit(self._table(block))

    def write_rows(self, rows: pa.Table) -> None:
        """Append rows of ``lead`` (lead number), ``type`` (code into ``extra_types``),
        ``timestamp`` (epoch seconds) and the ``extra`` columns; the base properties are null."""
        n = len(rows)
        nulls = pa.nulls(n, pa.string())
        table = pa.table(
            {
                "event_id": self._ids(n),
                "lead_id": self._lead_ids_of(rows.column("lead").to_numpy()),
                "type": self._extra_types.take(pc.cast(rows.column("type"), pa.int32())),
                "timestamp": iso_utc(rows.column("timestamp").to_numpy()),
                "url": nulls, "asset": nulls, "channel": nulls,
                **{c: rows.column(c) for c in self._extra},
            },
            schema=self.schema,
        )  # fmt: skip
        self._emit(table)

    def _emit(self, table: pa.Table) -> None:
        self.count += len(table)
        if self.fmt == "parquet":
            self._writer.write_table(table, row_group_size=1 << 20)
        elif self.fmt == "csv":
            self._writer.write_table(table)
        else:
            self._fh.write(json_lines(table))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._fh is not None:
            self._fh.close()
