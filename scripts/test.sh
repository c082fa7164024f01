#!/usr/bin/env bash
# Set everything up, lint, type-check, then run the test suite. Extra arguments go to pytest.
# Exit code: pytest's when it fails ("no tests collected", 5, counts as a failure), else
# ruff's, else mypy's. pytest runs even when ruff or mypy find problems, so one run reports
# all three. mypy checks what [tool.mypy] in pyproject.toml lists, with its cache in .mypy_cache.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

echo "[test] ruff check ."
ruff_rc=0
.venv/bin/ruff check . || ruff_rc=$?

echo "[test] mypy"
mypy_rc=0
.venv/bin/mypy || mypy_rc=$?

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
if ((rc == 0 && mypy_rc != 0)); then
    echo "[test] tests passed but mypy found problems (exit $mypy_rc)" >&2
    rc=$mypy_rc
fi
exit "$rc"
