"""The writers: ISO timestamps built from lookups, and JSON lines built column-wise."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from leadgate.synth.activity import NONE
from leadgate.synth.writers import iso_utc, json_lines

EPOCHS = st.integers(946_684_800, 7_258_118_399)  # 2000-01-01 .. 2199-12-31


@given(st.lists(st.one_of(EPOCHS, st.just(NONE)), max_size=30))
def test_iso_utc_matches_datetime_formatting(epochs: list[int]) -> None:
    got = iso_utc(np.array(epochs, dtype=np.int64)).to_pylist()
    want = [
        None if e == NONE else datetime.fromtimestamp(e, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for e in epochs
    ]
    assert got == want


def testjson_lines_are_one_valid_object_per_row_with_nulls() -> None:
    table = pa.table(
        {
            "event_id": ["E1", "E2"],
            "url": ["/pricing", None],
            "timestamp": ["2026-01-02T03:04:05Z", "2026-01-02T03:04:06Z"],
        }
    )
    lines = json_lines(table).splitlines()
    assert [json.loads(line) for line in lines] == table.to_pylist()
    assert json_lines(table.slice(0, 0)) == ""
