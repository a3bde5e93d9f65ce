"""The broker users the hub needs and what each may do: RabbitMQ permissions (regular
expressions on resource names, per vhost, for configure / write / read) and topic
permissions (on the routing keys of a topic exchange).

What each AMQP operation needs (RabbitMQ's access control): declaring or deleting a queue
or exchange, configure on it (a passive declare needs nothing); publishing, write on the
exchange; consuming, read on the queue; binding, write on the queue and read on the
exchange. So:

| role | configure | write | read |
| --- | --- | --- | --- |
| operator | every tongban.* name | every tongban.* name | every tongban.* name |
| source.<adapter> | its own lock queues | events, commands, compare, dlx | nothing |
| deliver.<dest> | its lock queues, its partition queues (a drained one is deleted) | delay (retries), dlx | its partition queues |
| recorder | nothing | nothing | tongban.dead, tongban.unrouted |
| compare | nothing | nothing | tongban.compare |
| console | nothing | nothing | nothing (monitoring tag: the management API's figures) |

The operator declares the topology (the start of `tongban run`, `tongban partitions set`)
and runs the operator's commands (replay, release, purge); the workers only make passive
declares of what it declared. No role has the administrator tag. A source's topic
permission limits it to its own department's routing keys on tongban.events and its own
dead letters on tongban.dlx. What they cannot limit: tongban.delay and tongban.compare
are headers/fanout exchanges (topic permissions do not apply), so a delivery user could
publish a retry copy meant for another destination's delay queue."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import credentials, names

NOTHING = ""   # RabbitMQ: the empty pattern grants nothing


@dataclass(frozen=True)
class Role:
    name: str
    configure: str
    write: str
    read: str
    tags: str = ""
    topics: tuple[tuple[str, str, str], ...] = field(default=())   # (exchange, write, read)

    def permissions(self) -> dict:
        return {"configure": self.configure, "write": self.write, "read": self.read}


def _any(*names_: str) -> str:
    return "^(" + "|".join(re.escape(n) for n in names_) + ")$"


PARTITION = r"\.\d+of\d+"   # what names.partition_queue appends to a destination's name


def operator() -> Role:
    everything = r"^tongban\..*"
    return Role(credentials.OPERATOR, everything, everything, everything, tags="management")


def source(adapter: str, department: str) -> Role:
    lock = names.lock_queue(f"tongban.source.{adapter}")           # tongban.lock.source.<adapter>
    return Role(credentials.source(adapter),
                configure=f"^{re.escape(lock)}:(old|new)$",
                write=_any(names.EVENTS, names.COMMANDS, names.COMPARE, names.DLX),
                read=NOTHING,
                topics=((names.EVENTS, f"^{re.escape(department)}\\.", NOTHING),
                        (names.DLX, f"^[a-z_]+\\.{re.escape(department)}$", NOTHING)))


def deliver(destination: str) -> Role:
    d = re.escape(destination)
    mine = f"tongban\\.to\\.{d}{PARTITION}"
    lock = f"tongban\\.lock\\.to\\.{d}{PARTITION}"
    return Role(credentials.deliver(destination),
                configure=f"^({lock}|{mine})$",
                write=_any(names.DELAY, names.DLX),
                # the single queue of before partitions (tongban.to.<dest>) drains here too
                read=f"^({mine}|tongban\\.to\\.{d})$")


def recorder() -> Role:
    return Role(credentials.RECORDER, NOTHING, NOTHING, _any(names.DEAD_QUEUE, names.UNROUTED_QUEUE))


def compare() -> Role:
    return Role(credentials.COMPARE, NOTHING, NOTHING, _any(names.COMPARE_QUEUE))


def console() -> Role:
    return Role(credentials.CONSOLE, NOTHING, NOTHING, NOTHING, tags="monitoring")


def all_roles(destinations: list[str], sources: dict[str, str]) -> list[Role]:
    """Every role the settings need: destinations (platform, province, each sink's queue,
    commerce.new...) and sources (adapter -> department)."""
    return ([operator(), recorder(), compare(), console()]
            + [source(a, dept) for a, dept in sorted(sources.items())]
            + [deliver(d) for d in sorted(set(destinations))])
