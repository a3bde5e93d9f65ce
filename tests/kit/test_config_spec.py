"""Config specs (hub/adapter/spec.py): values parsed by their declared type, every problem named
with the adapter, the field and the value, did-you-mean for misspelt keys, secrets never shown."""
from __future__ import annotations

import pytest

from hub.adapter import HUB_FIELDS, ConfigError, ConfigSpec, Field, registry

SPEC = ConfigSpec(fields=(
    Field("url", "base URL", required=True, example="http://x"),
    Field("password", "the system's password", required=True, secret=True, example="s3cret-example"),
    Field("verify_tls", "check certificates", type=bool, default=True),
    Field("timeout", "seconds", type=float, default=10.0),
    Field("retries", "tries", type=int, default=3),
    Field("tables", "tables read", type=list, item=str, default=("A", "B")),
    Field("ports", "ports", type=list, item=int, default=()),
    Field("mode", "how to read", choices=("poll", "push"), default="poll"),
    Field("auth", "login", type=dict, fields=(
        Field("user", "who", required=True),
        Field("token", "token", secret=True),
        Field("realm", "realm", default="gov"))),
))


def resolve(**given):
    return SPEC.resolve("socialsec", {"url": "http://x", "password": "pw", "auth": {"user": "u"}, **given})


@pytest.mark.parametrize("text, value", [("false", False), ("False", False), ("no", False), ("0", False),
                                         ("off", False), ("true", True), ("yes", True), ("1", True),
                                         (False, False), (True, True)])
def test_a_bool_is_parsed_not_truthy(text, value):
    assert resolve(verify_tls=text)["verify_tls"] is value


@pytest.mark.parametrize("field, value", [("verify_tls", "maybe"), ("verify_tls", 2), ("retries", "1.5"),
                                          ("retries", True), ("retries", "three"), ("timeout", "nan"),
                                          ("timeout", "soon"), ("url", ["a"]), ("tables", 5), ("ports", "80,x")])
def test_a_value_of_the_wrong_type_is_named(field, value):
    with pytest.raises(ConfigError) as info:
        resolve(**{field: value})
    text = str(info.value)
    assert text.startswith("adapter socialsec: ") and f"setting {field}" in text


def test_text_from_the_environment_is_parsed_by_type():
    conf = resolve(retries="5", timeout="2.5", tables="X, Y", ports="80,443", verify_tls="off")
    assert conf["retries"] == 5 and conf["timeout"] == 2.5 and conf["verify_tls"] is False
    assert conf["tables"] == ["X", "Y"] and conf["ports"] == [80, 443]


def test_defaults_and_hub_fields_are_filled():
    conf = resolve()
    assert conf["tables"] == ["A", "B"] and conf["mode"] == "poll" and conf["auth"] == {
        "user": "u", "token": None, "realm": "gov"}
    # the hub's own settings are in every config without the adapter declaring them
    assert {f.name for f in HUB_FIELDS} <= set(conf) and conf["max_record_bytes"] == 65536


def test_a_misspelt_key_gets_did_you_mean_and_all_problems_are_listed():
    with pytest.raises(ConfigError) as info:
        SPEC.resolve("socialsec", {"url": "http://x", "pasword": "pw", "retires": 2, "auth": {"usr": "u"}})
    problems = info.value.problems
    assert any("unknown setting pasword; did you mean 'password'?" in p for p in problems)
    assert any("unknown setting retires; did you mean 'retries'?" in p for p in problems)
    assert any("unknown setting auth.usr; did you mean 'user'?" in p for p in problems)
    assert any("setting password is required" in p for p in problems)
    assert any("setting auth.user is required" in p for p in problems)


def test_an_enum_names_its_choices_with_did_you_mean():
    with pytest.raises(ConfigError, match=r"setting mode must be one of poll, push, got 'pol'; did you mean 'poll'"):
        resolve(mode="pol")


def test_a_secret_is_never_printed():
    secret = "Hunter2-very-secret"
    for bad in ({"password": [secret]}, {"auth": {"user": "u", "token": {"x": secret}}}):
        with pytest.raises(ConfigError) as info:
            resolve(**bad)
        assert secret not in str(info.value) and "not shown (secret)" in str(info.value)
    with pytest.raises(ConfigError) as info:   # required and missing: no example of it either
        SPEC.resolve("socialsec", {"url": "http://x", "auth": {"user": "u"}})
    assert "s3cret-example" not in str(info.value)
    conf = resolve(password=secret, auth={"user": "u", "token": secret})
    masked = SPEC.masked(conf)
    assert secret not in repr(masked) and masked["password"] == "***" and masked["auth"]["token"] == "***"


def test_describe_lists_nested_enum_and_hub_fields():
    by_name = {d["name"]: d for d in SPEC.describe()}
    assert by_name["mode"]["choices"] == ["poll", "push"]
    assert [f["name"] for f in by_name["auth"]["fields"]] == ["user", "token", "realm"]
    assert by_name["tables"]["type"] == "list[str]" and by_name["unreadable_attempts"]["hub"] is True


def test_an_unknown_adapter_name_gets_did_you_mean():
    with pytest.raises(KeyError) as info:
        registry.load("comerce")
    assert str(info.value).startswith("no adapter named 'comerce'") and "did you mean 'commerce'?" in str(info.value)


def test_the_housing_password_is_not_echoed_when_its_url_is_of_the_wrong_type():
    with pytest.raises(ConfigError) as info:
        registry.load("housing")({"db_url": {"url": "postgresql://spgl:TopSecret@db/x"}})
    assert "TopSecret" not in str(info.value) and "db_url" in str(info.value)


def test_no_installed_adapter_redeclares_the_hub_only_settings():
    # page_size and poll_interval may be redeclared for another default; these two are the hub's alone
    for name in registry.available():
        own = {f.name for f in registry.load(name).spec.fields}
        assert not own & {"max_record_bytes", "unreadable_attempts"}, name
