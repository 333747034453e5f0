#!/usr/bin/env bash
# leadgate's quick start: `./dev.sh demo` runs the main job, `./dev.sh test` the whole test suite.
# Both create (or reuse) .venv and install leadgate with every extra the tests need.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  stamp="$VENV/.leadgate-installed"
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[server,learn,report,spark,dev]"
    echo "$want" > "$stamp"
  fi
}

cmd=${1:-help}
shift || true
case "$cmd" in
  setup) setup ;;
  demo) setup; exec "$VENV/bin/leadgate" demo "$@" ;;
  test) setup; exec "$VENV/bin/python" -m pytest -n "${PYTEST_WORKERS:-2}" "$@" ;;
  lint) setup; "$VENV/bin/ruff" check src tests benchmarks; "$VENV/bin/ruff" format --check src tests benchmarks; "$VENV/bin/mypy" --strict src/leadgate ;;
  *) echo "usage: ./dev.sh demo|test|setup|lint [args...]"; exit 2 ;;
esac
