# -*- coding: utf-8 -*-
"""Connection options and fact subsets, refused before any request."""

from __future__ import annotations

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils._connection import check_connection
from ansible_collections.vapix.q6000.plugins.module_utils.errors import ValidationError
from ansible_collections.vapix.q6000.plugins.module_utils.facts import subsets_of


def connection(**values):
    base = {"hostname": "192.0.2.10", "port": None, "use_https": False, "validate_certs": True, "ca_path": None,
            "username": "root", "password": "pw", "auth": "digest", "allow_basic_over_http": False,
            "timeout": 10.0, "retries": 2}
    base.update(values)
    return base


@pytest.mark.parametrize("values, option", [
    ({"hostname": ""}, "hostname"),
    ({"hostname": "cam&x=1"}, "hostname"),
    ({"hostname": "cam/path"}, "hostname"),
    ({"hostname": "cam:80"}, None),
    ({"port": 70000}, "port"),
    ({"timeout": 0.0}, "timeout"),
    ({"timeout": float("inf")}, "timeout"),
    ({"retries": -1}, "retries"),
    ({"auth": "basic"}, "auth"),
])
def test_bad_connection_options(values, option):
    if option is None:
        check_connection(connection(**values))
        return
    with pytest.raises(ValidationError, match="^%s" % option):
        check_connection(connection(**values))


def test_basic_over_http_needs_an_explicit_opt_in():
    check_connection(connection(auth="basic", allow_basic_over_http=True))
    check_connection(connection(auth="basic", use_https=True))


@pytest.mark.parametrize("subset, expected", [
    (["all"], ["device", "connection", "calibration"]),
    (["calibration"], ["calibration"]),
    (["!device"], ["connection", "calibration"]),
    (["all", "!connection"], ["device", "calibration"]),
    (["connection", "device"], ["device", "connection"]),
])
def test_gather_subset(subset, expected):
    assert subsets_of(subset) == expected


def test_unknown_subset():
    with pytest.raises(ValidationError, match="^gather_subset: 'hardware'"):
        subsets_of(["hardware"])


def test_ptz_is_asked_by_name_and_needs_the_ptz_account():
    from ansible_collections.vapix.q6000.plugins.module_utils.facts import validate

    assert subsets_of(["all", "ptz"]) == ["device", "connection", "calibration", "ptz"]
    with pytest.raises(ValidationError, match="^gather_subset: ptz .* needs remote_username and remote_password"):
        validate({"gather_subset": ["ptz"], "remote_username": "root", "remote_password": None})
    validate({"gather_subset": ["ptz"], "remote_username": "root", "remote_password": "pw"})
