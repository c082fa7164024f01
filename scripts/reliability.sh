#!/usr/bin/env bash
# The long reliability run (issue #7): many more SIGKILLs of the real server under load,
# more fuzzing, the slow variants (half-dead network, ...), then the headline figures.
#
#   scripts/reliability.sh                 # 300 kills, 1000 fuzz examples per role
#   KILLS=1000 EXAMPLES=5000 scripts/reliability.sh
#   scripts/reliability.sh -k crash        # extra arguments go to pytest
#
# Figures are printed at the end and kept in $XEPHANG_RELIABILITY_REPORT
# (default: data/reliability-report.json); docs/reliability.md quotes them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -x .venv/bin/python ]] || bash scripts/setup.sh

mkdir -p data
export XEPHANG_SLOW=1
export XEPHANG_CRASH_KILLS="${KILLS:-300}"
export XEPHANG_CRASH_SECONDS="${SECONDS_LIMIT:-3600}"
export XEPHANG_FUZZ_EXAMPLES="${EXAMPLES:-1000}"
export XEPHANG_RELIABILITY_REPORT="${XEPHANG_RELIABILITY_REPORT:-$PWD/data/reliability-report.json}"
export QT_QPA_PLATFORM=offscreen

echo "[reliability] ${XEPHANG_CRASH_KILLS} kills, ${XEPHANG_FUZZ_EXAMPLES} fuzz examples per role"
start=$(date +%s)
rc=0
.venv/bin/python -m pytest -q -p tests.reliability.report_plugin --timeout=0 -o addopts="" \
    tests/test_crash_safety.py tests/test_client_resilience.py tests/test_fuzz_server.py \
    tests/test_hostile_clients.py tests/test_tls.py tests/test_backup_restore.py "$@" || rc=$?
echo "[reliability] finished in $(( $(date +%s) - start )) s (exit $rc); figures: $XEPHANG_RELIABILITY_REPORT"
exit "$rc"
