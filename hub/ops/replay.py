"""Guarded replay of dead letters: by id or filter, optionally to one destination, with
who and why recorded. A replayed message keeps its message id, so the ledger still
stops a second delivery to a destination that already has it.

Records that died before they were canonical (fetch, decode, map, validate) are mapped
again with today's mappings, so fixing a mapping or a code table and replaying is the
way to recover them; if they still fail, they stay dead and are reported as skipped.

A delivery dead letter also releases the hold it left on its case at that destination:
the case's later messages, parked meanwhile, are delivered after it, in order. A record of
a case that died before it was canonical holds the case at every destination that got a
later message of it (a gate, hub/runtime/hold.py): where the replayed message goes, it is
the head the hold waits for; where it does not go, the hold is released here."""
from __future__ import annotations

import json

from pydantic import ValidationError

from hub import bus, exactjson
from hub.adapter import registry
from hub.mapping import MappingSet, RecordError
from hub.model import Envelope, event_name
from hub.model.errors import describe, summary
from hub.model.masking import mask_text
from hub.routing import load_routes
from hub.routing.routes import destinations_for
from hub.runtime.hold import GATE, step_ordered
from hub.runtime.outbound import exchange_of, headers_of
from hub.runtime.retry import slotted

PRE_CANONICAL = ("fetch", "decode", "map", "validate", "conflict")   # replayed from the record as read


def _why(exc: Exception) -> str:
    """Why a dead letter stays dead, as the operator reads it: pydantic's own text quotes
    the whole input (an ID number, a name), so a validation error is described field by
    field, masked; any other text is masked too, and then cut (masked first: a cut ID would
    no longer look like one)."""
    if isinstance(exc, ValidationError):
        return mask_text(summary(describe(exc)))[:300]
    return mask_text(str(exc))[:300]


def _publish_envelope(pub, env_json: bytes, env: dict, to: str | None, track_headers: dict) -> None:
    model = Envelope.model_validate(env)
    headers = {**headers_of(model, str(model.source.department), str(model.source.track)), **track_headers}
    if to:
        # to its case's partition of that one destination (the slot header picks it)
        pub.publish(env_json, bus.names.destination_exchange(to), model.routing_key,
                    message_id=str(model.message_id), headers=headers)
    else:
        pub.publish(env_json, exchange_of(model), model.routing_key, message_id=str(model.message_id),
                    headers=headers)


def _accepted_version(store, row: dict, env: Envelope, headers: dict) -> tuple[Envelope, dict]:
    """A conflict replayed: the operator takes the new version. It goes as an update of the
    one sent before (its own message id, derived from the dead letter, so not a ledger
    duplicate; x-tongban-supersedes naming the old one), and the source remembers it, so a
    re-read of the same record is the exact replay it then is (hub/runtime/conflicts.py)."""
    import uuid
    from hub.runtime.conflicts import ConflictCheck
    source = f"{row['department']}:{(row.get('headers') or {}).get(bus.names.H_TRACK) or 'old'}"
    check = ConflictCheck(store, source, [env])
    prior = check.by_key.get((env.record_key, env.kind))
    env = env.model_copy(update={"message_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{env.message_id}|{row['id']}")})
    if prior is not None:
        headers = {**headers, bus.names.H_SUPERSEDES: prior["message_id"]}
    check.remember(env)
    check.save()
    return env, headers


def _release_hold(store, row: dict, to: str | None, actor: str, reason: str) -> None:
    """A dead delivery held its case at its destination (hub/runtime/hold.py): release the
    hold before the message goes back, so the worker delivers it and then the case's
    parked messages, in order. Released first: a replay that dies before publishing leaves
    the dead letter dead and a second replay does the same again. Replayed to another
    destination, the hold at the first one stays."""
    if row["stage"] != "deliver" or not row.get("case_no") or not row.get("destination") or not row.get("message_id"):
        return
    if to and to != row["destination"]:
        return
    store.release_hold(row["destination"], row["case_no"], row["message_id"], actor, reason)


