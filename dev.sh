#!/usr/bin/env bash
# leadgate's quick start: `./dev.sh demo` runs the main job, `./dev.sh test` the whole test suite.
#
# Both create (or reuse) .venv. The demo installs leadgate with its base dependencies only (under
# a minute on a fresh machine); the test suite adds every extra (server, web, learn, report,
# spark, crm, dev)
# and, unless LEADGATE_TEST_PG_URL names a server, starts a throw-away PostgreSQL on loopback for
# the run. Missing system packages (PostgreSQL, Java for Spark, Chromium for the browser tests)
# are installed with apt-get when running as root.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv
ALL_EXTRAS=server,web,learn,report,spark,crm,dev

# Run a command quietly: its output goes to a log that is shown only if it fails (pip prints
# many warning lines on some machines; they are noise when the install works).
quiet() {
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/leadgate-dev.XXXXXX")
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "dev.sh: failed: $*" >&2
    return 1
  fi
  rm -f "$log"
}

# install_into_venv ARGS: `pip install ARGS` into .venv, by uv when it can be had. uv resolves,
# downloads and unpacks in parallel: the suite's extras on a fresh machine took pip 94 s and uv
# 39 s (most of it building PySpark, which PyPI has only as a source archive). --no-cache: uv's
# cache of them would hold 3.7 GB. Without uv (no registry for it), pip does the same install.
# Neither byte-compiles what it installs: that costs more CPU than the whole demo, and Python
# compiles the few modules it imports on first use.
install_into_venv() {
  # uv's own failures are not shown: pip then tries, and shows its failure if it fails too.
  if { [ -x "$VENV/bin/uv" ] || "$VENV/bin/python" -m pip install --disable-pip-version-check -q 'uv>=0.5' >/dev/null 2>&1; } &&
    "$VENV/bin/uv" pip install --no-cache --python "$VENV/bin/python" "$@" >/dev/null 2>&1; then
    return 0
  fi
  quiet "$VENV/bin/python" -m pip install --disable-pip-version-check --no-compile "$@"
}

# setup [EXTRAS]: leadgate (editable) with EXTRAS into .venv; reinstalls only when pyproject.toml
# changed or more extras are wanted than the last install had.
setup() {
  local extras=${1:-} stamp="$VENV/.leadgate-installed" want have spec
  if [ ! -x "$VENV/bin/python" ]; then
    echo "dev.sh: creating $VENV" >&2
    quiet "$PY" -m venv "$VENV"
  fi
  want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras:-base}"
  have=$(cat "$stamp" 2>/dev/null || true)
  # An install with every extra also serves the demo.
  if [ "$have" = "$want" ] || { [ -z "$extras" ] && [ "$have" = "${want% *} $ALL_EXTRAS" ]; }; then
    return 0
  fi
  spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  echo "dev.sh: installing leadgate${extras:+ with $extras} into $VENV (once)" >&2
  install_into_venv -e "$spec"
  echo "$want" >"$stamp"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

APT_UPDATED=""
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "dev.sh: please install $* (no apt-get here)" >&2
    return 1
  fi
  echo "dev.sh: installing $* with apt-get (once)" >&2
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$APT_UPDATED" ] || quiet as_root apt-get update -qq
  APT_UPDATED=1
  quiet as_root apt-get install -y -qq --no-install-recommends "$@"
}

# System packages of the integration tests: PostgreSQL binaries (when no server is given),
# Java for Spark, Chromium for the browser tests.
system_deps() {
  local need=()
  if [ -z "${LEADGATE_TEST_PG_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
  fi
  command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)  # the TLS tests make a certificate
  if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
}

# A throw-away PostgreSQL server on a free loopback port for this run; stopped on exit.
PGDATA_TMP=""
stop_pg() {
  [ -n "$PGDATA_TMP" ] || return 0
  run_pg "$PGBIN/pg_ctl" -D "$PGDATA_TMP" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA_TMP"
}
run_pg() {
  # initdb refuses to run as root: as root, the server runs as the postgres user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
start_pg() {
  local port
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGDATA_TMP=$(mktemp -d "${TMPDIR:-/tmp}/leadgate-test-pg.XXXXXX")
  # run_tests' EXIT trap (cleanup) stops the server; interrupted or killed: exit, so it runs.
  [ "$(id -u)" != 0 ] || chown postgres "$PGDATA_TMP"
  quiet run_pg "$PGBIN/initdb" -D "$PGDATA_TMP" -A trust -U postgres
  # A free loopback port, or LEADGATE_TEST_PG_PORT when set.
  port=${LEADGATE_TEST_PG_PORT:-$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  # fsync off: a test server needs no durability; many connections: parallel workers.
  quiet run_pg "$PGBIN/pg_ctl" -D "$PGDATA_TMP" -l "$PGDATA_TMP/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PGDATA_TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start
  quiet run_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres leadgate_test
  export LEADGATE_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/leadgate_test"
  echo "dev.sh: PostgreSQL for the tests on 127.0.0.1:$port (stopped afterwards)" >&2
}

# The tests' temporary files (pytest's tmp_path: SQLite stores, CSV files, the test PostgreSQL's
# data) on tmpfs when /dev/shm is there: a SQLite commit waits ~7 ms for fsync on this machine's
# disk and ~0.1 ms on tmpfs, and the suite commits tens of thousands of times. Removed afterwards.
TEST_TMP=""
cleanup() {
  stop_pg
  [ -z "$TEST_TMP" ] || rm -rf "$TEST_TMP"
}
use_tmpfs() {
  # Only with room for the suite's files (a container's /dev/shm is often 64 MB).
  local free_kb
  free_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')
  [ "${free_kb:-0}" -ge 4000000 ] || return 0
  if [ -d /dev/shm ] && [ -w /dev/shm ] && TEST_TMP=$(mktemp -d /dev/shm/leadgate-tests.XXXXXX 2>/dev/null); then
    [ "$(id -u)" != 0 ] || chmod 755 "$TEST_TMP"  # the test PostgreSQL runs as postgres
    export TMPDIR="$TEST_TMP"
  fi
}

run_tests() {
  setup "$ALL_EXTRAS"
  system_deps
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  use_tmpfs
  # Bytecode for the project's own files, once: with PYTHONDONTWRITEBYTECODE set (as on some
  # machines), every `leadgate` process a test starts would compile the whole package again.
  unset PYTHONDONTWRITEBYTECODE
  "$VENV/bin/python" -m compileall -q -j 0 src >/dev/null
  [ -n "${LEADGATE_TEST_PG_URL:-}" ] || start_pg
  # Every integration test runs: tests/conftest.py fails the run if one of them skips.
  export LEADGATE_REQUIRE_INTEGRATION=${LEADGATE_REQUIRE_INTEGRATION:-1}
  # loadgroup: tests/conftest.py puts every Spark test in one group (one JVM for the run).
  "$VENV/bin/python" -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"
}

cmd=${1:-help}
shift || true
case "$cmd" in
  setup) setup "${1:-$ALL_EXTRAS}" ;;
  demo) setup; exec "$VENV/bin/leadgate" demo "$@" ;;
  test) run_tests "$@" ;;
  lint)
    setup "$ALL_EXTRAS"
    "$VENV/bin/ruff" check src tests benchmarks
    "$VENV/bin/ruff" format --check src tests benchmarks
    "$VENV/bin/mypy" --strict src/leadgate
    ;;
  *) echo "usage: ./dev.sh demo|test|setup|lint [args...]"; exit 2 ;;
esac
