#!/usr/bin/env bash
# Runs the whole test suite against the real RabbitMQ, PostgreSQL and MariaDB on this
# machine. Extra arguments go to pytest. Does all of its own set-up.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/browser_deps.sh"
cd "$ROOT"
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "no tests were collected" >&2
  exit 1
fi
exit "$rc"
