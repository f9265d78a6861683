#!/usr/bin/env bash
# The whole test suite from a fresh machine: a venv, a real (non-editable) install of the
# package with its test extras, then lint, types and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# VENV picks another venv (not prefixed like the simulator's settings variables: they are all
# read as settings)
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet ".[test]"
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest "$@"
