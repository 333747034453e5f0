"""``leadgate reasons``: list, set, remove, replace and reset the reject reason codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_store_cmds import AS_OF, MODEL, run
from test_store_cmds import _registered as _registered  # autouse: registers the commands

__all__ = ["_registered"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {k: tmp_path / f"{k}.{ext}" for k, ext in (("leads", "csv"), ("events", "csv"))}
    paths["model"] = tmp_path / "model.yaml"
    paths["leads"].write_text("lead_id,email,title\nL1,ann@acme.com,VP Sales\n")
    paths["events"].write_text(
        "event_id,lead_id,type,timestamp\ne1,L1,demo_request,2026-02-28T00:00:00Z\n"
    )
    paths["model"].write_text(MODEL)
    return paths


def _codes(capsys: pytest.CaptureFixture[str], db: str) -> dict[str, str]:
    code, out, err = run(capsys, "reasons", "list", "--db", db, "--json")
    assert code == 0, err
    return json.loads(out)


def test_built_in_codes_are_listed_with_their_targets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "s.db")
    codes = _codes(capsys, db)
    assert codes["student"] == "disqualified" and codes["no_intent"] == "nurture"
    code, out, _ = run(capsys, "reasons", "list", "--db", db)
    assert code == 0 and "rejected leads go to" in out and "competitor" in out


def test_set_remove_and_reset_change_what_a_rejection_may_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "s.db")
    assert run(capsys, "reasons", "set", "no_budget", "--to", "nurture", "--db", db, *AS_OF)[0] == 0
    assert run(capsys, "reasons", "set", "student", "--to", "nurture", "--db", db, *AS_OF)[0] == 0
    assert run(capsys, "reasons", "remove", "competitor", "--db", db, *AS_OF)[0] == 0
    codes = _codes(capsys, db)
    assert codes["no_budget"] == "nurture" and codes["student"] == "nurture"
    assert "competitor" not in codes
    code, _, err = run(capsys, "reasons", "remove", "competitor", "--db", db, *AS_OF)
    assert code == 3 and "no reject reason code 'competitor'" in err
    assert run(capsys, "reasons", "reset", "--db", db, *AS_OF)[0] == 0
    codes = _codes(capsys, db)
    assert "no_budget" not in codes and codes["competitor"] == "disqualified"


def test_bad_targets_and_codes_are_refused_and_change_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "s.db")
    before = _codes(capsys, db)
    code, _, err = run(capsys, "reasons", "set", "no_budget", "--to", "lost", "--db", db, *AS_OF)
    assert code == 1 and "must map to nurture or disqualified" in err
    code, _, err = run(capsys, "reasons", "set", "no budget!", "--to", "nurture", "--db", db)
    assert code == 1 and "reason codes are words" in err
    assert _codes(capsys, db) == before


def test_replace_reads_a_yaml_file_and_names_bad_entries(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "s.db")
    good = tmp_path / "reasons.yaml"
    good.write_text("no_budget: nurture\nspam: disqualified\n")
    code, _, err = run(capsys, "reasons", "replace", str(good), "--db", db, *AS_OF)
    assert code == 0, err
    assert _codes(capsys, db) == {"no_budget": "nurture", "spam": "disqualified"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("no_budget: nurture\nspam: [1, 2]\n")
    code, _, err = run(capsys, "reasons", "replace", str(bad), "--db", db, *AS_OF)
    assert code == 1 and "bad.yaml" in err and "spam" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("no_budget: nurture\n  spam: : x\n")
    code, _, err = run(capsys, "reasons", "replace", str(broken), "--db", db, *AS_OF)
    assert code == 1 and "broken.yaml:2" in err and len(err.strip().splitlines()) == 1
    assert _codes(capsys, db) == {"no_budget": "nurture", "spam": "disqualified"}


def test_rejections_use_the_changed_codes_and_usage_is_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, files: dict[str, Path]
) -> None:
    db = str(tmp_path / "s.db")
    assert run(capsys, "reasons", "set", "no_budget", "--to", "disqualified", "--db", db)[0] == 0
    assert run(capsys, "models", "publish", str(files["model"]), "--db", db, *AS_OF)[0] == 0
    for kind in ("leads", "events"):
        assert run(capsys, "load", kind, str(files[kind]), "--db", db, *AS_OF)[0] == 0
    code, out, err = run(capsys, "queue", "--db", db, "--json", *AS_OF)
    assert code == 0, err
    lead = json.loads(out)[0]["lead_id"]
    code, out, err = run(
        capsys, "dispose", lead, "reject", "--reason", "no_budget", "--db", db, *AS_OF
    )
    assert code == 0 and "disqualified" in out, err
    code, out, _ = run(capsys, "reasons", "list", "--db", db)
    row = next(line for line in out.splitlines() if "no_budget" in line)
    assert "disqualified" in row and row.rstrip(" │").endswith("1")