def replay(settings: dict, store, *, ids=None, stage=None, department=None, destination=None, to=None,
           actor: str, reason: str, progress=None) -> dict:
    """progress(done, total): called after each dead letter (the CLI's progress bar)."""
    if not reason or not reason.strip():
        raise ValueError("a replay needs a reason (--reason)")
    if ids:
        rows = [store.get_dead_letter(i) for i in ids]
        missing = [i for i, r in zip(ids, rows) if r is None]
        if missing:
            raise ValueError(f"no dead letter with id {', '.join(missing)}")
    else:
        if not (stage or department or destination):
            raise ValueError("replay needs ids or at least one filter (--stage, --dept, --dest)")
        rows = store.list_dead_letters(stage=stage, department=department, destination=destination, limit=100000)
    if to and to not in (settings.get("destinations") or {}):
        raise ValueError(f"unknown destination {to!r} (known: {', '.join(settings.get('destinations') or {})})")
    mappings = MappingSet.load(settings["mappings_dir"])
    conn = bus.connect(bus.credentials.url_for(settings, bus.credentials.OPERATOR))
    pub = bus.ConfirmingPublisher(conn)
    replayed, skipped, reached = [], [], {}
    routes = load_routes(settings["routes_file"])
    try:
        for n, row in enumerate(rows):
            if progress is not None:
                progress(n, len(rows))
            if row["status"] != "dead":
                skipped.append({"id": row["id"], "why": f"status is {row['status']}"})
                continue
            if row["stage"] == "fetch":
                # an answer the system could not serve readably, not a record: the source reads it
                # again from the system once it is fixed (or purge it when it is stepped past)
                skipped.append({"id": row["id"], "why": "stage fetch: a page the system served unreadably is "
                                "read again from the system, not replayed"})
                continue
            extra = {bus.names.H_REPLAYED_FROM: row["id"]}
            try:
                _release_hold(store, row, to, actor, reason)
                if row["stage"] in PRE_CANONICAL:
                    system = registry.load(row["department"]).system
                    # the record as the adapter read it: its numbers exact again (hub.exactjson)
                    for env in mappings.apply(system, exactjson.loads(row["payload"])):
                        headers = dict(extra)
                        if row["stage"] == "conflict":
                            env, headers = _accepted_version(store, row, env, headers)
                        _publish_envelope(pub, env.model_dump_json().encode(), json.loads(env.model_dump_json()),
                                          to, headers)
                        reached.setdefault(row["id"], set()).update({to} if to else destinations_for(
                            routes, str(env.source.department), env.kind, event_name(env.payload)))
                else:
                    env = json.loads(row["payload"])
                    _publish_envelope(pub, row["payload"].encode("utf-8"), env, to or row.get("destination"), extra)
            except (RecordError, ValueError, KeyError) as exc:
                skipped.append({"id": row["id"], "why": _why(exc)})
                continue
            replayed.append(row["id"])
        pub.flush()
    finally:
        pub.close()
        conn.release()
    released = release_gates(settings, store, replayed, reached, actor, reason)
    if replayed:
        store.mark_dead_letters(replayed, "replayed", actor, reason + (f" (to {to})" if to else ""))
    return {"replayed": len(replayed), "skipped": skipped, "ids": replayed, "released": released}


def release_gates(settings: dict, store, dead_letter_ids: list[str], reached: dict[str, set[str]] | None,
                  actor: str, reason: str) -> list[dict]:
    """Release the gate holds of these dead letters at the destinations their replay does
    not reach (``reached``: id -> destinations; None: a purge, it reaches none)."""
    ids = set(dead_letter_ids)
    out = []
    for hold in store.list_holds(status="dead"):
        dl = hold.get("dead_letter_id")
        if dl not in ids or not hold["head_message_id"].startswith(GATE):
            continue
        if reached is not None and hold["destination"] in reached.get(dl, set()):
            continue
        out.append(release_case(settings, store, destination=hold["destination"], case_no=hold["case_no"],
                                actor=actor, reason=reason) | {"destination": hold["destination"]})
    return out


def release_case(settings: dict, store, *, destination: str, case_no: str, actor: str, reason: str) -> dict:
    """Let a held case go on without its dead head (its dead letter purged, or to be dealt
    with later): the case's parked messages are delivered in order. The first of them
    becomes the head and goes back on the queue; the worker delivers it, then the rest.
    Safe to run again if it failed half-way."""
    if not reason or not reason.strip():
        raise ValueError("releasing a held case needs a reason")
    hold = store.holds(destination, [case_no]).get(case_no)
    if hold is None or hold["status"] == "retrying":
        raise ValueError(f"case {case_no} is not held dead at {destination}")
    parked = step_ordered(store.parked(destination, case_no))   # the worker's order: by step where numbered
    if not parked:
        store.give_up_head(destination, case_no, None, actor, reason)
        return {"released": case_no, "parked": 0}
    first = parked[0]
    if not store.give_up_head(destination, case_no, first["message_id"], actor, reason):
        raise ValueError(f"case {case_no} at {destination} changed meanwhile; see `tongban status` and try again")
    conn = bus.connect(bus.credentials.url_for(settings, bus.credentials.OPERATOR))
    pub = bus.ConfirmingPublisher(conn)
    try:
        pub.publish(first["body"].encode("utf-8"), bus.names.destination_exchange(destination),
                    first.get("routing_key") or "", message_id=first["message_id"],
                    headers=slotted(dict(first["headers"] or {}), first["message_id"]))
        pub.flush()
    finally:
        pub.close()
        conn.release()
    return {"released": case_no, "parked": len(parked)}
