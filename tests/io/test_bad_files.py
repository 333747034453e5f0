"""Bad input files, generated: both readers (Python ``io.readers`` and DuckDB) and ``load`` name
the same file and line in one line, and write nothing; BOM and CRLF files read like clean ones."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadgate.batch import score_file_records, write_score_records
from leadgate.engine import compile_model
from leadgate.errors import IngestError
from leadgate.io import read_events, read_leads
from leadgate.model import parse_model
from leadgate.service import load_file
from leadgate.store import open_store
from leadgate.store.schema import events as events_table
from leadgate.store.schema import leads as leads_table

AS_OF = datetime(2026, 11, 2, tzinfo=UTC)
MODEL = """\
name: t
version: "1"
threshold: 10
dimensions:
  fit:
    rules:
      - {name: vp, when: {title: {contains: vp}}, points: 10}
  engagement:
    rules:
      - {name: opens, event: email_open, points: 2}
"""
PLAN = compile_model(parse_model(MODEL, "m.yaml"))
LEAD_COLUMNS = ("lead_id", "title", "city")
EVENT_COLUMNS = ("lead_id", "type", "timestamp")
# Cell text without delimiters, quotes or line ends (those change where a line ends), with
# letters outside ASCII so a multi-byte character can sit right before a bad byte.
CELL = st.text(alphabet="abcXYZ019 éü中-_.", min_size=1, max_size=8).map(str.strip).filter(bool)
BAD_BYTES = [b"\xff", b"\xfe", b"\x80", b"\xc3(", b"\xe2\x82"]
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _lead_lines(titles: list[str]) -> list[bytes]:
    rows = [",".join(LEAD_COLUMNS)]
    rows += [f"L{i},{t},{t[::-1]}" for i, t in enumerate(titles)]
    return [r.encode() for r in rows]


def _event_lines(n: int) -> list[bytes]:
    rows = [",".join(EVENT_COLUMNS)]
    rows += [f"L{i % 3},email_open,2026-10-{1 + i % 28:02d}T09:00:00Z" for i in range(n)]
    return [r.encode() for r in rows]


@st.composite
def corrupted(draw: st.DrawFn, lines: list[bytes]) -> tuple[bytes, int, str]:
    """A file made of ``lines`` with one defect: (bytes, the line it is on, what it is)."""
    kind = draw(st.sampled_from(["bad byte", "short row", "truncated", "long row"]))
    lines = list(lines)
    if kind == "bad byte":
        at = draw(st.integers(1, len(lines)))  # the header too
        line = lines[at - 1].decode()
        cut = draw(st.integers(0, len(line)))
        bad = line[:cut].encode() + draw(st.sampled_from(BAD_BYTES)) + line[cut:].encode()
        lines[at - 1] = bad
    elif kind == "short row":
        at = draw(st.integers(2, len(lines)))
        head, _, tail = lines[at - 1].rpartition(b",")
        lines[at - 1] = head + tail
    elif kind == "long row":
        at = draw(st.integers(2, len(lines)))
        lines[at - 1] += b",extra"
    else:  # the export stopped in the middle of its last line (before its last delimiter)
        at = len(lines)
        last = lines[-1]
        lines[-1] = last[: draw(st.integers(1, last.rfind(b",")))]
        return b"\n".join(lines), at, kind  # no line end after a cut line
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    return end.join(lines) + end, at, kind


def _python_refusal(path: Path, kind: str) -> IngestError:
    with pytest.raises(IngestError) as caught:
        if kind == "leads":
            read_leads(path, need_rows=True)
        else:
            read_events(path)
    return caught.value


def _duckdb_refusal(leads: Path, events: Path | None, out: Path) -> IngestError:
    with pytest.raises(IngestError) as caught:
        write_score_records(PLAN, leads, events, AS_OF, "jsonl", out)
    assert not out.exists(), "a refused file left an output"
    assert not list(out.parent.glob(".leadgate-*")), "a refused file left a temp file"
    return caught.value


def _one_line(err: IngestError, path: Path, line: int) -> None:
    assert err.file == str(path) and err.line == line, str(err)
    assert "\n" not in str(err) and str(err).startswith(f"{path}:{line}: ")


@SETTINGS
@given(titles=st.lists(CELL, min_size=1, max_size=60), data=st.data())
def test_a_bad_leads_file_is_named_by_line_on_both_readers(
    tmp_path_factory: pytest.TempPathFactory, titles: list[str], data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("bad")
    content, line, kind = data.draw(corrupted(_lead_lines(titles)), label="defect")
    leads = folder / "leads.csv"
    leads.write_bytes(content)
    python = _python_refusal(leads, "leads")
    _one_line(python, leads, line)
    duckdb = _duckdb_refusal(leads, None, folder / "out.jsonl")
    _one_line(duckdb, leads, line)
    assert str(duckdb) == str(python)
    if kind == "bad byte":
        assert "not UTF-8 text" in str(python)


@SETTINGS
@given(n=st.integers(1, 80), data=st.data())
def test_a_bad_events_file_is_named_by_line_on_both_readers(
    tmp_path_factory: pytest.TempPathFactory, n: int, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("bad")
    leads = folder / "leads.csv"
    leads.write_bytes(b"\n".join(_lead_lines(["vp", "cto", "vp ops"])) + b"\n")
    content, line, _ = data.draw(corrupted(_event_lines(n)), label="defect")
    events = folder / "events.csv"
    events.write_bytes(content)
    python = _python_refusal(events, "events")
    _one_line(python, events, line)
    duckdb = _duckdb_refusal(leads, events, folder / "out.jsonl")
    _one_line(duckdb, events, line)
    assert str(duckdb) == str(python)


EMPTY = {
    "0 bytes": (b"", 1, "the file is empty (0 bytes)"),
    "header only": (b"lead_id,title,city\n", 2, "no rows after the header"),
    "header only, CRLF": (b"lead_id,title,city\r\n\r\n", 2, "no rows after the header"),
    "wrong delimiter": (b"lead_id|title|city\nL1|vp|x\n", 1, "delimited by '|'"),
    "tabs in a .csv": (b"lead_id\ttitle\nL1\tvp\n", 1, "delimited by tab"),
}


@pytest.mark.parametrize("case", list(EMPTY))
def test_empty_and_misdelimited_leads_files(tmp_path: Path, case: str) -> None:
    content, line, words = EMPTY[case]
    leads = tmp_path / "leads.csv"
    leads.write_bytes(content)
    for err in (
        _python_refusal(leads, "leads"),
        _duckdb_refusal(leads, None, tmp_path / "out.jsonl"),
    ):
        _one_line(err, leads, line)
        assert words in str(err)


@SETTINGS
@given(
    titles=st.lists(CELL, min_size=1, max_size=20),
    bom=st.booleans(),
    end=st.sampled_from(["\n", "\r\n"]),
    final=st.booleans(),
)
def test_bom_and_crlf_read_like_a_clean_file(
    tmp_path_factory: pytest.TempPathFactory, titles: list[str], bom: bool, end: str, final: bool
) -> None:
    folder = tmp_path_factory.mktemp("ok")
    clean, odd = folder / "clean.csv", folder / "odd.csv"
    lines = [b.decode() for b in _lead_lines(titles)]
    clean.write_text("\n".join(lines) + "\n", encoding="utf-8")
    odd.write_bytes(
        ("\ufeff" if bom else "").encode() + (end.join(lines) + (end if final else "")).encode()
    )
    events = folder / "events.csv"
    events.write_bytes(
        ("\ufeff" if bom else "").encode() + end.join(b.decode() for b in _event_lines(9)).encode()
    )
    assert read_leads(odd) == read_leads(clean)
    expected = score_file_records(PLAN, clean, events, AS_OF)
    assert score_file_records(PLAN, odd, events, AS_OF) == expected
    python = [r for r in _python_records(odd, events)]
    assert python == expected


def _python_records(leads: Path, events: Path) -> list[dict[str, Any]]:
    from leadgate.scoring import iter_scores, read_inputs

    return [s.to_record() for s in iter_scores(PLAN, read_inputs(leads, events), AS_OF)]


def test_mixed_types_in_a_column_score_alike_on_both_readers(tmp_path: Path) -> None:
    # A JSON column holding a number, text, an object and nothing: each executor reads the
    # same text for each (docs/semantics.md "Text"), so no engine refuses what another accepts.
    leads = tmp_path / "leads.jsonl"
    leads.write_text(
        '{"lead_id": 1, "title": "vp", "size": 800}\n'
        '{"lead_id": "L2", "title": 7, "size": "big"}\n'
        '{"lead_id": 3, "title": {"a": 1}, "size": null}\n'
        '{"lead_id": 4.0, "title": true}\n'
    )
    expected = _python_records_no_events(leads)
    assert score_file_records(PLAN, leads, None, AS_OF) == expected
    assert score_file_records(PLAN, leads, None, AS_OF, engine="sqlite") == expected


def _python_records_no_events(leads: Path) -> list[dict[str, Any]]:
    from leadgate.scoring import iter_scores, read_inputs

    return [s.to_record() for s in iter_scores(PLAN, read_inputs(leads, None), AS_OF)]


@SETTINGS
@given(n=st.integers(1, 60), data=st.data())
def test_load_names_the_line_and_writes_nothing(
    tmp_path_factory: pytest.TempPathFactory, n: int, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("load")
    content, line, _ = data.draw(corrupted(_event_lines(n)), label="defect")
    events = folder / "events.csv"
    events.write_bytes(content)
    leads = folder / "leads.csv"
    leads_content, leads_line, _ = data.draw(corrupted(_lead_lines(["vp"] * n)), label="leads")
    leads.write_bytes(leads_content)
    with open_store(f"sqlite:///{folder / 's.db'}") as store:
        for path, kind, at in ((leads, "leads", leads_line), (events, "events", line)):
            with pytest.raises(IngestError) as caught:
                load_file(store, kind, path, as_of=AS_OF)
            _one_line(caught.value, path, at)
        with store.engine.connect() as conn:
            for table in (leads_table, events_table):
                assert conn.execute(select(func.count()).select_from(table)).scalar() == 0


def test_a_0_byte_file_is_refused_by_load_but_a_header_alone_loads_nothing(
    tmp_path: Path,
) -> None:
    # A day without new leads is an export with a header and no rows: nothing to load, fine.
    # A 0-byte file is an export that failed before its header: refused.
    empty, header = tmp_path / "empty.csv", tmp_path / "header.csv"
    empty.write_bytes(b"")
    header.write_text("lead_id,title\n")
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        with pytest.raises(IngestError, match=r"empty.csv:1: the file is empty \(0 bytes\)"):
            load_file(store, "leads", empty, as_of=AS_OF)
        assert load_file(store, "leads", header, as_of=AS_OF).rows == 0
    assert os.path.exists(tmp_path / "s.db")


@pytest.mark.parametrize(
    ("name", "content"),
    [("events.csv", b"lead_id,type,timestamp\n"), ("events.jsonl", b""), ("events.jsonl", b"\n\n")],
)
def test_an_events_file_without_rows_scores_like_no_events(
    tmp_path: Path, name: str, content: bytes
) -> None:
    # A day without activity: its export has a header (CSV) or nothing (JSONL), and no rows.
    leads = tmp_path / "leads.csv"
    leads.write_bytes(b"\n".join(_lead_lines(["vp", "cto"])) + b"\n")
    events = tmp_path / name
    events.write_bytes(content)
    expected = score_file_records(PLAN, leads, None, AS_OF)
    for engine in ("duckdb", "sqlite"):
        assert score_file_records(PLAN, leads, events, AS_OF, engine=engine) == expected
    assert _python_records(leads, events) == expected
