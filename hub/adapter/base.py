"""The adapter interface, deliberately thin (after httpx's BaseTransport).

An adapter wraps one legacy system. Its source pulls raw records after a cursor;
its sink (later) pushes an application down. It knows nothing of RabbitMQ, the store
or routing: the hub's workers do that around it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from .spec import ConfigSpec


@dataclass
class RawRecord:
    key: str              # the record's key in the legacy system (for errors and lineage)
    data: dict            # decoded record, as the mapping reads it
    raw: str              # the record as received, kept for dead letters and replay
    # Set when the adapter could not decode the record (bad encoding, broken CSV row,
    # malformed XML): the hub dead-letters it at stage "decode" and the batch flows on.
    error: str | None = None


@dataclass
class Page:
    records: list[RawRecord]
    cursor: dict          # where the next fetch starts; saved only after the broker confirmed
    has_more: bool = False


@dataclass
class CheckResult:
    ok: bool
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)


class SourceUnavailable(Exception):
    """The legacy system cannot be reached or answered an error; try again later."""


class Source(Protocol):
    def fetch(self, cursor: dict | None, limit: int) -> Page: ...

    def acknowledge(self, page: Page, failures: dict[str, str]) -> None:
        """Called after the broker confirmed the page and its checkpoint was saved.
        failures maps record keys that were dead-lettered to their reason. A 前置库
        writes back its upload state here; a file drop moves the file to done/."""

    def close(self) -> None: ...


class Sink(Protocol):
    """Pushes a canonical application (the envelope's JSON bytes) down to the department.
    The same shape as a destination: returns "accepted" or "duplicate", raises
    hub.delivery.DeliveryError(reason, transient). The department's receipt comes back
    northbound through its source, as an ordinary record."""
    name: str

    def send(self, body: bytes, meta) -> str: ...
    def close(self) -> None: ...


class Adapter:
    """Base class: subclasses set the class attributes and implement source() and check()."""
    name: ClassVar[str]
    department: ClassVar[str]
    system: ClassVar[str]
    style: ClassVar[str]                    # rest, soap, database, files
    spec: ClassVar[ConfigSpec]
    has_sink: ClassVar[bool] = False        # True when sink() delivers applications southbound

    def __init__(self, config: dict):
        self.config = self.spec.resolve(self.name, config)

    def source(self) -> Source:
        raise NotImplementedError

    def sink(self) -> Sink | None:
        """The southbound side; None for an adapter that only reads."""
        return None

    def check(self) -> CheckResult:
        """Connection test: can the hub reach the system with this configuration?"""
        raise NotImplementedError
