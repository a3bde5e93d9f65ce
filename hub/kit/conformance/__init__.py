"""The conformance suite every adapter must pass (`tongban adapters check NAME --conformance`):
run against the installed adapter and its simulator (Adapter.simulator()), the hub's own source
worker and the real broker. Each check proves one part of the contract in hub/adapter's
docstring; docs/conformance.md says which part.

    from hub.kit.conformance import run
    results = run("commerce", broker_url="amqp://guest:guest@127.0.0.1:5672//")
    all(r.ok for r in results)"""
from __future__ import annotations

from .broker import check_at_least_once, check_bad_input
from .connection import check_connection, check_timing
from .cursor import check_cursor, check_versions
from .results import Result, run_one
from .sink import check_sink
from .spec_checks import check_samples, check_spec
from .subject import Failed, Subject

CHECKS = {
    "spec": check_spec,
    "samples": check_samples,
    "cursor": check_cursor,
    "versions": check_versions,
    "at_least_once": check_at_least_once,
    "bad_input": check_bad_input,
    "sink": check_sink,
    "connection": check_connection,
    "timing": check_timing,
}


def run(name_or_cls, *, broker_url: str | None = None, only: list[str] | None = None, **options) -> list[Result]:
    """One Result per check, in CHECKS order; a failing check does not stop the others.
    options: mappings_dir (the hub's tree), cases (per check), page_budget (seconds), overrides
    (adapter settings laid over the simulator's)."""
    unknown = sorted(set(only or ()) - set(CHECKS))
    if unknown:
        raise ValueError(f"no conformance check named {', '.join(unknown)} (known: {', '.join(CHECKS)})")
    subject = Subject(name_or_cls, broker_url=broker_url, **options)
    return [run_one(name, fn, subject) for name, fn in CHECKS.items() if not only or name in only]


__all__ = ["CHECKS", "Failed", "Result", "Subject", "run"]
