"""The matcher: pairs the two tracks' canonical messages and decides each pair's verdict.

A message is identified by (department, case_no, kind, sequence), or, where the department
pairs by record key (config pair_by: record_key), by (department, case_no, kind, record_key):
see ``pair_slot``. The first of a pair
waits (in the store, so a restart loses nothing) until its twin comes or the lag window
runs out; then it counts as missing on the other track. A track that yields the same
message again with other content shows noise: the fields that changed between its two
runs are recorded and ignored from then on for that department and kind (as in Diffy),
except critical fields, which are never silenced automatically.

    dt = DualTrack(store, settings)
    dt.offer(envelope_dict)      # from the comparison queue, either track, any order
    dt.expire()                  # every few seconds: twins past their deadline -> missing
"""
from __future__ import annotations

import hashlib
import json
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from .compare import compare
from .config import DualTrackConfig, load_config
from .rules import DEFAULT_IGNORE

OTHER = {"old": "new", "new": "old"}
VERDICTS = ("match", "mismatch", "missing_old", "missing_new", "noise")
_TOP_IGNORED = frozenset(p for p in DEFAULT_IGNORE if "." not in p) | {"source"}
# Paired by record key, the step number is the reader's count of rows, not data: not compared.
_RANKS = frozenset({"sequence", "payload.sequence"})


@dataclass
class Comparison:
    """One decided verdict. For ``noise``, ``track`` names the track that ran twice, its
    message id is the later run's, and each field's old/new are the earlier/later values.
    ``sequence`` is always a real step number, never the pairing key: the old track's
    (the new track's where old has none); paired by record key the two may differ, and
    each summary carries its own track's."""
    department: str
    case_no: str
    kind: str
    sequence: int
    verdict: str
    compared_at: datetime
    fields: list[dict] = field(default_factory=list)
    lag_seconds: float | None = None     # new arrival minus old arrival (negative: new came first)
    old_message_id: str | None = None
    new_message_id: str | None = None
    old_summary: dict | None = None
    new_summary: dict | None = None
    track: str | None = None

    def to_row(self) -> dict:
        return asdict(self)


@dataclass
class _Item:
    key: tuple          # the twin row's key: (department, case_no, kind, pair_slot)
    track: str
    envelope: dict
    message_id: str
    digest: str
    sequence: int       # the envelope's own step number
    unranked: frozenset = frozenset()   # fields not compared for this pairing (_RANKS or none)


