"""Every fault kind, counters and the control API's own rules."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from unittest import mock

import pytest
import requests
import xmltodict
from aiohttp.test_utils import make_mocked_request

from tests.emulator import control
from tests.emulator.device import Settings, Unit
from tests.emulator.process import TwinError
from tests.twin.helpers import CAL, PTZ, REMOTE, challenge, digest_header, wait_for

STATUS = REMOTE + "getvapixstatus.cgi"


def ok(device, path=STATUS, **kwargs):
    response = device.call(path, **kwargs)
    assert response.status_code == 200 and "GetStatusSuccess" in response.text
    return response


def test_latency(device, twin):
    twin.fault(device.host, STATUS, "latency", seconds=1.0)
    started = time.monotonic()
    ok(device)
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    ok(device)
    assert time.monotonic() - started < 0.8


def test_drop(device, twin):
    twin.fault(device.host, STATUS, "drop")
    with pytest.raises(requests.ConnectionError):
        device.call(STATUS)
    ok(device)
    assert twin.counters(device.host)["cgi"][STATUS] == 2


@pytest.mark.parametrize("kind,status", [("http500", 500), ("http503", 503)])
def test_http_errors(device, twin, kind, status):
    twin.fault(device.host, STATUS, kind, count=2, seconds=7)
    assert device.call(STATUS).status_code == status
    response = device.call(STATUS)
    assert response.status_code == status
    if kind == "http503":
        assert response.headers["Retry-After"] == "7"
    ok(device)


def test_malformed(device, twin):
    twin.fault(device.host, STATUS, "malformed")
    response = device.call(STATUS)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/xml"
    with pytest.raises(Exception):
        xmltodict.parse(response.text)
    ok(device)


def test_truncated(device, twin):
    ok(device)
    twin.fault(device.host, STATUS, "truncated")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        device.call(STATUS)
    ok(device)


def test_truncated_content_length_exceeds_body(device, twin):
    params = challenge(device.call(STATUS, account=None))
    twin.fault(device.host, STATUS, "truncated")
    conn = http.client.HTTPConnection("127.0.0.1", device.vars["q6000_port"], timeout=10)
    conn.request("GET", STATUS, headers={
        "Authorization": digest_header("viewer", device.password("viewer"), "GET", STATUS, params)})
    response = conn.getresponse()
    length = int(response.getheader("Content-Length"))
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(caught.value.partial) < length
    conn.close()


def test_entity_bomb(device, twin):
    twin.fault(device.host, STATUS, "entity_bomb")
    response = device.call(STATUS)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/xml"
    assert "<!DOCTYPE" in response.text and "<!ENTITY lol9" in response.text and "&lol9;" in response.text
    ok(device)


def test_huge_body(device, twin):
    twin.fault(device.host, STATUS, "huge_body")
    with device.session.get(device.url(STATUS), auth=device.auth("root"), stream=True) as response:
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == 100 * 1024 * 1024
        first = next(response.iter_content(65536))
        assert first.startswith(b"<?xml")
    device.session.close()
    ok(device)


def test_reboot_drops_session_and_connection(device, twin):
    device.connect()
    twin.settings(device.host, connect_delay=1.0)
    device.success(CAL + "start.cgi", {"camera": "2"})
    twin.fault(device.host, CAL + "getinformation.cgi", "reboot")
    with pytest.raises(requests.ConnectionError):
        device.call(CAL + "getinformation.cgi")
    assert twin.state(device.host)["session"] is None
    assert device.error(CAL + "getinformation.cgi") == 54
    assert device.status() == 1
    wait_for(lambda: device.status() == 0, timeout=3)


def test_stale_nonce(device, twin):
    params = challenge(device.call(STATUS, account=None))
    twin.fault(device.host, STATUS, "stale_nonce")
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params)
    response = device.session.get(device.url(STATUS), headers={"Authorization": header})
    assert response.status_code == 401
    assert challenge(response)["stale"] == "true"
    ok(device, account="viewer")


def test_unauthorized(device, twin):
    ok(device)
    twin.fault(device.host, STATUS, "unauthorized", count=2)
    assert device.call(STATUS).status_code == 401
    ok(device)
    counters = twin.counters(device.host)
    assert counters["unauthorized"] == 3  # the first challenge, then the fault twice (requests retries once)
    assert counters["cgi"][STATUS] == 4


def test_fault_is_not_used_by_challenges(device, twin):
    twin.fault(device.host, STATUS, "http500")
    assert device.call(STATUS, account=None).status_code == 401
    assert device.call(STATUS, account="wrong").status_code == 401
    assert device.call(STATUS).status_code == 500


def test_star_and_ptz_patterns(device, twin):
    twin.fault(device.host, "ptz:*", "http503")
    ok(device)
    assert device.call(PTZ, {"query": "position"}, endpoint="ptz").status_code == 503
    twin.fault(device.host, "*", "http500", count=2)
    assert device.call(PTZ, {"query": "position"}, endpoint="ptz").status_code == 500
    assert device.call(STATUS).status_code == 500
    ok(device)


def test_reset_disarms(device, twin):
    armed = twin.fault(device.host, STATUS, "http500", count=3)
    assert armed["armed"] == [{"cgi": STATUS, "kind": "http500", "count": 3, "seconds": None}]
    twin.reset(device.host)
    ok(device)
    assert twin.control(device.host, "GET", "/faults") == {"armed": []}


def test_counters(device, twin):
    ok(device)
    ok(device)
    device.call(PTZ, {"query": "position"}, endpoint="ptz")
    device.call(REMOTE + "nosuch.cgi")
    twin.state(device.host)
    counters = twin.counters(device.host)
    assert counters["cgi"] == {STATUS: 2, "ptz:/axis-cgi/com/ptz.cgi": 1}
    assert counters["unauthorized"] == 2
    assert counters["connections"] == 2
    twin.reset(device.host)
    assert twin.counters(device.host) == {"cgi": {}, "unauthorized": 0, "connections": 0}


@pytest.mark.parametrize("payload", [{"cgi": STATUS, "kind": "meteor"}, {"cgi": STATUS, "kind": "drop", "count": 0},
                                     {"cgi": STATUS, "kind": "latency", "seconds": -1}, {"bogus": 1}])
def test_bad_fault_requests(device, twin, payload):
    with pytest.raises(TwinError, match="400"):
        twin.control(device.host, "POST", "/fault", payload)


def test_bad_control_requests(device, twin):
    with pytest.raises(TwinError, match="400"):
        twin.settings(device.host, colour="red")
    with pytest.raises(TwinError, match="400"):
        twin.settings(device.host, error_element="Text")
    with pytest.raises(TwinError, match="400"):
        twin.truth(device.host, 5, 0, 0)
    with pytest.raises(TwinError, match="404"):
        twin.control(device.host, "GET", "/nothing")
    with pytest.raises(TwinError, match="400"):
        twin.knock(device.host, "far")


def test_settings_roundtrip(device, twin):
    settings = twin.settings(device.host, connect_delay=2.5, deprecated=True)
    assert settings["connect_delay"] == 2.5 and settings["deprecated"] is True
    assert twin.control(device.host, "GET", "/settings") == settings


def test_control_api_is_loopback_only():
    unit = Unit(0, "1", "127.0.0.1", Settings())

    def ask(peer):
        transport = mock.Mock()
        transport.get_extra_info.side_effect = lambda name, default=None: peer if name == "peername" else default
        request = make_mocked_request("GET", "/emulator/state", transport=transport)
        return asyncio.run(control.handle(unit, request))

    assert ask(("192.0.2.10", 4000)).status == 403
    assert json.loads(ask(("127.0.0.1", 4000)).text)["session"] is None
    assert ask(("::1", 4000, 0, 0)).status == 200
    assert control.is_loopback("::ffff:127.0.0.1")
    assert not control.is_loopback("10.1.2.3")
