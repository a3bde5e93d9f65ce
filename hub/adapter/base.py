"""The adapter interface, deliberately thin (after httpx's BaseTransport). The contract each
member must keep is written once, in the docstring of hub/adapter/__init__.py."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

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


class PageUnreadable(SourceUnavailable):
    """The system answered, but its answer cannot be read as a page at all (a body that is
    not JSON or is cut off, no items list, a malformed SOAP envelope), so no record of it
    can be told apart. Not a network failure nor an HTTP 5xx: those stay SourceUnavailable.

    raw is the answer as received. next_cursor is set only for a page of one (limit 1) and
    only where the protocol tells the position after that one record without reading it (a
    dense sequence number; a key the broken answer still carries intact): the hub may then
    step past the record once it has dead-lettered it. It first fetches a page of one there to
    see that the system answers readably, so a source that sets it must read without side
    effects. The source worker asks again with smaller pages to isolate the record
    (hub/runtime/unreadable.py); a caller that does not know this class sees a
    SourceUnavailable, as before."""

    def __init__(self, reason: str, raw: bytes, *, next_cursor: dict | None = None):
        super().__init__(reason)
        self.reason, self.raw, self.next_cursor = reason, bytes(raw or b""), next_cursor


class Source:
    """Base of every source: fetch() is the one member to write; the others have defaults."""

    def fetch(self, cursor: dict | None, limit: int) -> Page:
        raise NotImplementedError

    def acknowledge(self, page: Page, failures: dict[str, str]) -> None:
        """Called after the broker confirmed the page and its checkpoint was saved.
        failures maps record keys that were dead-lettered to their reason. A 前置库
        writes back its upload state here; a file drop moves the file to done/."""

    def close(self) -> None:
        """Release connections; the hub calls it once, when the source loop stops."""


class Sink:
    """Pushes a canonical application (the envelope's JSON bytes) down to the department.
    The same shape as a destination: returns ACCEPTED or DUPLICATE, raises
    DeliveryError(reason, transient). The department's receipt comes back northbound
    through its source, as an ordinary record."""
    name: str

    def send(self, body: bytes, meta) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class Adapter:
    """Base class: subclasses set the class attributes and implement source() and check()."""
    name: ClassVar[str]
    department: ClassVar[str]
    system: ClassVar[str]
    style: ClassVar[str]                    # rest, soap, db, file
    # (Chinese, English) name of the department, shown in the console, reports and `dualtrack status`;
    # the first adapter of a department to declare it names it
    department_label: ClassVar[tuple[str, str] | None] = None
    spec: ClassVar[ConfigSpec]
    has_sink: ClassVar[bool] = False        # True when sink() delivers applications southbound
    # A folder holding mappings/<department>/ of the adapter's own package (its mappings and
    # samples); None: they live in the hub's mappings tree
    mappings_dir: ClassVar[str | None] = None

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

    @classmethod
    def simulator(cls):
        """A fresh hub.adapter.simulator.Simulator standing in for the system (the conformance kit
        starts it); None for an adapter without one, which cannot pass the conformance suite."""
        return None
