"""The unified platform simulator: idempotency by key, envelope checks, arrival order."""
from __future__ import annotations

import uuid

import pytest


def envelope(case_no="SCJG202600310001", sequence=1, **extra):
    return {"message_id": str(uuid.uuid4()), "kind": "case_event", "case_no": case_no,
            "sequence": sequence, "payload": {"type": "accepted"}, **extra}


def post(http, sim, body, key=None):
    headers = {"Idempotency-Key": key if key is not None else body.get("message_id", "k")}
    return http.post(f"{sim.url}/api/v1/messages", json=body, headers=headers)


def test_first_delivery_accepted_repeat_refused(http, platform):
    body = envelope()
    first = post(http, platform, body)
    assert first.status_code == 201 and first.json() == {"status": "accepted"}
    again = post(http, platform, body)
    assert again.status_code == 409 and again.json() == {"status": "duplicate"}
    assert http.get(f"{platform.url}/_admin/stats").json() == {"accepted": 1, "duplicates_refused": 1}


def test_received_keeps_arrival_order_and_the_body(http, platform):
    bodies = [envelope(sequence=n) for n in (1, 2, 3)]
    for body in bodies:
        assert post(http, platform, body, key=f"key-{body['sequence']}").status_code == 201
    received = http.get(f"{platform.url}/_admin/received").json()
    assert received["count"] == 3
    assert [r["sequence"] for r in received["items"]] == [1, 2, 3]
    item = received["items"][0]
    assert item["idempotency_key"] == "key-1" and item["body"] == bodies[0]
    assert {"message_id", "kind", "case_no", "received_at"} <= item.keys()


@pytest.mark.parametrize("field", ["message_id", "kind", "case_no", "sequence"])
def test_missing_field_is_400_naming_it(http, platform, field):
    body = envelope()
    del body[field]
    r = post(http, platform, body, key="k1")
    assert r.status_code == 400
    assert r.json()["field"] == field and field in r.json()["error"]


def test_missing_key_and_bad_values_are_400(http, platform):
    r = http.post(f"{platform.url}/api/v1/messages", json=envelope())
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["error"]
    assert post(http, platform, envelope(sequence="1"), key="k").json()["field"] == "sequence"
    r = http.post(f"{platform.url}/api/v1/messages", data=b"{not json", headers={"Idempotency-Key": "k"})
    assert r.status_code == 400
    # a message about no case (a catalogue item) has null case_no/sequence: allowed
    assert post(http, platform, envelope(case_no=None, sequence=None), key="k2").status_code == 201
    assert http.get(f"{platform.url}/_admin/stats").json()["accepted"] == 1


def test_reset_forgets_keys(http, platform):
    body = envelope()
    assert post(http, platform, body).status_code == 201
    http.post(f"{platform.url}/_admin/reset")
    assert post(http, platform, body).status_code == 201
    assert http.get(f"{platform.url}/_admin/stats").json() == {"accepted": 1, "duplicates_refused": 0}
