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
    def close(self) -> None: ...


class Adapter:
    """Base class: subclasses set the class attributes and implement source() and check()."""
    name: ClassVar[str]
    department: ClassVar[str]
    system: ClassVar[str]
    style: ClassVar[str]                    # rest, soap, database, files
    spec: ClassVar[ConfigSpec]

    def __init__(self, config: dict):
        self.config = self.spec.resolve(self.name, config)

    def source(self) -> Source:
        raise NotImplementedError

    def check(self) -> CheckResult:
        """Connection test: can the hub reach the system with this configuration?"""
        raise NotImplementedError
