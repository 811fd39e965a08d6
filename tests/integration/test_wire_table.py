# -*- coding: utf-8 -*-
"""The wire table (`_api_data.py`) held against the twin's routes and roles.

The twin is an independent implementation of the contract and imports nothing of the collection; this test is
where the two meet. Their role names differ (the twin says `admin` where Axis's documentation and the table say
`administrator`), so the mapping between them is written out here, not guessed.
"""

from __future__ import annotations

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils._api_data import ROLES, TABLE
from tests.emulator.auth import ROLES as TWIN_ROLES
from tests.emulator.server import PTZ_ROUTES, Q6000_ROUTES

# The twin's role names, as the table names them.
TWIN_TO_TABLE = {"viewer": "viewer", "operator": "operator", "admin": "administrator"}
# Arguments a CGI's role may depend on (param.cgi lists public groups without a login); the collection's own.
ARGUMENTS = {"param.cgi": {"action": "list", "group": "Network.eth0.MACAddress"}}
# The CGIs the collection calls on the PTZ itself (the rest only exist on the Q6000-E).
ON_THE_PTZ = {"param.cgi", "com/ptz.cgi", "jpg/image.cgi"}


def table_role(level):
    """The table's name of the twin's role level."""
    names = [name for name, number in TWIN_ROLES.items() if number == level]
    assert len(names) == 1, "the twin has no single role of level %s" % level
    return TWIN_TO_TABLE[names[0]]


def test_the_mapping_covers_both_sides():
    assert set(TWIN_TO_TABLE) == set(TWIN_ROLES)
    assert set(TWIN_TO_TABLE.values()) == set(ROLES)
    # Same order: a higher role in the twin is a higher role in the table.
    assert sorted(TWIN_ROLES, key=TWIN_ROLES.get) == sorted(TWIN_TO_TABLE, key=lambda n: ROLES.index(TWIN_TO_TABLE[n]))


@pytest.mark.parametrize("cgi", TABLE.values(), ids=repr)
def test_every_cgi_of_the_table_is_a_route_of_the_q6000_twin_needing_the_same_role(cgi):
    route = Q6000_ROUTES.get("/axis-cgi/" + cgi.path)
    assert route is not None, "the twin has no %s" % cgi.path
    assert table_role(route.role(ARGUMENTS.get(cgi.path, {}))) == cgi.role


@pytest.mark.parametrize("path", sorted(ON_THE_PTZ))
def test_the_ptz_twin_serves_what_the_collection_calls_on_the_ptz_with_the_same_role(path):
    route = PTZ_ROUTES.get("/axis-cgi/" + path)
    assert route is not None, "the PTZ twin has no %s" % path
    roles = {cgi.role for cgi in TABLE.values() if cgi.path == path}
    assert roles == {table_role(route.role(ARGUMENTS.get(path, {})))}


def test_every_route_of_the_twin_is_in_the_table():
    table_paths = {"/axis-cgi/" + cgi.path for cgi in TABLE.values()}
    assert set(Q6000_ROUTES) - table_paths == set()
    assert set(PTZ_ROUTES) - table_paths == set()
