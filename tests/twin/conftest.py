"""Fixtures of the twin's own suite: one twin per test module, cleaned between tests."""

from __future__ import annotations

import pytest

from tests.twin.helpers import fresh_device, start_twin, stop_twin


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    twin = start_twin(tmp_path_factory)
    yield twin
    stop_twin(twin)


@pytest.fixture
def device(twin):
    """The twin's first unit, back at factory state with default settings and no faults."""
    dev = fresh_device(twin)
    yield dev
    dev.session.close()
