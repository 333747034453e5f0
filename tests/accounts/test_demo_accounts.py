"""The demo's MQAs (demo_accounts): account scores from the reference model's lead scores are
the ones ``leadgate accounts score`` gives from the files."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadgate.account_scoring import score_account_files
from leadgate.demo import REFERENCE_MODEL
from leadgate.demo_accounts import ACCOUNT_MODEL, prepare_demo_accounts, score_demo_accounts
from leadgate.scoring import score_files
from leadgate.synth import generate


def test_demo_accounts_equal_the_files_scores(tmp_path: Path) -> None:
    synth = generate(300, 5, tmp_path)
    leads = score_files(REFERENCE_MODEL, synth.leads, synth.events, synth.as_of, engine="python")
    inputs = prepare_demo_accounts(tmp_path, 5, synth.as_of)
    demo = score_demo_accounts(
        inputs, REFERENCE_MODEL, leads, Path(synth.events), synth.as_of, "python"
    )
    files = score_account_files(
        ACCOUNT_MODEL, synth.leads, [synth.events, demo.events_file], demo.accounts_file,
        synth.as_of,
    )  # fmt: skip
    assert len(demo.scores) == len(files) > 0 and any(s.mqa for s in files)
    for mine, theirs in zip(demo.scores, files, strict=True):
        a, b = mine.to_record(), theirs.to_record()
        assert a["total"] == pytest.approx(b["total"], abs=1e-9)
        for key in ("account_id", "mqa", "abm", "missing", "buying_group"):
            assert a[key] == b[key], (key, a, b)
    assert {s.account_id for s in demo.queue} == {s.account_id for s in files if s.mqa}
    assert [s.total for s in demo.queue] == sorted((s.total for s in demo.queue), reverse=True)
