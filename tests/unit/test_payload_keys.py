"""The payload key ring's settings (hub/store/protection.py): keys from files or environment
variables, a missing current key refused by name, a missing old key named when a row needs it."""
from __future__ import annotations

import base64
import os

import pytest

from hub.store.keyring import PayloadKeyError
from hub.store.protection import key_ring, retention, write_key


def test_keys_from_a_file_and_from_the_environment_seal_and_open(tmp_path):
    path = write_key(tmp_path / "k1.key", "aes-gcm")
    env = {"K2": base64.b64encode(os.urandom(16)).decode()}
    settings = {"payload_encryption": {"current": "k2", "keys": {
        "k1": {"algorithm": "aes-gcm", "key_file": str(path)}, "k2": {"algorithm": "sm4-gcm", "key_env": "K2"}}}}
    ring = key_ring(settings, env)
    sealed = ring.seal("申请人张三 330106199003071236", "dead_letters.payload")
    assert sealed.startswith("enc:v1:k2:") and "330106199003071236" not in sealed
    assert ring.open(sealed, "dead_letters.payload") == "申请人张三 330106199003071236"
    assert ring.seal("x", "c") != ring.seal("x", "c")          # a fresh nonce every time


def test_a_current_key_that_cannot_be_loaded_is_refused_by_name(tmp_path):
    settings = {"payload_encryption": {"current": "k9", "keys": {"k9": {"key_file": str(tmp_path / "none.key")}}}}
    with pytest.raises(ValueError, match=r"current 'k9'.*none\.key does not exist"):
        key_ring(settings, {})
    with pytest.raises(ValueError, match="K9 is not set"):
        key_ring({"payload_encryption": {"current": "k9", "keys": {"k9": {"key_env": "K9"}}}}, {})
    bad = tmp_path / "short.key"
    bad.write_text(base64.b64encode(b"too short").decode())
    with pytest.raises(ValueError, match="needs 32 bytes"):
        key_ring({"payload_encryption": {"current": "k9", "keys": {"k9": {"key_file": str(bad)}}}}, {})


def test_an_old_key_that_cannot_be_loaded_is_named_when_a_row_needs_it(tmp_path):
    path = write_key(tmp_path / "k1.key")
    sealed = key_ring({"payload_encryption": {"current": "k1", "keys": {"k1": {"key_file": str(path)}}}}).seal(
        "x", "dead_letters.payload")
    path.unlink()
    write_key(tmp_path / "k2.key")
    ring = key_ring({"payload_encryption": {"current": "k2", "keys": {
        "k1": {"key_file": str(path)}, "k2": {"key_file": str(tmp_path / "k2.key")}}}})
    with pytest.raises(PayloadKeyError, match=r"payload key 'k1'.*k1\.key does not exist") as info:
        ring.open(sealed, "dead_letters.payload")
    assert info.value.key_id == "k1"


def test_plain_values_pass_and_retention_settings_are_checked():
    ring = key_ring({})
    assert not ring.enabled and ring.seal("plain", "c") == "plain" and ring.open("plain", "c") == "plain"
    assert retention({"retention": {"payload_days": 30, "tables": {"dead_letters": 90}}}).days("dead_letters") == 90
    assert retention({"retention": {"payload_days": 30}}).days("content_versions") == 30
    with pytest.raises(ValueError, match="unknown"):
        retention({"retention": {"tables": {"message_log": 5}}})
    with pytest.raises(ValueError, match="-1 days"):
        retention({"retention": {"payload_days": -1}})
