"""Signed checkpoints of the chains' heads: made periodically by the hub (and by
``tongban log checkpoint``), exported with the public keys for a third party."""
from __future__ import annotations

from datetime import datetime, timezone

from .signing import Signer
from .verify import checkpoint_payload

LOGS = ("message_log", "audit_log")


def make_checkpoints(store, signer: Signer, now: datetime | None = None) -> list[dict]:
    """A signed checkpoint for every chain whose head moved since its last one. Returns them."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    last = {(c["log"], c["chain"]): int(c["chain_seq"]) for c in store.log_checkpoints(latest_only=True)}
    rows = []
    for log in LOGS:
        for head in store.chain_heads(log):
            if last.get((log, head["chain"])) == head["chain_seq"]:
                continue
            cp = {**head, "at": now}
            rows.append({**cp, "algorithm": signer.algorithm, "key_id": signer.key_id,
                         "signature": signer.sign(checkpoint_payload(cp))})
    store.save_log_checkpoints(rows)
    return rows


def export(store, public_keys) -> dict:
    """Everything a verifier outside the hub needs to check the checkpoints' signatures."""
    cps = []
    for c in store.log_checkpoints():
        c = dict(c)
        c["at"] = c["at"].isoformat(timespec="microseconds")
        cps.append(c)
    return {"public_keys": [k.to_json() for k in public_keys], "checkpoints": cps}


class CheckpointLoop:
    """A hub loop (hub/runtime/supervisor.py): a signed checkpoint of every chain that moved,
    every ``seconds``."""

    def __init__(self, store, signer: Signer, seconds: float):
        self.store, self.signer, self.seconds = store, signer, seconds

    def step(self) -> float:
        make_checkpoints(self.store, self.signer)
        return self.seconds

    def close(self) -> None:
        pass
