"""Mapping engine: YAML mapping files compiled once into plain callables."""
from .compiler import Mapping, compile_mapping, load_file
from .errors import RecordError
from .registry import MappingSet

__all__ = ["Mapping", "compile_mapping", "load_file", "RecordError", "MappingSet"]
