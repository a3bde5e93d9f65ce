"""Fixtures of the unit tests: no broker, no database, no network."""
from __future__ import annotations

import pytest

from unit_data import MAPPINGS_DIR


@pytest.fixture(scope="session")
def mappings():
    from hub.mapping import MappingSet
    return MappingSet.load(MAPPINGS_DIR)
