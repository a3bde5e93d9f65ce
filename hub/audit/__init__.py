"""The tamper-evident logs (issue 13): hash chains over the message log and the audit trail,
signed checkpoints of their heads, and the verifier that names what was changed.

Knows nothing of transports and nothing of SQL: the store (hub/store) writes and reads the
rows, this package computes and judges their hashes."""