class DualTrack:
    def __init__(self, store, settings: dict):
        self.store = store
        self.settings = settings
        self._started: datetime | None = None
        self._noise: dict[tuple, frozenset] = {}
        self._noise_until = 0.0
        self._purged_at: datetime | None = None

    # --- the lead's interface ------------------------------------------------------------
    def offer(self, envelope: dict, now: datetime | None = None) -> list["Comparison"]:
        return self.offer_many([envelope], now)

    def offer_many(self, envelopes: list[dict], now: datetime | None = None) -> list["Comparison"]:
        """Offer a batch (one transaction: cheaper than one offer each). Returns the
        verdicts decided by it, already stored. Raises ValueError for a message that is
        not a canonical envelope with a track."""
        now = self._clock(now)
        cfg = load_config(self.settings)
        # Refuses (unknown department included) before anything is written, not halfway through.
        items = [_identify(e, cfg) for e in envelopes]
        if not items:
            return []
        self._refresh_noise(cfg)   # before the lock: no reads inside the write transaction
        out: list[Comparison] = []
        with self.store.dualtrack_lock([i.key for i in items], now) as batch:
            for item in items:
                out.extend(self._place(batch, item, cfg, now))
        return out

    def expire(self, now: datetime | None = None, limit: int = 1000) -> list["Comparison"]:
        """Twins whose deadline passed become missing_old / missing_new. After a start,
        nothing expires for one lag window: the comparison queue's backlog (the twins
        that came in while the hub was down) gets its full window first."""
        now = self._clock(now)
        cfg = load_config(self.settings)
        grace = max(d.lag_window for d in cfg.departments.values())
        if now < self._started + timedelta(seconds=grace):
            return []
        out: list[Comparison] = []
        while True:
            with self.store.dualtrack_due(now, limit) as batch:
                for key, row in batch.rows.items():
                    present = [t for t in ("old", "new") if row[f"{t}_message_id"] is not None]
                    row["state"] = "expired"
                    batch.touch(key)
                    if len(present) != 1:
                        continue
                    have = present[0]
                    c = Comparison(key[0], key[1], key[2], step_of(row), verdict=f"missing_{OTHER[have]}",
                                   compared_at=now,
                                   **{f"{have}_message_id": row[f"{have}_message_id"],
                                      f"{have}_summary": summary(row[f"{have}_envelope"])})
                    batch.comparisons.append(c.to_row())
                    out.append(c)
            if len(batch.rows) < limit:
                break
        self._purge(cfg, now)
        return out

    # --- pairing -------------------------------------------------------------------------
    def _place(self, batch, item: _Item, cfg: DualTrackConfig, now: datetime) -> list[Comparison]:
        row = batch.rows[item.key]
        mine, other = item.track, OTHER[item.track]
        department, case_no, kind, _ = item.key
        dept = cfg.department(department)
        rules = dept.rules(kind)
        noise = self._noise.get((department, kind), frozenset())
        ignored = noise | item.unranked
        if row[f"{mine}_message_id"] is not None:
            # This track gave this message before: a redelivery, or a re-run.
            if row[f"{mine}_digest"] == item.digest:
                return []
            earlier = row[f"{mine}_envelope"]
            self._fill(row, mine, item, now, keep_arrival=True)
            batch.touch(item.key)
            if earlier is None:
                return []   # the earlier run's envelope was removed by retention: nothing to compare
            v = compare(earlier, item.envelope, rules, ignored, tracks=(mine, mine))
            if v.matched:
                return []
            for d in v.fields:
                batch.noise.append({"department": department, "kind": kind, "field": d["field"], "track": mine,
                                    "example": d})
                if not rules.is_critical(d["field"]):
                    self._noise[(department, kind)] = self._noise.get((department, kind), frozenset()) | {d["field"]}
            c = Comparison(department, case_no, kind, item.sequence, verdict="noise", compared_at=now,
                           fields=v.fields, track=mine,
                           **{f"{mine}_message_id": item.message_id, f"{mine}_summary": summary(item.envelope)})
            batch.comparisons.append(c.to_row())
            return [c]
        self._fill(row, mine, item, now)
        batch.touch(item.key)
        if row[f"{other}_message_id"] is None:
            row["state"] = "waiting"
            row["deadline"] = now + timedelta(seconds=dept.lag_window)
            return []
        lag = (row["new_at"] - row["old_at"]).total_seconds()
        if row["state"] == "expired":
            # Came after its window: the missing verdict stands; note when it arrived.
            row["state"] = "late"
            # The comparison is found by the message it was missing for: the twin key's 4th slot
            # may be a hash, and paired by record key the step numbers may differ. (Were that
            # message corrected after the window, a new version and id, the verdict would
            # still stand, only without this note.)
            batch.late.append({"department": department, "case_no": case_no, "kind": kind,
                               "verdict": f"missing_{mine}", f"{other}_message_id": row[f"{other}_message_id"],
                               "values": {f"{mine}_message_id": item.message_id, "lag_seconds": lag,
                                          f"{mine}_summary": summary(item.envelope)}})
            return []
        v = compare(row["old_envelope"], row["new_envelope"], rules, ignored)
        row["state"] = "paired"
        c = Comparison(department, case_no, kind, step_of(row), verdict=v.verdict, compared_at=now, fields=v.fields,
                       lag_seconds=lag, old_message_id=row["old_message_id"], new_message_id=row["new_message_id"],
                       old_summary=summary(row["old_envelope"]), new_summary=summary(row["new_envelope"]))
        batch.comparisons.append(c.to_row())
        return [c]

    @staticmethod
    def _fill(row: dict, track: str, item: _Item, now: datetime, keep_arrival: bool = False) -> None:
        row[f"{track}_message_id"] = item.message_id
        row[f"{track}_digest"] = item.digest
        row[f"{track}_envelope"] = item.envelope
        if not keep_arrival:
            row[f"{track}_at"] = now

    def _refresh_noise(self, cfg: DualTrackConfig) -> None:
        # Other processes record noise too: reread it as often as the modes.
        if time.monotonic() >= self._noise_until:
            found: dict[tuple, set] = {}
            for n in self.store.dualtrack_noise():
                if n["department"] in cfg.departments and \
                        not cfg.department(n["department"]).rules(n["kind"]).is_critical(n["field"]):
                    found.setdefault((n["department"], n["kind"]), set()).add(n["field"])
            self._noise = {k: frozenset(v) for k, v in found.items()}
            self._noise_until = time.monotonic() + cfg.refresh_seconds

    def _clock(self, now: datetime | None) -> datetime:
        now = now or datetime.now(timezone.utc)
        if now.tzinfo is None:
            raise ValueError("dual-track: now must be timezone-aware")
        if self._started is None:
            self._started = now
        return now

    def _purge(self, cfg: DualTrackConfig, now: datetime) -> None:
        if self._purged_at is None or now - self._purged_at > timedelta(hours=1):
            self.store.dualtrack_purge(now - timedelta(days=cfg.keep_days))
            self._purged_at = now


