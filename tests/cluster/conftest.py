"""Fixtures for tests on a private three-node RabbitMQ cluster (cluster_nodes.py).

One cluster per test session: starting it costs about 25 s on two cores. Each test gets it
with every node running and a fresh vhost, so a test that stopped a node, or left messages
behind, cannot change the next one."""
from __future__ import annotations

import pytest

from tests.cluster.cluster_nodes import available, cluster3 as _cluster3


def pytest_configure(config):
    # registered here because pyproject.toml belongs to another part of the project
    config.addinivalue_line("markers", "cluster: starts a private three-node RabbitMQ cluster (about 25 s)")


@pytest.fixture(scope="session")
def _cluster_session():
    reason = available()
    if reason:
        pytest.skip(reason)
    with _cluster3() as cluster:
        yield cluster


@pytest.fixture
def cluster3(_cluster_session):
    _cluster_session.ensure_all_up()
    _cluster_session.new_vhost()
    yield _cluster_session
    # a test that failed half-way must not leave a node down for the next one
    _cluster_session.ensure_all_up()
