"""How the demo deploys the hub: in this process (one worker, SQLite, the embedded default),
or as `tongban run --workers N` beside it (N processes sharing the partitions, as in
production), on PostgreSQL when it answers: a store shared by several processes belongs
there (SQLite serialises every writer; it stays the fallback, with a warning)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from hub.config import ROOT

log = logging.getLogger("tongban.demo")

DEMO_PG_URL = os.environ.get("TONGBAN_DEMO_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEMO_SCHEMA = os.environ.get("TONGBAN_DEMO_PG_SCHEMA", "tongban_demo")


def _sqlite_file(url: str | None) -> Path | None:
    if url and url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///"):].split("?")[0])
    return None


def sqlite_url(configured: str | None = None) -> str:
    """The configured store when it is a SQLite file (the default, var/tongban.db): the demo
    leaves its state where `tongban dlq list`, `status`, `dualtrack status` and the console
    look by default. It starts afresh (so it counts only its own run): the file found there
    is kept beside it as <name>.before-demo. A store that is not a SQLite file (an operator's
    PostgreSQL) is never touched: the demo uses var/demo.db then, and says so at its end."""
    db = _sqlite_file(configured) or ROOT / "var" / "demo.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists():
        db.replace(db.with_name(db.name + ".before-demo"))
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    return f"sqlite:///{db}"


def how_to_open(db_url: str, configured: str | None) -> str:
    """The one line that tells a user where the demo's state is and how the tools reach it."""
    if db_url == configured:
        return (f"the demo's store is the default one ({db_url[len('sqlite:///'):]}): `tongban dlq list`, "
                "`tongban status`, `tongban dualtrack status` read it as they are")
    return f"the demo's store: export TONGBAN_DB_URL='{db_url}'  (then `tongban dlq list`, `tongban status`, ...)"


def postgres_url() -> str | None:
    """A fresh schema of its own in the demo's PostgreSQL, or None if it does not answer."""
    from hub.store.schemas import fresh_schema_url
    try:
        return fresh_schema_url(DEMO_PG_URL, DEMO_SCHEMA)
    except Exception as exc:  # no PostgreSQL here: the caller falls back to SQLite
        log.warning("PostgreSQL at %s does not answer (%s)", DEMO_PG_URL.split("@")[-1], exc.__class__.__name__)
        return None


def store_url(workers: int, configured: str | None = None) -> str:
    if workers > 1:
        url = postgres_url()
        if url:
            return url
        log.warning("%d workers on a SQLite store: it works on one machine, slower", workers)
    return sqlite_url(configured)


class WorkerProcesses:
    """`tongban run --workers N` with exactly the demo's settings (a file of their own), its
    log in var/demo-hub.log."""

    def __init__(self, settings: dict, workers: int):
        fd, self.config = tempfile.mkstemp(prefix="tongban-demo-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(settings, fh, allow_unicode=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN")}   # all in the file
        env["TONGBAN_CONFIG"] = self.config
        self.log_path = Path(ROOT / "var" / "demo-hub.log")
        self.proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", "run", "--workers", str(workers)],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path, "wb"))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def shutdown(self, timeout: float = 90.0) -> None:
        if self.alive():
            self.proc.terminate()     # SIGTERM: each worker finishes its batch
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        Path(self.config).unlink(missing_ok=True)
