"""Hub settings: config/hub.yaml with every value overridable by environment variables."""
from __future__ import annotations

import copy
import textwrap

import pytest

from hub.config import DEFAULT_FILE, ROOT, load_settings, with_endpoints

HUB_YAML = """
broker_url: amqp://guest:guest@127.0.0.1:5672//
db_url: sqlite:///var/tongban.db
routes_file: config/routes.yaml
mappings_dir: mappings
adapters:
  commerce:
    enabled: true
    url: http://127.0.0.1:18081
    page_size: 200
    poll_interval: 0.5
destinations:
  platform:
    type: platform_rest
    url: http://127.0.0.1:18082
  province:
    type: province_soap
    wsdl: http://127.0.0.1:18083/ws/report?wsdl
consumer:
  prefetch: 200
"""


@pytest.fixture
def hub_yaml(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text(textwrap.dedent(HUB_YAML), encoding="utf-8")
    return path


def test_the_shipped_file_loads_without_overrides():
    s = load_settings(environ={})
    assert s["adapters"]["commerce"]["url"].startswith("http://")
    assert {"platform", "province"} <= set(s["destinations"])
    assert s["routes_file"] == str(ROOT / "config" / "routes.yaml")
    assert s["mappings_dir"] == str(ROOT / "mappings")
    assert DEFAULT_FILE == ROOT / "config" / "hub.yaml"


def test_file_values_without_overrides(hub_yaml):
    s = load_settings(hub_yaml, environ={})
    assert s["broker_url"] == "amqp://guest:guest@127.0.0.1:5672//"
    assert s["adapters"]["commerce"] == {"enabled": True, "url": "http://127.0.0.1:18081", "page_size": 200,
                                         "poll_interval": 0.5}
    assert s["db_url"] == f"sqlite:///{ROOT / 'var' / 'tongban.db'}"


def test_double_underscore_variables_walk_the_tree(hub_yaml):
    s = load_settings(hub_yaml, environ={
        "TONGBAN__ADAPTERS__COMMERCE__URL": "http://10.0.0.5:8080",
        "TONGBAN__ADAPTERS__COMMERCE__PAGE_SIZE": "500",
        "TONGBAN__ADAPTERS__COMMERCE__POLL_INTERVAL": "0.1",
        "TONGBAN__ADAPTERS__COMMERCE__ENABLED": "false",
        "TONGBAN__DESTINATIONS__PROVINCE__WSDL": "http://10.0.0.7:9000/ws/report?wsdl",
        "TONGBAN__CONSUMER__PREFETCH": "1000",
    })
    assert s["adapters"]["commerce"] == {"enabled": False, "url": "http://10.0.0.5:8080", "page_size": 500,
                                         "poll_interval": 0.1}
    assert s["destinations"]["province"]["wsdl"] == "http://10.0.0.7:9000/ws/report?wsdl"
    assert s["destinations"]["platform"]["url"] == "http://127.0.0.1:18082"
    assert s["consumer"]["prefetch"] == 1000


def test_a_variable_may_add_a_new_section(hub_yaml):
    s = load_settings(hub_yaml, environ={"TONGBAN__ADAPTERS__LAND__URL": "http://10.0.0.9:8080"})
    assert s["adapters"]["land"] == {"url": "http://10.0.0.9:8080"}
    assert s["adapters"]["commerce"]["url"] == "http://127.0.0.1:18081"


def test_unrelated_variables_are_ignored(hub_yaml):
    s = load_settings(hub_yaml, environ={"TONGBANX__CONSUMER__PREFETCH": "1", "PATH": "/bin",
                                         "TONGBAN_OTHER": "x"})
    assert s["consumer"]["prefetch"] == 200 and "tongban_other" not in s


def test_short_forms_for_broker_and_database(hub_yaml):
    s = load_settings(hub_yaml, environ={"TONGBAN_BROKER_URL": "amqp://hub:secret@mq.internal:5672/tongban",
                                         "TONGBAN_DB_URL": "postgresql+psycopg://hub@db.internal/tongban"})
    assert s["broker_url"] == "amqp://hub:secret@mq.internal:5672/tongban"
    assert s["db_url"] == "postgresql+psycopg://hub@db.internal/tongban"


def test_the_short_form_wins_over_the_long_one(hub_yaml):
    s = load_settings(hub_yaml, environ={"TONGBAN__BROKER_URL": "amqp://long//",
                                         "TONGBAN_BROKER_URL": "amqp://short//"})
    assert s["broker_url"] == "amqp://short//"


def test_relative_sqlite_paths_resolve_from_the_project_root_and_absolute_ones_stay(hub_yaml):
    rel = load_settings(hub_yaml, environ={"TONGBAN_DB_URL": "sqlite:///data/hub.db"})
    assert rel["db_url"] == f"sqlite:///{ROOT / 'data' / 'hub.db'}"
    absolute = load_settings(hub_yaml, environ={"TONGBAN_DB_URL": "sqlite:////srv/tongban/hub.db"})
    assert absolute["db_url"] == "sqlite:////srv/tongban/hub.db"


def test_an_in_memory_sqlite_url_stays_in_memory(hub_yaml):
    # BUG hub/config.py load_settings(): every "sqlite:///X" is rewritten to ROOT/X, so
    # sqlite:///:memory: (SQLAlchemy's in-memory form, which hub/store/engine.py recognises)
    # becomes sqlite:////work/main/:memory:, a file on disk.
    s = load_settings(hub_yaml, environ={"TONGBAN_DB_URL": "sqlite:///:memory:"})
    assert s["db_url"] == "sqlite:///:memory:"


@pytest.mark.parametrize("value", ["#s3cret!", "0571", "a: b"])
def test_text_values_are_not_reinterpreted(hub_yaml, value):
    # BUG hub/config.py _coerce(): yaml.safe_load turns a password "#s3cret!" into None (a
    # comment), the account "0571" into 377 (YAML 1.1 octal) and "a: b" into a dict. Only
    # scalars that read back as themselves (numbers, true/false) should be coerced.
    s = load_settings(hub_yaml, environ={"TONGBAN__ADAPTERS__COMMERCE__PASSWORD": value})
    assert s["adapters"]["commerce"]["password"] == value


def test_config_file_chosen_by_variable(hub_yaml, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("broker_url: amqp://other//\nrouting: {}\n", encoding="utf-8")
    assert load_settings(environ={"TONGBAN_CONFIG": str(other)})["broker_url"] == "amqp://other//"
    # an explicit path wins over the variable
    assert load_settings(hub_yaml, environ={"TONGBAN_CONFIG": str(other)})["broker_url"].startswith("amqp://guest")


def test_process_environment_is_read_when_none_is_given(hub_yaml, monkeypatch):
    monkeypatch.setenv("TONGBAN__ADAPTERS__COMMERCE__URL", "http://10.1.2.3:8081")
    monkeypatch.setenv("TONGBAN_BROKER_URL", "amqp://from-env//")
    s = load_settings(hub_yaml)
    assert s["adapters"]["commerce"]["url"] == "http://10.1.2.3:8081"
    assert s["broker_url"] == "amqp://from-env//"


# --- with_endpoints -------------------------------------------------------------------------------------

def test_with_endpoints_points_adapters_and_destinations_at_running_servers(hub_yaml):
    s = load_settings(hub_yaml, environ={})
    before = copy.deepcopy(s)
    out = with_endpoints(s, {"commerce": "http://127.0.0.1:41001", "platform": "http://127.0.0.1:41002",
                             "province": "http://127.0.0.1:41003/"})
    assert s == before, "the settings passed in are not changed"
    assert out["adapters"]["commerce"]["url"] == "http://127.0.0.1:41001"
    assert out["adapters"]["commerce"]["page_size"] == 200
    assert out["destinations"]["platform"]["url"] == "http://127.0.0.1:41002"
    assert out["destinations"]["province"]["wsdl"] == "http://127.0.0.1:41003/ws/report?wsdl"
    assert "url" not in out["destinations"]["province"]


def test_with_endpoints_accepts_adapter_settings_and_ignores_unknown_names(hub_yaml):
    s = load_settings(hub_yaml, environ={})
    out = with_endpoints(s, {"commerce": {"url": "http://127.0.0.1:41001", "admin_url": "http://127.0.0.1:41001"},
                             "cluster": "http://127.0.0.1:49999"})
    assert out["adapters"]["commerce"]["url"] == "http://127.0.0.1:41001"
    assert "cluster" not in out["adapters"] and "cluster" not in out["destinations"]
    assert out["destinations"] == s["destinations"]
