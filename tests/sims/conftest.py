"""Each simulator on an ephemeral port, fresh per test, seeded so runs repeat."""
from __future__ import annotations

import pytest
import requests

from sims.commerce import CommerceSim
from sims.platform import PlatformSim
from sims.province import ProvinceSim


@pytest.fixture
def http():
    with requests.Session() as session:
        session.trust_env = False  # a proxy in the environment must not swallow localhost
        yield session


@pytest.fixture
def commerce():
    with CommerceSim(port=0, seed=1234) as sim:
        yield sim


@pytest.fixture
def platform():
    with PlatformSim(port=0, seed=1234) as sim:
        yield sim


@pytest.fixture
def province():
    with ProvinceSim(port=0, seed=1234) as sim:
        yield sim
