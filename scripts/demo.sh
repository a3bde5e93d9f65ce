#!/usr/bin/env bash
# Runs the demo: simulators, hub and a live summary. Extra arguments go to `tongban demo`
# (e.g. --cases 300 --json). Does all of its own set-up.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/tongban" demo "$@"
