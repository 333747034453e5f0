"""``leadgate serve --ssl-certfile --ssl-keyfile``: HTTPS on loopback with a self-signed
certificate made in the test (the ``openssl`` binary), checked by an https client that trusts
exactly that certificate; half a TLS configuration or a bad file is one line naming the option."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api_helpers import bearer, free_port
from cli_helpers import in_process
from leadgate.api.keys import create_key
from leadgate.store import open_store


def _self_signed(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    assert openssl, "the TLS test needs the openssl binary (Debian package openssl)"
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _serve(db: str, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "leadgate", "serve", "--db", db, "--port", str(port),
         "--no-webhooks", "--tick-seconds", "0", "--log-level", "warning", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_serve_speaks_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    db = str(tmp_path / "lg.db")
    store = open_store(db)
    token = create_key(store, "admin", name="ops").token
    store.close()
    port = free_port()
    proc = _serve(db, port, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    trust = ssl.create_default_context(cafile=str(cert))
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "server exited"
            try:
                health = httpx.get(f"{base}/healthz", verify=trust, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the HTTPS server did not come up"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        with httpx.Client(base_url=base, verify=trust, timeout=30) as https:
            assert https.get("/v1/whoami", headers=bearer(token)).json()["name"] == "ops"
        with pytest.raises(httpx.TransportError):  # plain HTTP gets no answer
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        with pytest.raises(httpx.ConnectError):  # nor does a client that does not trust it
            httpx.get(f"{base}/healthz", timeout=5)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "https://127.0.0.1" in out  # the announced address says https


def test_half_or_bad_tls_options_are_one_line_naming_the_option(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate\n")
    db = str(tmp_path / "lg.db")
    cases = [
        (["--ssl-certfile", str(cert)], "--ssl-certfile needs --ssl-keyfile"),
        (["--ssl-keyfile", str(cert)], "--ssl-keyfile needs --ssl-certfile"),
        (["--ssl-certfile", str(cert), "--ssl-keyfile", str(cert)], "not a PEM certificate"),
        (
            ["--ssl-certfile", str(tmp_path / "nope.pem"), "--ssl-keyfile", str(cert)],
            "no such file",
        ),
        (["--auth-failures", "-1"], "--auth-failures: must be 0 (no limit) or more"),
    ]
    # The first refusal as a user meets it (a process); the others through the same
    # ``leadgate.cli.main`` in this process (a refused ``serve`` costs a process 1 CPU-s).
    for n, (extra, message) in enumerate(cases):
        if n == 0:
            proc = _serve(db, free_port(), *extra)
            out, _ = proc.communicate(timeout=60)
            code = proc.returncode
        else:
            args = ["--db", db, "--port", str(free_port()), "--no-webhooks", "--tick-seconds", "0"]
            done = in_process("serve", *args, *extra)
            out, code = done.stdout + done.stderr, done.returncode
        assert code != 0, out
        assert message in out, out
        assert "Traceback" not in out
    assert not Path(db).exists()  # refused before the store was touched
