"""`tongban dlq show` never prints personal data in clear, whatever shape the payload has."""
from __future__ import annotations

import json
from argparse import Namespace

from hub.cli.dlq import dlq_show
from hub.store import Store

PHONE, ID_NUMBER = "13912345678", "330106199001011234"


def _show(monkeypatch, tmp_path, capsys, payload, unmasked=False) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("TONGBAN_DB_URL", url)
    store = Store.open(url)
    store.add_dead_letter({"id": "dl-1", "stage": "fetch", "reason": "page cut off", "department": "ndrc",
                           "attempts": 1, "payload": payload})
    assert dlq_show(Namespace(config=None, id="dl-1", unmasked=unmasked)) == 0
    return capsys.readouterr().out


def test_a_payload_that_is_not_json_is_masked_as_text(monkeypatch, tmp_path, capsys):
    out = _show(monkeypatch, tmp_path, capsys, f"<change><phone>{PHONE}</phone><id>{ID_NUMBER}</id><cut")
    assert PHONE not in out and ID_NUMBER not in out
    assert "139****5678" in json.loads(out)["payload"]


def test_unmasked_shows_it_as_stored(monkeypatch, tmp_path, capsys):
    out = _show(monkeypatch, tmp_path, capsys, f"<phone>{PHONE}</phone>", unmasked=True)
    assert PHONE in out
