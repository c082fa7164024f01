#!/usr/bin/env bash
# Set everything up, lint, then run the test suite. Extra arguments go to pytest.
# Exit code: pytest's when it fails ("no tests collected", 5, counts as a failure), else
# ruff's. pytest runs even when ruff finds problems, so one run reports both.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

echo "[test] ruff check ."
ruff_rc=0
.venv/bin/ruff check . || ruff_rc=$?

echo "[test] pytest"
rc=0
QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q "$@" || rc=$?
if ((rc == 5)); then
    echo "[test] pytest collected no tests: that is a failure" >&2
fi
if ((rc == 0 && ruff_rc != 0)); then
    echo "[test] tests passed but ruff found problems (exit $ruff_rc)" >&2
    rc=$ruff_rc
fi
exit "$rc"
