"""Dead-letter ids: the same failure met again gets the same id (the recorder stores it
once), and the same message failing at two destinations gets two (each is its own dead
letter, for its own replay)."""
from __future__ import annotations

from hub.runtime.deadletters import publish_dead_letter


class _Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, body, exchange, routing_key, **kw):
        self.sent.append(kw["message_id"])


def _refuse(pub, destination, stage="sequence", payload=b'{"step": 2}'):
    return publish_dead_letter(pub, payload, stage=stage, reason="step 2 arrived after step 3 was delivered",
                               department="commerce", destination=destination, record_key="SCJG1#2",
                               case_no="SCJG1", message_id="m-2").id


def test_one_message_refused_at_two_destinations_is_two_dead_letters():
    pub = _Publisher()
    assert _refuse(pub, "platform") != _refuse(pub, "province")


def test_the_same_refusal_met_again_has_the_same_id():
    pub = _Publisher()
    assert _refuse(pub, "platform") == _refuse(pub, "platform")
    assert _refuse(pub, None, stage="map") == _refuse(pub, None, stage="map")
    assert _refuse(pub, "platform", payload=b"{}") != _refuse(pub, "platform")
