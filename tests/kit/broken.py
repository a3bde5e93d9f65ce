"""Adapters that each break one part of the contract, on purpose, for the conformance suite to
catch: the commerce adapter with one member spoiled."""
from __future__ import annotations

import itertools
import json

from adapters.commerce import CommerceAdapter
from adapters.commerce.sink import CommerceSink
from adapters.commerce.source import CommerceSource
from hub.adapter import ConfigSpec, Field, Page


class SkippingSource(CommerceSource):
    """A restarted source (a fresh instance) given a saved cursor loses the first record after it."""
    def fetch(self, cursor, limit):
        page = super().fetch(cursor, limit)
        if cursor and not getattr(self, "_warm", False):
            page = Page(page.records[1:], page.cursor, page.has_more)
        self._warm = True
        return page


_clock = itertools.count(1)


class RestampingSource(CommerceSource):
    """Every read stamps its records anew, so a record read again gets another message id."""
    def fetch(self, cursor, limit):
        page = super().fetch(cursor, limit)
        for rec in page.records:
            rec.data = {**rec.data, "updatedAt": f"2026-01-01T00:00:00.{next(_clock):06d}"}
        return page


class DroppingSource(CommerceSource):
    """Silently leaves out what it could not check instead of handing it on."""
    def fetch(self, cursor, limit):
        page = super().fetch(cursor, limit)
        return Page([r for r in page.records if "13" not in json.dumps(r.data)], page.cursor, page.has_more)


class DoublingSink(CommerceSink):
    """Sends a repeat under a new application number: two effects for one application."""
    sent = 0

    def send(self, body, meta):
        type(self).sent += 1
        if type(self).sent % 2 == 0:
            env = json.loads(body)
            env["payload"]["application_no"] += "-2"
            body = json.dumps(env).encode()
        return super().send(body, meta)


def _adapter(name: str, **members):
    return type(name, (CommerceAdapter,), members)


Skipping = _adapter("Skipping", source=lambda self: SkippingSource(self.config["url"]))
Restamping = _adapter("Restamping", source=lambda self: RestampingSource(self.config["url"]))
Dropping = _adapter("Dropping", source=lambda self: DroppingSource(self.config["url"]))
Doubling = _adapter("Doubling", sink=lambda self: DoublingSink(self.name, self.config["url"], 5.0))
Raising = _adapter("Raising", check=lambda self: (_ for _ in ()).throw(ConnectionError("no route")))
Undocumented = _adapter("Undocumented", style="grpc", spec=ConfigSpec(fields=(
    Field("url", "", required=True),)))
NoSimulator = _adapter("NoSimulator", simulator=classmethod(lambda cls: None))


class FreezingSource(CommerceSource):
    """Hands every record on with one fixed updatedAt (the mapping's record_version): a corrected
    record keeps the message id it had, and the ledger would drop the correction as a repeat."""
    def fetch(self, cursor, limit):
        page = super().fetch(cursor, limit)
        for rec in page.records:
            rec.data = {**rec.data, "updatedAt": "2026-01-01T00:00:00"}
        return page


Frozen = _adapter("Frozen", source=lambda self: FreezingSource(self.config["url"]))
