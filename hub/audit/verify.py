"""Walk the chains and name every row that was edited, deleted, inserted or reordered.

Per chain, rows in stored position order:

- **edited**: a row whose hash is not the hash of its content (or, its hash recomputed to
  hide the edit, a row the next row does not link to while no position is missing);
- **deleted**: positions missing between two rows (the next row links to a hash no row has),
  or missing from a chain's end that a signed checkpoint covered;
- **inserted**: a row with no chain, a row that links to no row of its chain and whose hash is
  not its own, or a row beside the one its chain continues from (two rows linking to one
  hash, and nothing links to it);
- **reordered**: a row whose place by the links differs from its stored position;
- **checkpoint**: a checkpoint whose signature does not verify, or whose head the chain no
  longer has at that position.

The hashes prove the order and the content only up to the last checkpoint: someone who can
write the database and compute SM3 can append rows, or rewrite a chain from some row on;
the signed checkpoints (whose key is not in the database) are what catches that."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

from . import chain as hc

FIELDS = {"message_log": hc.MESSAGE_FIELDS, "audit_log": hc.AUDIT_FIELDS}
ROW_KEY = {"message_log": "message_id", "audit_log": "id"}


def checkpoint_payload(cp: dict) -> bytes:
    at = cp["at"]
    return json.dumps({"log": cp["log"], "chain": cp["chain"], "chain_seq": int(cp["chain_seq"]),
                       "head_hash": cp["head_hash"], "at": at.isoformat(timespec="microseconds") if isinstance(at, datetime) else at},
                      sort_keys=True, separators=(",", ":")).encode()


def judge_chain(log: str, chain: str, rows: list[dict], *, from_start: bool = True) -> list[dict]:
    """Findings for one chain's rows (sorted by position). ``from_start`` False: the first row is
    an anchor before ``--since``, trusted as the chain's start and not judged itself."""
    fields, key = FIELDS[log], ROW_KEY[log]
    out: list[dict] = []
    flagged: set[int] = set()

    def find(kind: str, r: dict | None, detail: str, position=None) -> None:
        out.append({"log": log, "chain": chain, "kind": kind, "row": None if r is None else r[key],
                    "position": position if position is not None else (None if r is None else r["chain_seq"]),
                    "detail": detail})
        if r is not None:
            flagged.add(id(r))

    if not rows:
        return out
    anchor = None if from_start else rows[0]
    judged = rows if from_start else rows[1:]
    hashes = {r["row_hash"] for r in rows}
    followers = defaultdict(list)
    for r in rows:
        followers[r["prev_hash"]].append(r)
    start_hash = hc.GENESIS if anchor is None else anchor["row_hash"]

    for r in judged:
        if hc.recompute(r, fields) != r["row_hash"]:
            if r["prev_hash"] != start_hash and r["prev_hash"] not in hashes:
                find("inserted", r, "links to no row of its chain and its hash is not its own")
            else:
                find("edited", r, "its content no longer matches its hash")
    last = rows[-1]
    for h, rs in followers.items():
        if len(rs) > 1:
            for r in rs:
                if id(r) not in flagged and r is not last and r["row_hash"] not in followers and r is not anchor:
                    find("inserted", r, "links to the same row as the row its chain goes on from")

    # the order the links give, against the stored one (inserted rows left out)
    kept = [r for r in rows if not (id(r) in flagged and any(f["kind"] == "inserted" and f["row"] == r[key]
                                                                for f in out))]
    kept_hashes = {r["row_hash"] for r in kept}
    nxt = defaultdict(list)
    for r in kept:
        nxt[r["prev_hash"]].append(r)
    starts = [r for r in kept if r is anchor or r["prev_hash"] == start_hash or r["prev_hash"] not in kept_hashes]
    seen, linked = set(), []
    for s in sorted(starts, key=lambda r: r["chain_seq"]):
        cur = s
        while cur is not None and id(cur) not in seen:
            seen.add(id(cur))
            linked.append(cur)
            cand = [x for x in nxt[cur["row_hash"]] if id(x) not in seen]
            cur = min(cand, key=lambda r: r["chain_seq"]) if cand else None
    linked += [r for r in kept if id(r) not in seen]
    stored_rank = {id(r): i for i, r in enumerate(kept)}
    for i, r in enumerate(linked):
        if stored_rank[id(r)] != i and id(r) not in flagged:
            was = kept[i]["chain_seq"]
            find("reordered", r, f"logged at position {was}, stored at position {r['chain_seq']}")

    # breaks between neighbours
    if anchor is None and kept and kept[0]["chain_seq"] > 1:
        find("deleted", None, f"positions 1-{kept[0]['chain_seq'] - 1} missing before row {kept[0][key]}",
             position=1)
    full = rows
    for p, r in zip(kept, kept[1:]):
        if id(r) in flagged or id(p) in flagged:
            continue
        gap = [x["chain_seq"] for x in full if p["chain_seq"] < x["chain_seq"] < r["chain_seq"]]
        missing = r["chain_seq"] - p["chain_seq"] - 1 - len(gap)
        if r["prev_hash"] == p["row_hash"]:
            if missing > 0:
                find("edited", r, f"position changed: it follows row {p[key]} at {p['chain_seq']} directly")
            continue
        if r["prev_hash"] in kept_hashes:
            continue   # a reordering, named above
        if missing > 0:
            find("deleted", None, f"{missing} row(s) missing between row {p[key]} (position {p['chain_seq']}) "
                 f"and row {r[key]} (position {r['chain_seq']})", position=p["chain_seq"] + 1)
        else:
            find("edited", p, f"its hash was recomputed: row {r[key]} after it links to another")
    return out


