"""What an adapter's simulator offers the conformance kit (hub/kit/conformance): a stand-in for
its legacy system that the kit can start, fill, spoil and read back, the same way for a REST feed,
a SOAP service, a 前置库 or a file drop. An adapter names its own with ``Adapter.simulator()``.

The kit never reaches into a simulator otherwise, so an integrator's package ships one class of
this shape beside its adapter and passes ``tongban adapters check NAME --conformance`` unchanged."""
from __future__ import annotations

from collections import Counter


class Simulator:
    """Subclass it; every member but touch() and applications() must be written."""

    def start(self) -> dict:
        """Start the stand-in (on a free port, in a folder or database of its own) and return the
        adapter settings that reach it, e.g. {"url": "http://127.0.0.1:40123"}."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop it; afterwards the adapter's check() must answer ok=False (nothing there)."""
        raise NotImplementedError

    def load(self, cases: int) -> int:
        """Make ``cases`` new good cases; return how many records the source will read for them."""
        raise NotImplementedError

    def load_bad(self) -> Counter:
        """Add records the hub must dead-letter; return how many are due per stage (decode, map,
        validate): e.g. Counter(decode=1, map=1, validate=1). Good records written after them must
        still flow."""
        raise NotImplementedError

    def touch(self) -> str | None:
        """Change the content of one record already read, as the system does when it corrects one,
        and return that record's key; None when the system never changes a record it has served."""
        return None

    def applications(self) -> list[dict]:
        """What the sink delivered, one entry per effect in the system (an application kept twice
        is two entries). Only for an adapter with a sink."""
        return []
