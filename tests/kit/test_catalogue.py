"""`tongban adapters docs`: the catalogue of installed adapters, from their specs and mappings."""
from __future__ import annotations

from hub.cli.main import main
from hub.kit.catalogue import catalogue
from hub.mapping import MappingSet

from .fifth import install


def test_the_committed_catalogue_is_current(capsys):
    assert main(["adapters", "docs", "--check"]) == 0, capsys.readouterr().out


def test_a_fifth_adapter_gets_its_section_with_settings_example_and_mapped_fields(tmp_path, monkeypatch):
    text = catalogue(MappingSet.load(install(tmp_path, monkeypatch)).mappings)
    section = text[text.index("## sisystem"):]
    assert "| department | `socialsec` 人力资源和社会保障局 human resources and social security |" in section
    assert "| `url` | str |  | required | base URL |" in section
    assert "adapters:\n  sisystem:\n    url: http://127.0.0.1:1\n" in section
    assert "**socialsec.case_event@1**" in section and "| `case_no` | `AAZ001` |" in section
    assert "| [sisystem](#sisystem) | `socialsec` |" in text


def test_out_writes_elsewhere_and_check_sees_a_stale_file(tmp_path, capsys):
    out = tmp_path / "adapters.md"
    assert main(["adapters", "docs", "--out", str(out)]) == 0
    assert "## commerce" in out.read_text(encoding="utf-8") and "### What it maps" in out.read_text(encoding="utf-8")
    out.write_text("old", encoding="utf-8")
    assert main(["adapters", "docs", "--out", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
