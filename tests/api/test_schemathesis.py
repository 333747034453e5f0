"""Schemathesis against the real server, on SQLite and PostgreSQL: no 500, no answer outside the
OpenAPI document (status, content type, headers, body schema), and every schema-invalid request
refused with a 4xx.

The run is the ``st`` command line (examples, coverage, fuzzing and stateful phases) with a fixed
seed and a fixed budget of examples per operation, against ``create_app`` under uvicorn on
loopback with one admin key (``schemathesis_hooks.py`` keeps the run from revoking it). The JSON
report's figures (operations, cases, failures) are printed; any failure fails the test.

Each backend gets the whole coverage phase (the boundary and negative values of every
parameter, where the stores differ: NUL bytes, integer ranges, long strings) and its own seed
for the fuzzing phase, so the two runs fuzz every operation with different cases: 2 x 6 distinct
random cases an operation, where one seed for both sent the same 12 twice (drawing a case costs
the ``st`` process more CPU than the server spends answering it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api_helpers import live_server
from leadgate.api.keys import create_key
from leadgate.store import open_store
from store_helpers import BACKENDS, temp_store_url

# Installed or not, without importing it here (its `st` command runs in a process of its own).
if importlib.util.find_spec("schemathesis") is None:
    pytest.skip("could not import 'schemathesis'", allow_module_level=True)

EXAMPLES_PER_OPERATION = 6
SEEDS = {"sqlite": 11, "postgres": 12}
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)
HERE = Path(__file__).parent


def run_schemathesis(  # type: ignore[type-arg]
    base_url: str, token: str, protected: list[str], out: Path, seed: int
) -> dict:
    """Run ``st run`` against ``base_url``; returns its JSON report (the output is in ``out``)."""
    report = out / "report.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "LEADGATE_ST_PROTECTED": ",".join(protected),
        # Hypothesis keeps the Unicode tables its text strategies need (2 CPU-s to build, a loop
        # over every code point) in its storage folder, by default `.hypothesis` in the working
        # folder: `out`, new each run. The repository's is kept between runs (git ignores it).
        "HYPOTHESIS_STORAGE_DIRECTORY": str(HERE.parents[1] / ".hypothesis"),
    }
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", str(seed),
        "--checks", CHECKS, "--workers", "1", "--request-timeout", "60",
        "--report", "json", "--report-json-path", str(report), "--no-color",
        "--generation-database", "none",  # as a new, empty folder each run gave: nothing replayed
    ]  # fmt: skip
    done = subprocess.run(
        command, env=env, cwd=out, capture_output=True, text=True, timeout=900, check=False
    )
    (out / "st.txt").write_text(done.stdout + done.stderr)
    assert report.exists(), done.stdout[-4000:] + done.stderr[-4000:]
    result: dict = json.loads(report.read_text())  # type: ignore[type-arg]
    result["output"] = done.stdout
    return result


@pytest.mark.parametrize("backend", BACKENDS)
def test_schemathesis_finds_no_500_and_no_schema_violation(backend: str, tmp_path: Path) -> None:
    with temp_store_url(backend, tmp_path) as url:
        store = open_store(url)
        made = create_key(store, "admin", name="schemathesis-admin")
        store.close()
        protected = [str(made.key.id), made.key.prefix, made.key.name]
        with live_server(url, auth_failures_per_minute=0) as base:
            report = run_schemathesis(base, made.token, protected, tmp_path, SEEDS[backend])
    operations, cases = report["operations"], report["test_cases"]
    failures = {f["code"]: f["count"] for f in report["failures"]}
    print(
        f"schemathesis on {backend}: {operations['tested']} operations, "
        f"{cases['generated']} cases, failures by kind {failures or 'none'}"
    )
    assert operations["tested"] == operations["total"] > 20
    assert cases["generated"] > 20 * operations["tested"]
    assert not report["errors"], report["errors"]
    assert not failures, report["output"][-20_000:]
