"""The store's tables, as SQLAlchemy Core (no ORM: batch inserts of plain
dicts are what the hot paths need).

This is the *current* shape. Alembic revisions under ``migrations/versions``
are what actually create it; ``tests/store`` checks the two agree, so a
change here needs a new revision.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

from .types import JSONDoc, LongText, UTCDateTime

# Deterministic constraint names, so later migrations can drop/alter them by
# name on every dialect.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Sizes: ids are UUID strings (36) with room to spare; keys stay well under
# MySQL's 3072-byte index limit in utf8mb4.
ID = 64
NAME = 64
CASE_NO = 100
KEY = 255
HASH = 80   # "<algorithm>:<hex digest>" (hub/audit/chain.py)

# Every canonical message the hub published: lineage from a platform record
# back to the mapping version and the source record that produced it.
message_log = Table(
    "message_log",
    metadata,
    Column("message_id", String(ID), primary_key=True),
    Column("kind", String(NAME), nullable=False),
    Column("department", String(NAME)),
    Column("system", String(NAME)),
    Column("track", String(16)),
    Column("case_no", String(CASE_NO)),
    Column("sequence", Integer),
    Column("routing_key", String(KEY)),
    Column("mapping", String(KEY)),
    Column("record_key", String(KEY)),
    Column("produced_at", UTCDateTime(), nullable=False),
    Column("logged_at", UTCDateTime(), nullable=False),
    Index("ix_message_log_case_no", "case_no"),
    Index("ix_message_log_department_record_key", "department", "record_key"),
    Index("ix_message_log_logged_at", "logged_at"),   # the console's rate chart
    # the hash chain (hub/audit/chain.py): one chain per source; the unique position is what
    # stops two writers extending one chain from the same head
    Column("chain", String(KEY)),
    Column("chain_seq", BigInteger),
    Column("prev_hash", String(HASH)),
    Column("row_hash", String(HASH)),
    Index("uq_message_log_chain_chain_seq", "chain", "chain_seq", unique=True),
)

# One row per source: where to resume reading. Written only after the broker
# confirmed everything read before it (invariant 1).
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("source", String(KEY), primary_key=True),
    Column("cursor", JSONDoc, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# The delivery ledger: the primary key *is* invariant 4 (one effect per
# message and destination).
deliveries = Table(
    "deliveries",
    metadata,
    Column("message_id", String(ID), nullable=False),
    Column("destination", String(NAME), nullable=False),
    Column("case_no", String(CASE_NO)),
    Column("sequence", Integer),
    Column("kind", String(NAME)),
    Column("outcome", String(16), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=False),
    # dual-track: the track it came from, so a step delivered from one track is not
    # delivered again from the other across a cutover or rollback
    Column("track", String(16)),
    PrimaryKeyConstraint("message_id", "destination", name="pk_deliveries"),
    # per-case order checks: max(sequence) for (destination, case_no)
    Index("ix_deliveries_destination_case_no", "destination", "case_no", "sequence"),
    Index("ix_deliveries_delivered_at", "delivered_at"),   # the console's rate chart
)

# What could not be fetched, decoded, mapped, validated, routed or delivered
# (invariant 3), with enough to replay it.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("message_id", String(ID)),
    Column("stage", String(16), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("department", String(NAME)),
    Column("destination", String(NAME)),
    Column("record_key", String(KEY)),
    Column("case_no", String(CASE_NO)),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", UTCDateTime(), nullable=False),
    Column("last_failed_at", UTCDateTime(), nullable=False),
    Column("payload", LongText),
    Column("headers", JSONDoc),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # personal data at rest (migration 0012): the payload's SHA-256, kept when retention removes it
    Column("payload_digest", String(ID)),
    Column("payload_removed_at", UTCDateTime()),
    # every listing filters on status and orders by time
    Index("ix_dead_letters_status_last_failed_at", "status", "last_failed_at"),
    Index("ix_dead_letters_stage", "stage"),
    Index("ix_dead_letters_department", "department"),
    Index("ix_dead_letters_destination", "destination"),
    Index("ix_dead_letters_message_id", "message_id"),
    # a case whose record died before it was canonical waits for it (hub/runtime/gates.py)
    Index("ix_dead_letters_case_no", "case_no"),
)

# Who did what, when and why: replays, purges, cutovers and rollbacks.
audit_log = Table(
    "audit_log",
    metadata,
    # BIGINT does not autoincrement on SQLite; INTEGER PRIMARY KEY does.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(NAME * 2), nullable=False),
    Column("action", String(NAME), nullable=False),
    Column("target", String(KEY), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("details", JSONDoc),
    Index("ix_audit_log_action", "action"),
    Index("ix_audit_log_at", "at"),
    Column("chain", String(KEY)),
    Column("chain_seq", BigInteger),
    Column("prev_hash", String(HASH)),
    Column("row_hash", String(HASH)),
    Index("uq_audit_log_chain_chain_seq", "chain", "chain_seq", unique=True),
)

# The provincial item catalogue (事项目录), as last synchronised: a case whose item is
# not here is dead-lettered with the code named.
catalogue_items = Table(
    "catalogue_items",
    metadata,
    Column("catalogue_code", String(NAME), primary_key=True),
    Column("implementation_code", String(KEY), nullable=False),
    Column("name", String(KEY), nullable=False),
    Column("category", String(NAME), nullable=False),
    Column("level", String(32), nullable=False),
    Column("department", String(NAME), nullable=False),
    Column("online_depth", Integer, nullable=False),
    Column("promised_days", Integer, nullable=False),
    Column("statutory_days", Integer, nullable=False),
    Column("required_visits", Integer, nullable=False),
    Column("one_window", Integer, nullable=False),
    Column("synced_at", UTCDateTime(), nullable=False),
    # the monthly report's (hub/report/, migration 0010); NULL where the catalogue says nothing
    Column("in_hall", Integer),
    Column("approval_exception", Integer),
    Column("materials", JSONDoc),
    Index("ix_catalogue_items_department", "department"),
)

# --- dual-track (双轨运行): see hub/dualtrack/ -------------------------------------------
# Float is only used here; imported late so the blocks above stay as they were.
from sqlalchemy import Float  # noqa: E402

# One row per pairing key, holding each track's message until its twin comes (or the
# lag window runs out). One row for both tracks, not one per track, so that locking it
# serialises two consumers offering the twins at once. Kept after the decision for
# keep_days, so a re-run of a track can still be told apart as noise.
dualtrack_twins = Table(
    "dualtrack_twins",
    metadata,
    Column("department", String(NAME), nullable=False),
    Column("case_no", String(CASE_NO), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("deadline", UTCDateTime()),
    Column("old_message_id", String(ID)),
    Column("old_digest", String(64)),
    Column("old_at", UTCDateTime()),
    Column("old_envelope", JSONDoc),
    Column("new_message_id", String(ID)),
    Column("new_digest", String(64)),
    Column("new_at", UTCDateTime()),
    Column("new_envelope", JSONDoc),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("payload_removed_at", UTCDateTime()),   # both envelopes removed by retention
    PrimaryKeyConstraint("department", "case_no", "kind", "sequence", name="pk_dualtrack_twins"),
    Index("ix_dualtrack_twins_state_deadline", "state", "deadline"),
    Index("ix_dualtrack_twins_updated_at", "updated_at"),
)

# Every verdict, with its differing fields already masked: reports and the console read
# only this, never the envelopes.
dualtrack_comparisons = Table(
    "dualtrack_comparisons",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("department", String(NAME), nullable=False),
    Column("case_no", String(CASE_NO), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("track", String(16)),
    Column("fields", JSONDoc),
    Column("lag_seconds", Float),
    Column("old_message_id", String(ID)),
    Column("new_message_id", String(ID)),
    Column("old_summary", JSONDoc),
    Column("new_summary", JSONDoc),
    Column("compared_at", UTCDateTime(), nullable=False),
    Index("ix_dualtrack_comparisons_department_compared_at", "department", "compared_at"),
    Index("ix_dualtrack_comparisons_case_no", "case_no"),
)

# Fields that differed between two runs of the same track (Diffy's noise).
dualtrack_noise = Table(
    "dualtrack_noise",
    metadata,
    Column("department", String(NAME), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("field", String(KEY), nullable=False),
    Column("track", String(16), nullable=False),
    Column("example", JSONDoc),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("department", "kind", "field", name="pk_dualtrack_noise"),
)

# A handover team's classification of a mismatch pattern.
dualtrack_adjudications = Table(
    "dualtrack_adjudications",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("department", String(NAME), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("field", String(KEY), nullable=False),
    Column("old_value", String(KEY)),
    Column("new_value", String(KEY)),
    Column("classification", String(32), nullable=False),
    Column("actor", String(NAME * 2), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Index("ix_dualtrack_adjudications_department", "department"),
)

# The mode set by cutover / rollback; wins over config/dualtrack.yaml.
dualtrack_modes = Table(
    "dualtrack_modes",
    metadata,
    Column("department", String(NAME), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("actor", String(NAME * 2), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)

# Every mode change with the figures that justified it (also in audit_log).
dualtrack_mode_changes = Table(
    "dualtrack_mode_changes",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("department", String(NAME), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_mode", String(16), nullable=False),
    Column("to_mode", String(16), nullable=False),
    Column("forced", Integer, nullable=False),
    Column("actor", String(NAME * 2), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("figures", JSONDoc),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_dualtrack_mode_changes_department", "department"),
)

# --- delivery under faults (retries, holds, circuit breakers): see hub/runtime/hold.py ----
# A case whose message n is waiting to be retried, or is dead, at one destination: its
# later messages must wait (invariant 5). Only the process holding the destination queue
# writes these rows, except an operator's replay or release, which flip dead to released.
delivery_holds = Table(
    "delivery_holds",
    metadata,
    Column("destination", String(NAME), nullable=False),
    Column("case_no", String(CASE_NO), nullable=False),
    Column("head_message_id", String(ID), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("reason", LongText),
    Column("dead_letter_id", String(ID)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("destination", "case_no", name="pk_delivery_holds"),
)

# Later messages of a held case, taken off the queue and kept here in arrival order until
# the head is delivered (or replayed); the store is durable, so they are acked once here.
parked_messages = Table(
    "parked_messages",
    metadata,
    Column("destination", String(NAME), nullable=False),
    Column("message_id", String(ID), nullable=False),
    Column("case_no", String(CASE_NO), nullable=False),
    Column("position", Integer, nullable=False),
    Column("routing_key", String(KEY)),
    Column("body", LongText, nullable=False),
    Column("headers", JSONDoc),
    Column("parked_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("destination", "message_id", name="pk_parked_messages"),
    Index("ix_parked_messages_destination_case_no_position", "destination", "case_no", "position"),
)

# One circuit breaker per destination, shared by every hub process (the one that holds the
# queue writes it), so `tongban status` shows one state and a process that takes the
# queue over respects an open breaker instead of finding the outage out again.
breaker_states = Table(
    "breaker_states",
    metadata,
    Column("destination", String(NAME), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("cooldown_ms", Integer, nullable=False),
    Column("opened_at", UTCDateTime()),
    Column("probe_at", UTCDateTime()),
    Column("reason", LongText),
    Column("worker", String(KEY)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# --- scale-out: partition layouts and the workers sharing them (hub/runtime/allotment.py) ----
# The partition count of each destination: one active layout, and older ones draining until
# their queues are empty and deleted (a change of P: `tongban partitions set`). The store,
# not each process's config, says which layout is live, so processes started with
# different files agree.
partition_layouts = Table(
    "partition_layouts",
    metadata,
    Column("destination", String(NAME), nullable=False),
    Column("partitions", Integer, nullable=False),      # 0: the single queue of before partitions
    Column("state", String(16), nullable=False),         # active | draining
    Column("actor", String(NAME * 2), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("destination", "partitions", name="pk_partition_layouts"),
)

# Hub worker processes alive now, on any machine: each writes its row every second; the
# count of fresh rows is W in "no process holds more than ceil(P/W) partitions".
hub_workers = Table(
    "hub_workers",
    metadata,
    Column("worker", String(KEY), primary_key=True),     # host:pid:start
    Column("started_at", UTCDateTime(), nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
    Column("holds", JSONDoc),                            # what it works now: unit -> group
)

# What each source last sent for a record (and for a case's step), for conflict detection
# (hub/runtime/conflicts.py): the same key again with other content is a conflict, or an
# update where the department's mapping says a later version supersedes.
content_versions = Table(
    "content_versions",
    metadata,
    Column("source", String(NAME), nullable=False),
    Column("record_key", String(KEY), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("case_no", String(CASE_NO)),
    Column("sequence", Integer),
    Column("digest", String(ID), nullable=False),
    Column("message_id", String(ID), nullable=False),
    Column("payload", JSONDoc),   # NULL once retention removed it (the digest stays)
    Column("seen_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("source", "record_key", "kind", name="pk_content_versions"),
    Index("ix_content_versions_step", "source", "case_no", "kind", "sequence"),
    Column("payload_removed_at", UTCDateTime()),
    Index("ix_content_versions_seen_at", "seen_at"),
)

# --- the web console (hub/console/): its local users and their sessions --------------------
# A user of the console: argon2 hash of the password (never the password), a role, and the
# failed-login count that locks the account for a while after too many tries.
console_users = Table(
    "console_users",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(KEY), nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A logged-in browser: the cookie holds a random token, the store only its SHA-256, so a
# copy of the store does not log anyone in; logout deletes the row (a cookie is not
# revocable by itself). The CSRF token is per session, checked on every form.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(ID), primary_key=True),
    Column("user_name", String(NAME), nullable=False),
    Column("csrf", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_console_sessions_user_name", "user_name"),
)


# --- the monthly supervision report (月度通报, hub/report/, migration 0010) ----------------
# One row per case as last seen: what the report's case figures count (visits, materials
# required/provided/reused, one-window acceptance, times and the promised deadline). due_at is
# worked out when the row is written (working days after acceptance, Asia/Shanghai), so the
# overdue count is a plain comparison in SQL on every dialect.
supervision_cases = Table(
    "supervision_cases",
    metadata,
    Column("case_no", String(CASE_NO), primary_key=True),
    Column("department", String(NAME), nullable=False),
    Column("item_code", String(NAME), nullable=False),
    # channel and visits unknown (NULL) when the department's events do not say them (migration 0012)
    Column("channel", String(16)),
    Column("status", String(32), nullable=False),
    Column("visits", Integer),
    Column("materials_required", Integer, nullable=False),
    Column("materials_provided", Integer, nullable=False),
    Column("materials_reused", Integer, nullable=False),
    Column("one_window", Integer),
    Column("promised_days", Integer),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("accepted_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("due_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    # the highest step folded in (hub/report/feed.py): its type is the case's status
    Column("last_sequence", Integer),
    Index("ix_supervision_cases_completed_at", "completed_at"),
    Index("ix_supervision_cases_accepted_at", "accepted_at"),
    Index("ix_supervision_cases_due_at", "due_at"),
)


# --- the tamper-evident logs (hub/audit/): signed checkpoints of each chain's head ------------
# A checkpoint says "chain C of log L had N rows ending in hash H at time T", signed: rows
# deleted from a chain's end, or a chain rewritten from some row on, no longer match it.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("log", String(32), nullable=False),          # message_log | audit_log
    Column("chain", String(KEY), nullable=False),
    Column("chain_seq", BigInteger, nullable=False),   # the head's position = the chain's row count
    Column("head_hash", String(HASH), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("algorithm", String(16), nullable=False),   # ed25519 | sm2
    Column("key_id", String(NAME), nullable=False),
    Column("signature", LongText, nullable=False),      # base64
    Index("ix_log_checkpoints_log_chain_chain_seq", "log", "chain", "chain_seq"),
)
