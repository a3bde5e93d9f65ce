"""Conflicts: the same record, or the same step of a case, sent again with other content.

Before a source publishes what it mapped, each envelope's payload is compared, by a
digest of its canonical JSON, with what the same source sent last for the same record key
and kind, and for the same (case, kind, step) under another record key:
- the same content: an exact replay, a silent no-op (its message id is the same one);
- new: sent, and remembered;
- other content: a *conflict*. Without a word it would be dropped by the ledger (same
  version, same message id) or delivered as a second step (new version, new id). The
  record is dead-lettered at stage `conflict`, the fields that differ shown (masked), and,
  being a dead letter of its case, it holds the case's later messages (a gate) until an
  operator replays or purges it. Where the department's mapping declares `versions:
  supersede`, the new version goes as an *update* instead: its own message id (so its own
  Idempotency-Key) and the x-tongban-supersedes header naming the message it replaces.
What a source remembers is per source and track: the other track of a dual-track
department has its own versions, compared by the dual-track comparator, not here."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from hub.model import Envelope
from hub.model.masking import mask

SAME, NEW, CONFLICT, UPDATE = "same", "new", "conflict", "update"
DIFF_FIELDS = 6   # fields named in a conflict's reason; the dead letter keeps the whole record


def digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
                          .encode("utf-8")).hexdigest()


def _flat(d, prefix: str = "") -> dict:
    out = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def diff(before: dict, after: dict) -> list[str]:
    """`field: old -> new` for each field that differs, masked."""
    a, b = _flat(before), _flat(after)
    return [f"{k}: {mask(a.get(k), k.rsplit('.', 1)[-1])!r} -> {mask(b.get(k), k.rsplit('.', 1)[-1])!r}"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


@dataclass
class Judgement:
    verdict: str
    prior: dict | None = None       # the version sent before (its row), for conflict and update

    def reason(self, env: Envelope, payload: dict) -> str:
        if self.prior["payload"] is None:
            # removed by retention (store.retention): the digest still tells content apart
            changes = [f"the content sent before was removed by retention; only its digest {self.prior['digest'][:12]} "
                       "is kept"]
        else:
            changes = diff(self.prior["payload"], payload)
        shown = "; ".join(changes[:DIFF_FIELDS]) + (f"; and {len(changes) - DIFF_FIELDS} more"
                                                     if len(changes) > DIFF_FIELDS else "")
        same_key = self.prior["record_key"] == env.record_key
        what = (f"record {env.record_key}" if same_key
                else f"step {env.sequence} of case {env.case_no} (record {self.prior['record_key']} before)")
        return (f"{what} ({env.kind}) came again with other content than message {self.prior['message_id']}: "
                f"{shown}")


class ConflictCheck:
    """One page's judgements for one source; what the page sends is remembered with it."""

    def __init__(self, store, source: str, envelopes: list[Envelope]):
        self.store, self.source = store, source
        rows = store.versions_of(source, [e.record_key for e in envelopes], [e.case_no for e in envelopes])
        self.by_key = {(r["record_key"], r["kind"]): r for r in rows}
        self.by_step = {(r["case_no"], r["kind"], r["sequence"]): r for r in rows if r["sequence"] is not None}
        self.sent: list[dict] = []

    @staticmethod
    def payload_of(env: Envelope) -> dict:
        return env.payload.model_dump(mode="json")

    def judge(self, env: Envelope, supersede: bool) -> Judgement:
        d = digest(self.payload_of(env))
        prior = self.by_key.get((env.record_key, env.kind))
        if prior is not None:
            return Judgement(SAME if prior["digest"] == d else UPDATE if supersede else CONFLICT, prior)
        step = self.by_step.get((env.case_no, env.kind, env.sequence)) \
            if env.case_no and env.sequence is not None else None
        if step is None or step["digest"] == d:
            # another row of the same content (a copy in the legacy system) goes as before:
            # its own message, the destination's idempotency by content is not the hub's to judge
            return Judgement(NEW)
        return Judgement(UPDATE if supersede else CONFLICT, step)

    def remember(self, env: Envelope) -> None:
        payload = self.payload_of(env)
        row = {"record_key": env.record_key, "kind": env.kind, "case_no": env.case_no, "sequence": env.sequence,
               "digest": digest(payload), "message_id": str(env.message_id), "payload": payload}
        self.by_key[(env.record_key, env.kind)] = row
        if env.case_no and env.sequence is not None:
            self.by_step[(env.case_no, env.kind, env.sequence)] = row
        self.sent.append(row)

    def save(self) -> None:
        self.store.save_versions(self.source, self.sent)