def judge_checkpoints(checkpoints: list[dict], positions: dict, keys: dict, counts: dict) -> list[dict]:
    """``positions``: (log, chain) -> {position: hash} of the rows walked; ``keys``: key id ->
    PublicKey; ``counts``: (log, chain) -> highest position stored."""
    out = []
    for cp in checkpoints:
        where = {"log": cp["log"], "chain": cp["chain"], "row": None, "position": int(cp["chain_seq"])}
        key = keys.get(cp["key_id"])
        if key is None:
            out.append({**where, "kind": "checkpoint",
                        "detail": f"checkpoint {cp['id']}: signed by key {cp['key_id']}, which no public key given matches"})
            continue
        if not key.verify(checkpoint_payload(cp), cp["signature"]):
            out.append({**where, "kind": "checkpoint", "detail": f"checkpoint {cp['id']}: its signature does not verify"})
            continue
        seen = positions.get((cp["log"], cp["chain"]))
        if seen is None:
            continue   # not walked (before --since)
        pos = int(cp["chain_seq"])
        top = counts.get((cp["log"], cp["chain"]), 0)
        if pos > top:
            out.append({**where, "kind": "deleted", "position": top + 1,
                        "detail": f"the chain ends at position {top}; checkpoint {cp['id']} of {cp['at']} "
                                  f"signed {pos} rows"})
        elif pos in seen and seen[pos] != cp["head_hash"]:
            out.append({**where, "kind": "edited",
                        "detail": f"the row at position {pos} is not the one checkpoint {cp['id']} of {cp['at']} signed"})
    return out


def verify_store(store, *, since: datetime | None = None, keys: dict | None = None) -> dict:
    """Every log's chains and every checkpoint; ``ok`` only when nothing was found."""
    from hub.store.chainlog import LOGS
    findings, summary, positions, counts = [], {}, {}, {}
    for log in LOGS:
        chains = store.chains(log)
        starts = store.chain_start(log, since) if since is not None else {}
        rows_seen = 0
        for name, (n, top) in chains.items():
            if name is None:
                for r in store.chain_rows(log, None):
                    findings.append({"log": log, "chain": None, "kind": "inserted", "row": r[ROW_KEY[log]],
                                     "position": None, "detail": "a row with no place in any chain"})
                    rows_seen += 1
                continue
            counts[(log, name)] = top
            if since is not None:
                if name not in starts:
                    continue
                first = starts[name]
                rows = list(store.chain_rows(log, name, max(first - 1, 1)))
                from_start = first <= 1
            else:
                rows, from_start = list(store.chain_rows(log, name)), True
            rows_seen += len(rows)
            findings += judge_chain(log, name, rows, from_start=from_start)
            positions[(log, name)] = {r["chain_seq"]: r["row_hash"] for r in rows}
        summary[log] = {"chains": len([c for c in chains if c is not None]), "rows": rows_seen}
    cps = store.log_checkpoints()
    findings += judge_checkpoints(cps, positions, keys or {}, counts)
    return {"ok": not findings, "since": since.isoformat() if since else None, "logs": summary,
            "checkpoints": len(cps), "findings": findings}
