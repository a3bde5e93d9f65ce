"""Credentials never in logs or error messages (issue 13, item 6): connections given a password
in their URL (the broker's AMQP URL, the province's WSDL URL behind basic auth, the platform's
URL) fail, and neither what was logged, at DEBUG and from every library, nor the error raised
(its text, its repr, its traceback) shows the password."""
from __future__ import annotations

import base64
import logging
import traceback
import uuid

import pytest
import requests

from hub import bus
from hub.delivery.base import ACCEPTED, DeliveryError, MessageMeta
from hub.logs import NOISY
from hub.delivery.platform_rest import PlatformRest
from hub.delivery.province_soap import ProvinceSoap
from hub.runtime.runner import Hub
from hub.store import Store
from sims.province import ProvinceSim
from tests.ports import free_port
from tests.security.province_wire import TamperingProxy

SECRET = "Pr0v-S3cret!x9"        # in URLs percent-encoded as needed; never seen in the clear


def _meta() -> MessageMeta:
    return MessageMeta(str(uuid.uuid4()), "case_event", "C1", 1, "commerce")


def _text_of(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def _hidden(caplog, *texts: str) -> None:
    seen = caplog.text + "\n".join(r.getMessage() for r in caplog.records) + "\n".join(texts)
    for needle in (SECRET, requests.utils.quote(SECRET, safe="")):
        assert needle not in seen


@pytest.fixture(autouse=True)
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)    # every logger, the libraries' too (zeep, urllib3, amqp, kombu):
    for name in NOISY:                 # an earlier `tongban` call in this process (logs.setup) kept them at WARNING
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_broker_password_in_the_url_of_a_refused_connection_is_not_shown(broker_url, tmp_path, debug_logs):
    wrong = broker_url.replace("guest:guest@", f"guest:{requests.utils.quote(SECRET, safe='')}@")
    assert wrong != broker_url
    with pytest.raises(Exception) as direct:
        bus.connect(wrong)
    assert "ACCESS_REFUSED" in str(direct.value)

    from hub.config import load_settings
    settings = load_settings()
    settings.update(broker_url=wrong, db_url=f"sqlite:///{tmp_path / 'hub.db'}")
    store = Store.open(settings["db_url"])
    try:
        with pytest.raises(Exception) as started:
            Hub(settings, store=store).start()
    finally:
        store.close()
    assert debug_logs.records, "nothing was logged: the test would prove nothing"
    _hidden(debug_logs, _text_of(direct.value), _text_of(started.value))


def test_province_basic_auth_from_the_wsdl_url_works_and_a_refusal_hides_it(tmp_path, debug_logs):
    good = "Basic " + base64.b64encode(f"tongban:{SECRET}".encode()).decode()
    quoted = requests.utils.quote(SECRET, safe="")
    with ProvinceSim(port=0) as sim, TamperingProxy(sim.url, basic_auth=good) as gateway:
        host = gateway.url.split("//", 1)[1]
        dest = ProvinceSoap("province", f"http://tongban:{quoted}@{host}/ws/report?wsdl", timeout=5,
                            signing={"key_file": str(tmp_path / "k.key")})
        assert dest.wsdl == f"http://{host}/ws/report?wsdl"
        # the node's gateway lets the right password through: to the WSDL and to every call
        requests.post(f"{sim.url}/_admin/signatures", json={"public_keys": [dest.signer.public_entry()]},
                      timeout=10).raise_for_status()
        assert dest.send(b"{}", _meta()) == ACCEPTED and gateway.unauthorised == 0

        wrong = ProvinceSoap("province", f"http://tongban:{quoted}x@{host}/ws/report?wsdl", timeout=5)
        with pytest.raises(DeliveryError) as refused:
            wrong.send(b"{}", _meta())
        assert gateway.unauthorised >= 1
    closed = ProvinceSoap("province", f"http://tongban:{quoted}@127.0.0.1:{free_port()}/ws/report?wsdl", timeout=2)
    with pytest.raises(DeliveryError) as unreachable:
        closed.send(b"{}", _meta())
    assert "province WSDL not available" in unreachable.value.reason
    _hidden(debug_logs, _text_of(refused.value), _text_of(unreachable.value))
    assert "Loading remote data from" in debug_logs.text     # zeep logged the URLs it loaded


def test_platform_password_in_the_url_of_a_failing_connection_is_not_shown(debug_logs):
    quoted = requests.utils.quote(SECRET, safe="")
    dest = PlatformRest("platform", f"http://tongban:{quoted}@127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(DeliveryError) as err:
        dest.send(b'{"message_id": "m1"}', _meta())
    assert "platform unreachable" in err.value.reason
    _hidden(debug_logs, _text_of(err.value))
