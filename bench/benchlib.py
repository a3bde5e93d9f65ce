"""Shared by the benchmarks: seeded legacy records, the mapping set, an in-memory source,
and small helpers (CPU counters from /proc, rabbitmqctl, topic matching).

The records are what the commerce sim's change feed serves (sims/commerce.py): the
CaseFactory's events in business-time order, `_at` removed, stamped with eventId and
updatedAt, each also kept as the raw JSON text an adapter would hold for dead letters."""
from __future__ import annotations

import json
import os
import random
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from hub.adapter import Page, RawRecord
from hub.mapping import MappingSet
from sims.commerce_data import CaseFactory

ROOT = Path(__file__).resolve().parents[1]
DEPARTMENT, SYSTEM = "commerce", "commerce-registry"   # adapters.commerce.CommerceAdapter
SEED = 20260302
CHUNK = 2000   # cases per CaseFactory: its unique-name space is finite (~20k names)


def make_records(cases: int, seed: int = SEED) -> list[RawRecord]:
    """3 records (受理, 核准, 发照) per case, as the feed serves them."""
    events: list[dict] = []
    clock, serial = datetime(2026, 3, 2, 8, 30), 310000
    for start in range(0, cases, CHUNK):
        factory = CaseFactory(random.Random(seed + start), start=clock)
        factory.serial = serial  # case numbers stay unique across factories
        for _ in range(min(CHUNK, cases - start)):
            events += factory.case()[1]
        clock, serial = factory.clock, factory.serial
    events.sort(key=lambda e: (e["_at"], e["stepNo"]))
    stamp = datetime(2026, 6, 1, 9, 0)
    records = []
    for i, event in enumerate(events, 1):
        del event["_at"]
        item = {"eventId": i, **event, "updatedAt": (stamp + timedelta(microseconds=i)).isoformat(timespec="microseconds")}
        records.append(RawRecord(key=str(i), data=item, raw=json.dumps(item, ensure_ascii=False)))
    return records


def iter_records(cases: int, part: int = 0, parts: int = 1, seed: int = SEED):
    """The records of make_records' kind, made CHUNK cases at a time, for a backlog too big
    to hold in memory: chunk k (cases k*CHUNK...) belongs to part k % parts, so `parts`
    processes make disjoint sets of cases. Case numbers and record keys are unique over all
    parts (serial and eventId offset by the chunk's first case). Yields lists of records."""
    base, stamp = datetime(2026, 3, 2, 8, 30), datetime(2026, 6, 1, 9, 0)
    for k, start in enumerate(range(0, cases, CHUNK)):
        if k % parts != part:
            continue
        factory = CaseFactory(random.Random(seed + start), start=base + timedelta(days=30 * k))
        factory.serial = 310000 + start
        events: list[dict] = []
        for _ in range(min(CHUNK, cases - start)):
            events += factory.case()[1]
        events.sort(key=lambda e: (e["_at"], e["stepNo"]))
        chunk = []
        for i, event in enumerate(events, start * 10 + 1):   # < 10 events a case
            del event["_at"]
            item = {"eventId": i, **event,
                    "updatedAt": (stamp + timedelta(microseconds=i)).isoformat(timespec="microseconds")}
            chunk.append(RawRecord(key=str(i), data=item, raw=json.dumps(item, ensure_ascii=False)))
        yield chunk


def load_mappings() -> MappingSet:
    return MappingSet.load(ROOT / "mappings")


class ListSource:
    """The thinnest Source: pages over a pre-made list; the cursor is the next index."""

    def __init__(self, records: list[RawRecord]):
        self.records = records

    def fetch(self, cursor: dict | None, limit: int) -> Page:
        start = (cursor or {}).get("next", 0)
        page = self.records[start:start + limit]
        end = start + len(page)
        return Page(records=page, cursor={"next": end}, has_more=end < len(self.records))

    def close(self) -> None:
        pass


def topic_match(pattern: str, key: str) -> bool:
    def m(ps, ks):
        if not ps:
            return not ks
        if ps[0] == "#":
            return any(m(ps[1:], ks[i:]) for i in range(len(ks) + 1))
        return bool(ks) and ps[0] in ("*", ks[0]) and m(ps[1:], ks[1:])
    return m(pattern.split("."), key.split("."))


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine, from /proc/stat."""
    fields = [int(x) for x in _read("/proc/stat").split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def broker_pid(port: int = 5672) -> int | None:
    """The beam.smp listening on `port` (a machine may run other RabbitMQ nodes, e.g. a test
    cluster); the first beam.smp when that cannot be told (no psutil); None if not local."""
    beams = [int(d) for d in os.listdir("/proc") if d.isdigit() and _read(f"/proc/{d}/comm").strip() == "beam.smp"]
    try:
        import psutil
        for c in psutil.net_connections(kind="tcp"):
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid in beams:
                return c.pid
    except Exception:  # no psutil, or not allowed to list sockets: fall back to the first
        pass
    return beams[0] if beams else None


def broker_cpu(_pid=[]) -> float:
    """utime+stime of the broker (beam.smp on 5672) in seconds, from /proc; nan if not local."""
    if not _pid:
        pid = broker_pid()
        _pid += [pid] if pid else []
    if not _pid:
        return float("nan")
    fields = _read(f"/proc/{_pid[0]}/stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


class SimProcess:
    """Simulators in a child process (`python -m sims --only NAME`), on free ports, so that
    their server threads do not share this process's GIL. A context manager: `.urls`."""

    def __init__(self, *names: str):
        self.names = names

    def __enter__(self) -> "SimProcess":
        import json as _json
        import sys
        env = dict(os.environ)
        for name in self.names:
            env[f"TONGBAN_SIM_{name.upper()}_PORT"] = "0"   # 0: an ephemeral port
        args = [sys.executable, "-m", "sims"] + [a for n in self.names for a in ("--only", n)]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"simulators {self.names} did not start (exit {self.proc.wait()})")
        self.urls = _json.loads(line)["urls"]
        return self

    def cpu(self) -> float:
        """utime+stime of the simulator process, seconds."""
        fields = _read(f"/proc/{self.proc.pid}/stat").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else float("nan")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def envelopes(records, mappings) -> list[tuple[bytes, "MessageMeta", str]]:
    """(body, meta, routing key) of every canonical message the records make, as the
    delivery worker hands them to a destination (hub.runtime.hold.meta_of's fields)."""
    from hub.delivery import MessageMeta
    out = []
    for rec in records:
        for env in mappings.apply(SYSTEM, rec.data):
            meta = MessageMeta(str(env.message_id), env.kind, env.case_no, env.sequence, DEPARTMENT, "old")
            out.append((env.model_dump_json().encode("utf-8"), meta, env.routing_key))
    return out
