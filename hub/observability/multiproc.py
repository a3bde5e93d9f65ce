"""Metrics of `tongban run --workers N`: one directory of value files, shared by the workers.

The parent makes the directory and names it in PROMETHEUS_MULTIPROC_DIR before it starts
any worker (a spawned worker is a fresh interpreter and reads it when prometheus-client is
first imported); each worker writes its own files there, and the parent's /metrics adds
them up (exposition.py). A fresh directory per run: files of an earlier run would be
counted again. Files of a worker that died stay: its counts happened."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> str:
    """Name a fresh, empty directory in the environment (the operator's own, if set, emptied)."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for f in path.glob("*.db"):
            f.unlink()
        return str(path)
    path = tempfile.mkdtemp(prefix="tongban-metrics-")
    os.environ[ENV] = path
    atexit.register(shutil.rmtree, path, True)
    return path
