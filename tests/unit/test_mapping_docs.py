"""The mapping docs are made from the code and checked: every transform and YAML key the engine
accepts is in the reference with an example that holds, and the committed pages are current."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hub.cli.main import main
from hub.mapping import compiler, lists, reference, spec, transforms
from hub.mapping.docs import BEGIN, END
from unit_data import MAPPINGS_DIR

DOC = MAPPINGS_DIR.parent / "docs" / "mappings.md"


def test_every_transform_and_key_the_engine_knows_is_in_the_reference():
    assert set(reference.TRANSFORMS) == set(transforms.TRANSFORMS)
    assert set(reference.PARAMETERS) == set(transforms.FACTORIES) == set(reference.PARAMETER_EXAMPLES)
    assert set(reference.TOP_KEYS) == set(compiler.TOP_KEYS)
    assert set(reference.FIELD_KEYS) == set(spec.FIELD_KEYS)
    assert set(reference.LIST_KEYS) == set(lists.LIST_KEYS)


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


@pytest.mark.parametrize("name", sorted(reference.TRANSFORMS))
def test_each_transform_example_holds(name):
    from hub.mapping.nulls import NoValue
    for given, expected in reference.TRANSFORMS[name][1]:
        try:
            got = transforms.TRANSFORMS[name](given)
        except NoValue:
            got = None
        assert _plain(got) == expected, (name, given)


def test_each_parameter_example_holds():
    for name, (params, given, expected) in reference.PARAMETER_EXAMPLES.items():
        assert _plain(transforms.FACTORIES[name](**params)(given)) == expected


def test_each_key_example_is_yaml_the_engine_takes():
    import yaml
    for table in (reference.TOP_KEYS, reference.FIELD_KEYS, reference.LIST_KEYS):
        for name, (_, _, example) in table.items():
            assert name in yaml.safe_load(example) or name in str(yaml.safe_load(example)), example


def test_docs_mappings_md_holds_the_reference_and_every_name():
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(BEGIN):text.index(END)]
    for name in (*transforms.TRANSFORMS, *compiler.TOP_KEYS, *spec.FIELD_KEYS, *lists.LIST_KEYS):
        assert f"| `{name}` |" in section, name


def test_the_committed_pages_are_current(capsys):
    assert main(["mapping", "docs", "--check"]) == 0, capsys.readouterr().out


def test_pages_written_elsewhere_name_fields_tables_and_transforms(tmp_path, capsys):
    assert main(["mapping", "docs", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "commerce.case_event.md").read_text(encoding="utf-8")
    assert "| `type` | `eventCode` | `trim` | `event_code` | yes |" in page
    assert "| `01` | `accepted` | 受理 |" in page                      # the code and its comment in the file
    assert "| `halfwidth_alnum` |" in page and "## Samples" in page
    assert "| `materials[].name` | `name` | `trim` |" in (tmp_path / "platform.application.md").read_text("utf-8")
    index = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert index.count("\n| [") == len(list(MAPPINGS_DIR.glob("*/*.yaml")))
    (tmp_path / "gone.md").write_text("a mapping that was removed")
    assert main(["mapping", "docs", "--out", str(tmp_path), "--check"]) == 1
    assert "no mapping for" in capsys.readouterr().out
