"""What makes an input file unreadable as a whole, found one way for every engine.

Both readers (``io.readers`` in Python, ``batch.duckdb_runner`` on DuckDB) call ``check_input``
before they read a row: a missing or 0-byte file, a CSV header that is not UTF-8 or lacks a
required column (often a wrong delimiter), a file with no rows. Bytes that are not UTF-8 further
down are found by ``bad_utf8_error``, which names the line and column of the first one: a text
reader decodes ahead of the rows it hands out, so its own error cannot say where the byte is.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from leadgate.errors import IngestError
from leadgate.io.formats import format_of

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
# Delimiters a header may have been written with when it reads as a single column.
_OTHER_DELIMITERS = {"\t": "tab", "|": "'|'", ";": "';'", ",": "','"}


def csv_delimiter(path: str | Path, header: str) -> str:
    """The delimiter of a CSV file: tab for .tsv, else ';' when the header has more ';' than ','."""
    if Path(path).suffix.lower() == ".tsv":
        return "\t"
    return ";" if header.count(";") > header.count(",") else ","


def bad_utf8_error(path: str | Path) -> IngestError | None:
    """The first byte of ``path`` that is not UTF-8, as an error naming its line and column
    (in characters, 1-based); None when the whole file decodes."""
    p = Path(path)
    line, current = 1, b""  # ``current``: the bytes of the line read so far
    carry = b""  # an incomplete sequence at a chunk's end, completed by the next chunk
    with p.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            data = carry + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                good, carry = len(data), b""
            except UnicodeDecodeError as exc:
                if chunk and exc.reason == "unexpected end of data":
                    good, carry = exc.start, data[exc.start :]
                else:
                    before = data[: exc.start]
                    last = before.rfind(b"\n")
                    start = before[last + 1 :] if last >= 0 else current + before
                    column = len(start.decode("utf-8", errors="replace")) + 1
                    return IngestError(
                        f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
                        "(save the file as UTF-8)",
                        file=str(p),
                        line=line + before.count(b"\n"),
                    )
            done = data[:good]
            newlines = done.count(b"\n")
            line += newlines
            current = done[done.rfind(b"\n") + 1 :] if newlines else current + done
            if not chunk:
                return None


def _first_line(p: Path) -> bytes:
    """The first line of ``p`` without its line end (read a chunk at a time: headers can be long)."""
    parts: list[bytes] = []
    with p.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            end = chunk.find(b"\n")
            if end >= 0:
                parts.append(chunk[:end])
                break
            parts.append(chunk)
    return b"".join(parts).removeprefix(_BOM).rstrip(b"\r")


def _has_text_after(p: Path, offset: int) -> bool:
    """Whether ``p`` holds anything but white space from byte ``offset`` on."""
    with p.open("rb") as fh:
        fh.seek(offset)
        while chunk := fh.read(_CHUNK):
            if chunk.strip():
                return True
    return False


def _parquet_rows(p: Path) -> int | None:
    """The row count in a Parquet file's footer; None when it cannot be read (the reader says why)."""
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(p).metadata.num_rows)
    except Exception:  # pyarrow raises several unrelated types for a corrupt file
        return None


def jsonl_without_rows(path: str | Path) -> bool:
    """A JSONL file with no rows (0 bytes or blank lines): engines that infer columns from the
    rows (DuckDB, Spark) find none, so they are given the required columns instead."""
    p = Path(path)
    return p.is_file() and format_of(p) == "jsonl" and not _has_text_after(p, 0)


def check_input(
    path: str | Path, fmt: str | None = None, required: Sequence[str] = (), need_rows: bool = False
) -> str | None:
    """Refuse a file no engine can read rows from; return a CSV file's delimiter (else None).

    ``required``: columns a CSV header must name (a JSONL or Parquet file's rows are checked
    by the readers as they come). ``need_rows``: a file without rows (a CSV header alone, blank
    lines, an empty Parquet table) is refused too: the leads to score. A file to load may be
    empty (a day without new events), but a 0-byte file never is: not even its header came.

    Raises:
        IngestError: the file is missing, is a folder, is a 0-byte CSV or Parquet file, has a
            CSV header that is not UTF-8 or lacks a required column, or (``need_rows``) has no
            rows.
    """
    p = Path(path)
    kind = format_of(p, fmt)
    if not p.exists():
        raise IngestError("file not found", file=str(p))
    if p.is_dir():
        raise IngestError("is a folder; give the file to read", file=str(p))
    size = p.stat().st_size
    if kind == "jsonl":
        # One object per line and no header: a JSONL export of no rows is 0 bytes, so only a
        # file that must have rows is refused for having none.
        if need_rows and not _has_text_after(p, 0):
            what = "the file is empty (0 bytes)" if size == 0 else "the file holds only blank lines"
            raise IngestError(f"no rows: {what}", file=str(p), line=1)
        return None
    if size == 0:
        expected = {
            "csv": "a header line naming the columns, then one row per line",
            "jsonl": "one JSON object per line",
            "parquet": "a Parquet file",
        }[kind]
        raise IngestError(f"the file is empty (0 bytes): expected {expected}", file=str(p), line=1)
    if kind == "parquet":
        if need_rows and _parquet_rows(p) == 0:
            raise IngestError("no rows: the Parquet file holds an empty table", file=str(p))
        return None
    raw = _first_line(p)
    try:
        header = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_utf8_error(p) or IngestError("not UTF-8 text", file=str(p), line=1) from None
    delimiter = csv_delimiter(p, header)
    names = [n.strip() for n in next(csv.reader([header], delimiter=delimiter), [])]
    for column in required:
        if column not in names:
            hint = ""
            if len(names) == 1:
                seen = [name for sep, name in _OTHER_DELIMITERS.items() if sep in names[0]]
                if seen:
                    hint = (
                        f" (the header reads as one column: is the file delimited by "
                        f"{seen[0]}? leadgate reads ',' or ';', and tab in .tsv files)"
                    )
            raise IngestError(f"no {column} column in the header{hint}", file=str(p), line=1)
    with p.open("rb") as fh:
        offset = len(fh.readline())
    if need_rows and not _has_text_after(p, offset):
        raise IngestError("no rows after the header", file=str(p), line=2)
    return delimiter
