#!/usr/bin/env bash
# Set everything up, then start the whole system (server + kiosk, counter and display apps).
# Extra arguments go to `xephang demo`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

exec .venv/bin/xephang demo "$@"
