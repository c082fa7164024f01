#!/usr/bin/env bash
# Set everything up, then start the whole system (server + kiosk, counter and display apps).
# Extra arguments go to `xephang demo`. The demo's server listens on 127.0.0.1 only: the
# example centre's passwords and tokens are public. `bash scripts/run.sh --host 0.0.0.0`
# shows it on the network (the demo then starts the server with --demo).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

exec .venv/bin/xephang demo "$@"
