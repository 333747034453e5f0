"""Store and server URLs as a user mistypes them: one line, exit 1, no traceback, and the
password never printed or logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli_helpers import in_process, leadgate
from factories import REFERENCE_MODEL
from leadgate.redact import mask_password
from leadgate.store import StoreError, open_store

SECRET = "s3cr3t-Pa55"
BAD_URLS = [
    f"postgresql+nosuchdriver://user:{SECRET}@localhost/db",
    f"postgresql://user:{SECRET}@localhost:notaport/db",
    f"mysql://user:{SECRET}@host/db",
    f"nosuchscheme://user:{SECRET}@host/db",
    f"postgresql://user:{SECRET}@127.0.0.1:1/db",  # nothing listens on port 1
    f"postgresql://user:{SECRET}@/db?host=/nonexistent-socket-dir",
]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", [["queue"], ["tick"]])
def test_a_bad_store_url_is_one_line_without_the_password(url: str, command: list[str]) -> None:
    # Each URL once as a user runs it (queue); the same URL in tick in this process.
    run = leadgate if command == ["queue"] else in_process
    done = run(*command, "--db", url)
    assert done.returncode == 1
    assert SECRET not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr
    assert "***" in lines[0]


@pytest.mark.parametrize("url", BAD_URLS)
def test_the_store_url_password_is_in_no_log_line(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert SECRET not in str(caught.value)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_the_postgres_engine_checks_its_server_before_reading(tmp_path: Path) -> None:
    # The leads file is 0 bytes: reading it first would say so; the server is asked first.
    leads = tmp_path / "leads.csv"
    leads.write_bytes(b"")
    base = ["score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--engine", "postgres"]
    unset = {"LEADGATE_PG_URL": "", "LEADGATE_TEST_PG_URL": ""}
    done = leadgate(*base, env=unset)
    assert done.returncode == 1 and "needs a server: set LEADGATE_PG_URL" in done.stderr
    down = {**unset, "LEADGATE_PG_URL": f"postgresql://user:{SECRET}@127.0.0.1:1/db"}
    done = in_process(*base, env=down)
    assert done.returncode == 1 and "the postgres engine cannot reach" in done.stderr
    assert SECRET not in done.stderr and "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1


@given(
    user=st.text(alphabet="abcxyz_", min_size=1, max_size=8),
    password=st.text(
        alphabet=st.characters(blacklist_categories=["Cs", "Zs", "Cc"]), min_size=1, max_size=20
    ),
    tail=st.sampled_from(["@host/db", "@host:5432/db", "@h:abc/db", "@/db?host=/tmp"]),
    scheme=st.sampled_from(["postgresql", "postgresql+psycopg", "mysql", "x"]),
)
def test_mask_password_hides_any_password(user: str, password: str, tail: str, scheme: str) -> None:
    url = f"{scheme}://{user}:{password}{tail}"
    masked = mask_password(f"cannot open store {url}: refused")
    assert f":{password}@" not in masked
    assert masked.startswith(f"cannot open store {scheme}://{user}:***@")