def _identify(envelope: dict, cfg: DualTrackConfig) -> _Item:
    # One JSON round trip: the store keeps JSON, and a dict made by model_dump() (not
    # mode="json") would otherwise compare datetimes with strings.
    text = json.dumps(envelope, default=str, ensure_ascii=False)
    env = json.loads(text)
    try:
        source = env["source"]
        track = source["track"]
        department = source["department"]
        kind = env["kind"]
        payload = env.get("payload") or {}
    except (KeyError, TypeError):
        raise ValueError("dual-track: not a canonical envelope (needs source.track, source.department, kind)") \
            from None
    if track not in OTHER:
        raise ValueError(f"dual-track: source.track must be old or new, got {track!r}")
    if department == "platform":   # a command: it belongs to the department it is sent to
        department = payload.get("department") or department
    case_no = env.get("case_no") or payload.get("case_no") or payload.get("application_no") or env.get("record_key")
    if not case_no:
        raise ValueError("dual-track: the envelope names no case (case_no) and no record_key")
    sequence = int(env.get("sequence") or 0)
    if cfg.department(department).pairing(env.get("mapping")) == "record_key":
        if not env.get("record_key"):
            raise ValueError(f"dual-track: {department} pairs {env.get('mapping')} by record_key, "
                             f"and the envelope has none")
        slot, unranked = pair_slot(str(env["record_key"])), _RANKS
    else:
        slot, unranked = sequence, frozenset()
    compared = {k: v for k, v in env.items() if k not in _TOP_IGNORED}
    digest = hashlib.sha256(json.dumps(compared, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return _Item((department, str(case_no), kind, slot), track, env, str(env.get("message_id")), digest,
                 sequence, unranked)


def pair_slot(record_key: str) -> int:
    """The twin key's 4th slot for a message paired by record key.

    The twins table keys its rows by (department, case_no, kind, sequence), ``sequence`` an
    integer: rather than change that key (and every store's table), the record key goes
    there as a stable hash, CRC-32 folded to 31 bits and made negative: -1 .. -2**31, which
    fits a signed 32-bit INTEGER on every store and never equals a real step number (>= 0),
    so a key made one way never meets a key made the other way. Twins only meet within one
    (department, case_no, kind), so a collision needs two of a case's own records of one kind
    to share a hash: n of them collide with odds of about n*n/2**32 (2e-8 for 10 steps, 1e-7
    for 20: about one case in ten million). It would show, not pass unseen: the two records
    would be taken for one message run twice (a noise verdict, then a mismatch). The slot is
    only a key: comparisons, reports and timelines show the envelopes' own step numbers.
    """
    return -1 - (zlib.crc32(record_key.encode("utf-8")) & 0x7FFFFFFF)


def step_of(twin: dict) -> int:
    """The step number a twin row shows: its old message's, else its new message's."""
    for track in ("old", "new"):
        env = twin.get(f"{track}_envelope")
        if env:
            return int(env.get("sequence") or 0)
    return twin["sequence"] if twin.get("sequence", -1) >= 0 else 0


def summary(envelope: dict | None) -> dict | None:
    """What a timeline shows of a message: its step (name and number) and when (no personal data)."""
    if not envelope:
        return None
    p = envelope.get("payload") or {}
    step = {"case_event": p.get("type"), "case": p.get("status"), "certificate": "issued",
            "application": "submitted"}.get(envelope.get("kind"), "updated")
    at = p.get("occurred_at") or p.get("issued_at") or p.get("submitted_at") or envelope.get("occurred_at")
    return {"step": step, "at": at, "sequence": envelope.get("sequence")}
