"""`tongban run --workers N`: N hub processes under one parent, on this machine.

Each child is a whole hub (hub/runtime/runner.py): the allotment (hub/runtime/allotment.py)
spreads the sources and partitions over them and over any other `tongban run` on other
machines sharing the broker and the store. Processes, not threads: one interpreter lock
bounds a process to about one core of Python work. The parent only supervises: a child
that dies is started again after a second (its units were taken over by the others
meanwhile); SIGTERM or SIGINT is passed on to every child, which finishes the batch in
hand, and the parent exits when they have."""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time

log = logging.getLogger("tongban.workers")


def _child(settings: dict, index: int) -> None:
    from hub import logs
    from hub.runtime.runner import run_forever
    logs.setup()
    logging.getLogger("tongban").info("worker %d (pid %d) starting", index, mp.current_process().pid)
    raise SystemExit(run_forever(settings))


def _forget(pid: int) -> None:
    """A dead worker's live gauges (tongban_message_log_writable) no longer count: the worker
    that takes its sources over says how their logs are."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(pid)


def run_workers(settings: dict, workers: int) -> int:
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if workers > 1 and str(settings.get("db_url", "")).startswith("sqlite"):
        log.warning("%d worker processes share a SQLite store: fine for a demo on one machine; "
                    "use PostgreSQL (TONGBAN_DB_URL) for anything more", workers)
    ctx = mp.get_context("spawn")   # a clean interpreter: no broker connection or thread inherited
    stop = threading.Event()
    procs: dict[int, mp.Process] = {}

    def start(i: int) -> None:
        p = ctx.Process(target=_child, args=(settings, i), name=f"tongban-worker-{i}", daemon=False)
        p.start()
        procs[i] = p
        log.info("worker %d started (pid %d)", i, p.pid)

    def _stop(signum, _frame):
        log.info("signal %s: stopping %d worker(s)", signum, len(procs))
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for i in range(workers):
        start(i)
    while not stop.is_set():
        for i, p in list(procs.items()):
            if not p.is_alive() and not stop.is_set():
                log.warning("worker %d (pid %d) exited with %s; starting it again", i, p.pid, p.exitcode)
                _forget(p.pid)
                time.sleep(1.0)
                start(i)
        stop.wait(0.5)
    for p in procs.values():
        if p.is_alive():
            p.terminate()            # SIGTERM: the child finishes its batch
    deadline = time.monotonic() + 60
    for p in procs.values():
        p.join(max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            log.warning("worker pid %d did not stop in time; killing it", p.pid)
            p.kill()
            p.join(5)
    return 0 if all(p.exitcode == 0 for p in procs.values()) else 1
