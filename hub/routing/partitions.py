"""The case -> partition rule (invariant 5 at scale).

Every message carries a *slot*, a stable hash of its case number into SLOTS buckets, set
by the publisher (`tongban-slot`). A destination split into P partitions gives
partition i the slots s with s % P == i, as bindings of its headers exchange
(hub/bus/topology.py). So a case always lands in one partition, whichever process
published it, and the hub can say which one without asking the broker.

Why not RabbitMQ's consistent-hash exchange: its ring is built by the broker from the
bindings, so the hub cannot compute where a case lives (for a trace, a test, or a change
of P), and where a case lands can change when bindings are re-created (after a node
restart on older brokers); a changed mapping while the old partition still holds the
case's messages would reorder the case. A hash of our own, in the message, stays put.

SLOTS is fixed for good (changing it would move every case at once); 64 spreads evenly
over any P that divides it and within 1/64 of even over any other P up to 16."""
from __future__ import annotations

import zlib

SLOTS = 64
MAX_PARTITIONS = SLOTS


def slot_of(key: str) -> int:
    """crc32, not hash(): the same in every process, machine and Python version."""
    return zlib.crc32(key.encode("utf-8")) % SLOTS


def partition_key(case_no: str | None, message_id: str) -> str:
    """Messages of a case share its slot; a message of no case spreads by its own id."""
    return case_no or message_id


def partition_of(key: str, partitions: int) -> int:
    return slot_of(key) % check_partitions(partitions)


def slots_of(index: int, partitions: int) -> list[int]:
    return [s for s in range(SLOTS) if s % partitions == index]


def check_partitions(partitions) -> int:
    try:
        p = int(partitions)
    except (TypeError, ValueError):
        raise ValueError(f"partitions must be a whole number from 1 to {MAX_PARTITIONS}, got {partitions!r}") from None
    if not 1 <= p <= MAX_PARTITIONS:
        raise ValueError(f"partitions must be from 1 to {MAX_PARTITIONS}, got {p}")
    return p


def configured_partitions(settings: dict, destination: str) -> int:
    """partitions.<destination> (a department's sink: its adapter name, or <name>.new),
    else partitions.default, else 4."""
    conf = settings.get("partitions") or {}
    if not isinstance(conf, dict):
        conf = {"default": conf}
    value = conf.get(destination, conf.get(destination.split(".", 1)[0], conf.get("default", 4)))
    return check_partitions(value)
