"""The adapter SDK: everything an adapter imports, and the whole contract it keeps.

An adapter wraps one legacy system for the hub. It knows nothing of RabbitMQ, the store or
routing; the hub's workers do those around it. It is registered by its package's entry point
(group ``tongban.adapters``), so a new department needs no edit of hub/::

    [project.entry-points."tongban.adapters"]
    socialsec = "tongban_socialsec:SocialsecAdapter"

Adapter (a class; the hub builds one per track from the settings under ``adapters.<name>``)
    name, department, system, style (rest | soap | db | file): class attributes. ``department``
    is any lower-case identifier; the first adapter of a department sets ``department_label``,
    (Chinese, English), which the console and reports show. ``system`` is what the mappings
    under mappings/<department>/ name in their ``system:`` key.
    spec: a ConfigSpec. The hub validates the settings against it at start-up; ``self.config``
    holds them parsed and defaulted. The hub's own settings (HUB_FIELDS: page_size,
    poll_interval, max_record_bytes, unreadable_attempts) are in every config without being
    declared. Mark passwords and tokens ``secret=True``: they are never printed.
    source() -> Source; sink() -> Sink or None (set has_sink = True when it returns one);
    check() -> CheckResult: a connection test that reads nothing it would change.
    simulator() (a classmethod) -> Simulator: a stand-in for the system that the conformance
    suite starts, fills and spoils, and `tongban sims up` runs (hub.adapter.simulator says what it
    must offer); an adapter without one cannot pass ``tongban adapters check NAME --conformance``
    (hub.kit.conformance).
    mappings_dir: the folder holding mappings/<department>/ in the adapter's own package; None
    when its mappings live in the hub's tree.

Source (subclass it; fetch is the one member to write)
    fetch(cursor, limit) -> Page: up to ``limit`` records after ``cursor`` (None: from the
    start), in the system's order, with the cursor of the position after the last one. The hub
    saves that cursor only after the broker confirmed every message made from the page, and
    may call fetch again with any cursor it saved before (after a crash, a restart, another
    worker taking over): the same cursor must give the same records again, none skipped.
    A cursor is a small JSON-able dict.
    Each RawRecord has a ``key`` unique in the system (its row id, event id, file and line)
    and the decoded ``data`` the mappings read. The message id is made from the record key and
    the mapping's ``record_version`` template: the version must change when, and only when, the
    record's content changes, so a re-read is a no-op downstream and a correction is not.
    A record that cannot be decoded is not skipped: return it with ``error`` set (``checked()``
    does that for JSON); the hub dead-letters it at stage decode and the page flows on.
    Raise SourceUnavailable for a passing failure (network, HTTP 5xx, a lock): the hub tries
    again later from the same cursor. Raise PageUnreadable when the system answered but the
    answer is not a page at all; the hub narrows it down to one record and dead-letters that.
    acknowledge(page, failures): called after the page's checkpoint was saved; write back an
    upload state or move a file here, never earlier. close(): release connections.

Sink (subclass it)
    send(body, meta) -> ACCEPTED | DUPLICATE: deliver one canonical application (the
    envelope's JSON bytes). ``meta.message_id`` is the idempotency key: sent twice, the same
    application must make one effect in the system; return DUPLICATE when it says it has it.
    Raise DeliveryError(reason, transient=True) for what another attempt may cure (timeouts,
    5xx, 429) and transient=False for a refusal. Retry inside one attempt only where the
    system dedupes by the idempotency key (then a repeat is harmless); ``within_attempt`` is the
    hub's bounded policy for that, and ``outcome`` reads an HTTP status the hub's way.
    The system's receipt (with the platform's case number) comes back northbound through the
    source as an ordinary record, mapped by a ``receipt`` mapping.

Errors name what is wrong and where; personal data stays out of exception text and logs
(hub.model.masking) and a secret never appears at all."""
from hub.delivery.base import ACCEPTED, DUPLICATE, DeliveryError, MessageMeta
from hub.delivery.http_outcome import outcome
from hub.delivery.retrying import within_attempt

from .base import Adapter, CheckResult, Page, PageUnreadable, RawRecord, Sink, Source, SourceUnavailable
from .guard import DEFAULT_MAX_RECORD_BYTES, checked, is_html, page_json
from .simulator import Simulator
from .spec import HUB_FIELDS, ConfigError, ConfigSpec, Field

__all__ = ["Adapter", "CheckResult", "Page", "PageUnreadable", "RawRecord", "Sink", "Source", "SourceUnavailable", "Simulator",
           "ConfigSpec", "ConfigError", "Field", "HUB_FIELDS", "ACCEPTED", "DUPLICATE", "DeliveryError", "MessageMeta",
           "outcome", "within_attempt", "DEFAULT_MAX_RECORD_BYTES", "checked", "is_html", "page_json"]
