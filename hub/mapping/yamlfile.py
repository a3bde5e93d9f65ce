"""Reads a mapping file keeping the line of every key, so that a compile error can name
file, line and key (errors.MappingFileError).

One parse: PyYAML's SafeLoader composes the node tree (each node has its start_mark), the
lines are taken from it, then the same tree is constructed into plain data. A key written twice
in one mapping is refused here: YAML would silently keep the last one."""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import MappingFileError

Lines = dict[tuple, int]


def _walk(node, key: tuple, lines: Lines, file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else str(k.start_mark)
            line = k.start_mark.line + 1
            if name in seen:
                raise MappingFileError(file, f"key {name!r} is written twice (first on line {seen[name]}); "
                                             f"YAML would keep only the last", key + (name,), line)
            seen[name] = line
            lines[key + (name,)] = line
            _walk(v, key + (name,), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[key + (i,)] = item.start_mark.line + 1
            _walk(item, key + (i,), lines, file)


def load_text(text: str, file: str = "mapping") -> tuple[object, Lines]:
    """(the document as plain data, {key path: line}). YAML syntax errors name their line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: Lines = {}
        if node is not None:
            _walk(node, (), lines, file)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise MappingFileError(file, f"not valid YAML: {exc.problem or exc.context}", (), line) from None
    except yaml.YAMLError as exc:
        raise MappingFileError(file, f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return data, lines


def load_path(path: Path) -> tuple[object, Lines]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MappingFileError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    return load_text(text, str(path))


def line_of(lines: Lines, key: tuple) -> int | None:
    """The line of `key`, or of the nearest key above it that is in the file (a missing key's
    mapping). None for the top of the document."""
    key = tuple(key)
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return None
