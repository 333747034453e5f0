"""Building the funnel frame from files: personas, segments, outcome validation, stage flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadgate.errors import IngestError
from leadgate.report.frame import frame_from_files, persona_of, read_outcomes, size_segment

LEADS = """lead_id,email,title,seniority,company_size,region,source,created_at
A,a@x.com,VP of Sales,,300,NA,referral,2026-01-02T00:00:00Z
B,b@y.com,Student,student,,EMEA,webinar,2026-01-03T00:00:00Z
C,c@z.com,Data Analyst,,9000,APAC,cold_list,2026-02-01T00:00:00Z
"""
OUTCOMES = """lead_id,mql_time,sal_status,sal_time,reject_reason,first_touch_time,sql_time,opportunity_time,amount,closed_time,outcome
A,2026-01-10T10:00:00Z,accepted,2026-01-11T10:00:00Z,,2026-01-10T11:00:00Z,2026-01-15T00:00:00Z,2026-01-20T00:00:00Z,5000,2026-03-01T00:00:00Z,won
B,2026-01-12T10:00:00Z,rejected,2026-01-13T10:00:00Z,student,2026-01-12T12:00:00Z,,,,,
"""


def _files(tmp_path: Path, outcomes: str = OUTCOMES) -> tuple[Path, Path]:
    (tmp_path / "leads.csv").write_text(LEADS)
    (tmp_path / "outcomes.csv").write_text(outcomes)
    return tmp_path / "leads.csv", tmp_path / "outcomes.csv"


@pytest.mark.parametrize(
    ("title", "seniority", "band"),
    [
        ("VP of Engineering Operations", None, "vp/director"),
        ("Chief Revenue Officer", None, "executive"),
        ("Head of Marketing", None, "vp/director"),
        ("Senior Sales Manager", None, "manager"),
        ("Marketing Intern", None, "student/intern"),
        ("PhD Student", None, "student/intern"),
        ("Data Analyst", None, "individual contributor"),
        ("Anything", "c_level", "executive"),
        ("Anything", "individual_contributor", "individual contributor"),
        (None, None, "unknown"),
    ],
)
def test_persona_bands(title: str | None, seniority: str | None, band: str) -> None:
    assert persona_of(title, seniority) == band


def test_size_segments() -> None:
    assert [size_segment(v) for v in (10, 200, 4999, 5000, None, "n/a")] == [
        "smb", "mid_market", "mid_market", "enterprise", "unknown", "unknown",
    ]  # fmt: skip


def test_frame_from_files_has_one_row_per_cycle_and_per_other_lead(tmp_path: Path) -> None:
    leads, outcomes = _files(tmp_path)
    f = frame_from_files(leads, outcomes, model_version="v7").set_index("lead_id")
    assert list(f.index) == ["A", "B", "C"]
    assert f.loc["A", "won"] and f.loc["A", "opp"] and f.loc["A", "sql"] and f.loc["A", "sal"]
    assert f.loc["B", "sal_status"] == "rejected" and not f.loc["B", "sal"]
    assert f.loc["B", "reject_reason"] == "student"
    assert not f.loc["C", "is_mql"] and f.loc["C", "cycle"] == 0
    assert f.loc["A", "cohort"] == "2026-01" and f.loc["C", "lead_cohort"] == "2026-02"
    assert f.loc["A", "persona"] == "vp/director" and f.loc["B", "persona"] == "student/intern"
    assert f.loc["A", "channel"] == "referral" and f.loc["C", "segment"] == "enterprise"
    assert set(f["model_version"]) == {"v7"}
    assert f.loc["A", "amount"] == 5000


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("A,,accepted,,,,,,,,", "mql_time", "missing mql_time"),
        ("A,2026-01-10,maybe,,,,,,,,", "sal_status", "expected accepted or rejected, got 'maybe'"),
        ("A,2026-01-10,accepted,,,,,,,,pending", "outcome", "expected won, lost or open"),
        ("A,2026-01-10,accepted,,,,,,lots,,", "amount", "expected a number, got 'lots'"),
        ("A,2026-01-10,accepted,yesterday,,,,,,,", "sal_time", "expected an ISO 8601 timestamp"),
    ],
)
def test_bad_outcome_rows_name_file_line_and_field(
    tmp_path: Path, row: str, field: str, message: str
) -> None:
    header = OUTCOMES.splitlines()[0]
    path = tmp_path / "outcomes.csv"
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(IngestError, match=rf"outcomes\.csv:2: {field}: {message}"):
        read_outcomes(path)


def test_outcome_for_unknown_lead_is_rejected(tmp_path: Path) -> None:
    header = OUTCOMES.splitlines()[0]
    leads, outcomes = _files(tmp_path, f"{header}\nZ,2026-01-10T00:00:00Z,,,,,,,,,\n")
    with pytest.raises(
        IngestError, match=r"outcomes\.csv:2: lead_id: lead 'Z' is not in .*leads\.csv"
    ):
        frame_from_files(leads, outcomes)
