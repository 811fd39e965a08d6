# -*- coding: utf-8 -*-
"""remote_camera_params: what is refused before any request, and which arguments a run sends."""

from __future__ import annotations

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils.errors import ValidationError
from ansible_collections.vapix.q6000.plugins.module_utils.link import plan, validate

CURRENT = {"mac_address": "AC:CC:8E:00:00:01", "host": "192.0.2.20", "discovery_mode": "auto", "http_port": 80,
           "https_port": 443, "rtsp_port": 554, "username": "root"}
OK = {"code": 0, "description": "Connection OK"}
NOT_AUTHORIZED = {"code": 3, "description": "Not authorized"}


def params(**values):
    base = {"remote_host": None, "discovery_mode": None, "http_port": None, "https_port": None, "rtsp_port": None,
            "remote_username": None, "remote_password": None, "update_password": "on_failure",
            "wait_for_connection": False, "wait_timeout": 60.0, "use_https": True, "allow_password_over_http": False}
    base.update(values)
    return base


@pytest.mark.parametrize("values, option", [
    ({"http_port": 0}, "http_port"),
    ({"https_port": 65536}, "https_port"),
    ({"rtsp_port": -1}, "rtsp_port"),
    ({"discovery_mode": "manual"}, "discovery_mode"),
    ({"remote_host": "2001:db8::1", "discovery_mode": "auto"}, "remote_host"),
    ({"remote_host": "192.0.2.1", "discovery_mode": "auto"}, "remote_host"),
    ({"remote_host": "ptz&password=x"}, "remote_host"),
    ({"remote_host": "ptz host"}, "remote_host"),
    ({"remote_host": "ptz\nhost"}, "remote_host"),
    ({"remote_host": "ptz#frag"}, "remote_host"),
    ({"remote_username": ""}, "remote_username"),
    ({"wait_for_connection": True, "wait_timeout": float("nan")}, "wait_timeout"),
    ({"remote_password": "s3cret", "use_https": False}, "remote_password"),
])
def test_refused_before_any_request(values, option):
    with pytest.raises(ValidationError, match="^%s" % option):
        validate(params(**values))


def test_nothing_to_send_when_the_device_matches():
    assert plan(params(remote_host="192.0.2.20", discovery_mode="manual", http_port=80), dict(CURRENT, discovery_mode="manual"), OK) == ({}, [], "not_sent")


def test_only_differing_arguments_are_sent():
    args, changed, _password = plan(params(remote_host="192.0.2.30", http_port=80, rtsp_port=8554), CURRENT, OK)
    assert args == {"discoverymode": "manual", "host": "192.0.2.30", "rtspport": 8554}
    assert changed == ["discovery_mode", "remote_host", "rtsp_port"]


def test_ipv6_host_compares_by_address():
    current = dict(CURRENT, host="2001:db8:0::1", discovery_mode="manual")
    assert plan(params(remote_host="[2001:db8::1]", discovery_mode="manual"), current, OK) == ({}, [], "not_sent")


def test_password_is_not_sent_while_the_link_is_authorized():
    assert plan(params(remote_username="root", remote_password="s3cret"), CURRENT, OK) == ({}, [], "not_sent")


def test_password_is_sent_when_not_authorized():
    args, changed, password = plan(params(remote_username="root", remote_password="s3cret"), CURRENT, NOT_AUTHORIZED)
    assert password == "sent"
    assert args == {"password": "s3cret"}
    assert changed == ["remote_password"]


def test_password_is_sent_with_a_new_username():
    args, changed, _password = plan(params(remote_username="ptzadmin", remote_password="s3cret"), CURRENT, OK)
    assert args == {"username": "ptzadmin", "password": "s3cret"}
    assert changed == ["remote_username", "remote_password"]


def test_password_always_and_never():
    assert plan(params(remote_password="s3cret", update_password="always"), CURRENT, OK)[0] == {"password": "s3cret"}
    assert plan(params(remote_password="s3cret", update_password="never"), CURRENT, NOT_AUTHORIZED) == ({}, [], "not_sent")


def test_password_without_any_username_is_refused():
    with pytest.raises(ValidationError, match="^remote_password"):
        plan(params(remote_password="s3cret"), dict(CURRENT, username=""), NOT_AUTHORIZED)


def test_password_over_http_needs_the_opt_in():
    validate(params(remote_password="s3cret", use_https=False, allow_password_over_http=True))
    validate(params(remote_password="s3cret", use_https=False, update_password="never"))


def test_a_link_change_decides_the_password_once_the_new_link_settled():
    """The status of the old link (2: no connection, with a wrong host) says nothing about the password."""
    no_connection = {"code": 2, "description": "No connection"}
    args, changed, password = plan(params(remote_host="192.0.2.30", remote_password="s3cret"), CURRENT, no_connection)
    assert "password" not in args
    assert password == "if_refused"
    assert changed == ["discovery_mode", "remote_host"]
