#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh, safe to run again and again:
# a virtual environment with the project installed, and the local services the hub and
# its tests use (RabbitMQ with the management plugin, PostgreSQL, MariaDB) started if down.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

log() { printf '[setup] %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  log "creating virtual environment .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.tongban-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing the project and its test dependencies"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # port, seconds, name
  for _ in $(seq 1 "$2"); do port_open "$1" && return 0; sleep 1; done
  log "$3 did not come up on port $1"; return 1
}

if ! port_open 5672; then
  log "starting RabbitMQ"
  rabbitmq-server -detached || true
  wait_port 5672 60 RabbitMQ
fi
if ! port_open 15672; then
  log "enabling the RabbitMQ management plugin"
  rabbitmq-plugins enable rabbitmq_management >/dev/null 2>&1 || log "could not enable rabbitmq_management (status falls back to passive declares)"
  wait_port 15672 30 "RabbitMQ management" || true
fi
if ! port_open 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_port 5432 30 PostgreSQL
fi
if ! port_open 3306 && command -v mariadbd >/dev/null 2>&1; then
  log "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  wait_port 3306 30 MariaDB || true
fi
mkdir -p var
