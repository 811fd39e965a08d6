"""Remote camera control API: link parameters, status dynamics, URL, schema versions, switches."""

from __future__ import annotations

import time

import pytest
import xmltodict

from tests.twin.helpers import LINK_LOCAL, REMOTE, wait_for

CGIS = ["getvapixparams.cgi", "setvapixparams.cgi", "getvapixstatus.cgi", "getremoteurl.cgi",
        "schemaversions.cgi"]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("cgi", CGIS)
def test_every_cgi_answers_get_and_post(device, cgi, method):
    name, _content = device.xml(REMOTE + cgi, method=method)
    expected = {"getvapixparams.cgi": "GetVapixParamsSuccess", "setvapixparams.cgi": "GeneralSuccess",
                "getvapixstatus.cgi": "GetStatusSuccess", "getremoteurl.cgi": "GetRemoteURLSuccess",
                "schemaversions.cgi": "SchemaVersionSuccess"}[cgi]
    assert name == expected


def test_factory_link(device, twin):
    params = device.success(REMOTE + "getvapixparams.cgi", {"schemaversion": "1"})
    base, vapix = params["BaseConnectionParams"], params["VapixConnectionParams"]
    state = twin.state(device.host)
    assert base["MACAddress"] == base["MACAddress"].lower()
    assert len(base["MACAddress"].split(":")) == 6
    assert base["Host"] == LINK_LOCAL
    assert base["DiscoveryMode"] == "auto"
    assert state["link"]["host"] == LINK_LOCAL
    assert vapix == {"HTTPPort": str(device.vars["q6000_remote_http_port"]), "HTTPSPort": "443",
                     "RTSPPort": "554", "Username": "root"}
    assert state["link"]["password_set"] is False
    assert device.status() == 3


def test_remote_mac_is_the_ptz_mac(device):
    params = device.success(REMOTE + "getvapixparams.cgi")
    ptz = device.call("/axis-cgi/param.cgi", {"action": "list", "group": "Network.eth0.MACAddress"},
                      endpoint="ptz")
    assert ptz.text.strip() == "root.Network.eth0.MACAddress=" + params["BaseConnectionParams"]["MACAddress"].upper()


def test_status_goes_through_trying_to_ok(device, twin):
    twin.settings(device.host, connect_delay=1.0)
    started = time.monotonic()
    device.success(REMOTE + "setvapixparams.cgi", {"password": device.password("ptz")}, method="POST")
    status = device.success(REMOTE + "getvapixstatus.cgi")
    assert status["BaseConnectionStatus"] == {"StatusCode": "1", "Description": "Trying to connect"}
    assert status["VapixConnectionStatus"]["RTSPStatus"]["StatusCode"] == "1"
    wait_for(lambda: device.status() != 1)
    assert time.monotonic() - started >= 1.0
    status = device.success(REMOTE + "getvapixstatus.cgi")
    ok = {"StatusCode": "0", "Description": "Connection OK"}
    assert status["BaseConnectionStatus"] == ok
    assert status["VapixConnectionStatus"] == {"HTTPStatus": ok, "HTTPSStatus": ok, "RTSPStatus": ok}


def test_password_is_never_returned(device):
    device.success(REMOTE + "setvapixparams.cgi", {"password": device.password("ptz")})
    response = device.call(REMOTE + "getvapixparams.cgi")
    assert device.password("ptz") not in response.text
    assert "Password" not in response.text


def test_wrong_password_is_not_authorized(device):
    device.success(REMOTE + "setvapixparams.cgi", {"password": "nope"})
    time.sleep(0.35)
    status = device.success(REMOTE + "getvapixstatus.cgi")
    assert status["BaseConnectionStatus"] == {"StatusCode": "3", "Description": "Not authorized"}


def test_password_must_be_form_encoded(device, twin):
    """A raw `&`/`+`/`#` in the password breaks the request in a visible way."""
    password = device.password("ptz")
    assert any(c in password for c in "&=+#") and " " in password
    raw = device.url(REMOTE + "setvapixparams.cgi") + "?password=" + password
    response = device.session.get(raw, auth=device.auth("root"))
    assert response.status_code == 200
    if "GeneralError" in response.text:
        assert "<ErrorCode>20</ErrorCode>" in response.text
    else:
        time.sleep(0.35)
        assert device.status() == 3
    device.connect()
    assert twin.state(device.host)["link"]["password_set"] is True


def test_wrong_user_is_not_authorized(device):
    device.success(REMOTE + "setvapixparams.cgi", {"password": device.password("ptz"), "username": "admin"})
    time.sleep(0.35)
    assert device.status() == 3


def test_left_out_arguments_keep_their_value(device):
    device.success(REMOTE + "setvapixparams.cgi", {"rtspport": "1554", "username": "root"})
    device.success(REMOTE + "setvapixparams.cgi", {"httpsport": "8443"})
    vapix = device.success(REMOTE + "getvapixparams.cgi")["VapixConnectionParams"]
    assert vapix["RTSPPort"] == "1554"
    assert vapix["HTTPSPort"] == "8443"
    assert vapix["HTTPPort"] == str(device.vars["q6000_remote_http_port"])


def test_ports_decide_each_channel(device):
    device.success(REMOTE + "setvapixparams.cgi", {"password": device.password("ptz"), "httpsport": "8443"})
    time.sleep(0.35)
    status = device.success(REMOTE + "getvapixstatus.cgi")
    channels = status["VapixConnectionStatus"]
    assert channels["HTTPStatus"]["StatusCode"] == "0"
    assert channels["HTTPSStatus"] == {"StatusCode": "2", "Description": "No connection"}
    assert channels["RTSPStatus"]["StatusCode"] == "0"
    assert status["BaseConnectionStatus"]["StatusCode"] == "0"
    device.success(REMOTE + "setvapixparams.cgi", {"httpport": "1"})
    time.sleep(0.35)
    status = device.success(REMOTE + "getvapixstatus.cgi")
    assert status["BaseConnectionStatus"]["StatusCode"] == "2"
    assert status["VapixConnectionStatus"]["HTTPStatus"]["StatusCode"] == "2"


def test_auto_mode_ignores_host(device):
    device.success(REMOTE + "setvapixparams.cgi", {"host": "192.0.2.7", "password": device.password("ptz")})
    base = device.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]
    assert base["Host"] == LINK_LOCAL
    assert base["DiscoveryMode"] == "auto"
    time.sleep(0.35)
    assert device.status() == 0


def test_manual_mode_host_decides_reachability(device):
    device.success(REMOTE + "setvapixparams.cgi", {
        "discoverymode": "manual", "host": "192.0.2.7", "password": device.password("ptz")})
    base = device.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]
    assert base == {"MACAddress": base["MACAddress"], "Host": "192.0.2.7", "DiscoveryMode": "manual"}
    time.sleep(0.35)
    assert device.status() == 2
    device.success(REMOTE + "setvapixparams.cgi", {"host": "localhost"})
    time.sleep(0.35)
    assert device.status() == 0
    url = device.success(REMOTE + "getremoteurl.cgi")
    assert url == f"http://localhost:{device.vars['q6000_remote_http_port']}/"


def test_manual_without_host_keeps_current_host(device, twin):
    """The discovered link-local address, kept in manual mode, still reaches the unit's own PTZ."""
    device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "manual", "password": device.password("ptz")})
    base = device.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]
    assert (base["Host"], base["DiscoveryMode"]) == (LINK_LOCAL, "manual")
    time.sleep(0.35)
    assert device.status() == 0
    twin.settings(device.host, discovery_link_local=False)
    assert device.status() == 2
    device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "auto"})
    device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "manual"})
    base = device.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]
    assert (base["Host"], base["DiscoveryMode"]) == ("127.0.0.1", "manual")


def test_ipv6_needs_manual(device):
    assert device.error(REMOTE + "setvapixparams.cgi", {"host": "::1"}) == 20
    assert device.error(REMOTE + "setvapixparams.cgi", {"host": "::1", "discoverymode": "auto"}) == 20
    device.success(REMOTE + "setvapixparams.cgi", {
        "host": "::1", "discoverymode": "manual", "password": device.password("ptz")})
    base = device.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]
    assert base["Host"] == "::1"
    time.sleep(0.35)
    assert device.status() == 0
    url = device.success(REMOTE + "getremoteurl.cgi")
    assert url == f"http://[::1]:{device.vars['q6000_remote_http_port']}/"
    device.success(REMOTE + "setvapixparams.cgi", {"host": "fe80::2"})
    assert device.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]["Host"] == "fe80::2"


def test_getremoteurl_factory(device):
    url = device.success(REMOTE + "getremoteurl.cgi", {"schemaversion": "1.0"})
    assert url == f"http://{LINK_LOCAL}:{device.vars['q6000_remote_http_port']}/"


@pytest.mark.parametrize("args", [
    {"httpport": "0"}, {"httpport": "65536"}, {"httpsport": "abc"}, {"rtspport": "1.5"}, {"httpport": ""},
    {"httpport": "-1"}, {"discoverymode": "Auto"}, {"discoverymode": "dhcp"}, {"host": "bad host"},
    {"host": ""}, {"host": "[::1]", "discoverymode": "manual"}, {"host": "1.2.3.999"}, {"colour": "red"},
])
def test_setvapixparams_invalid_arguments(device, args):
    before = device.success(REMOTE + "getvapixparams.cgi")
    assert device.error(REMOTE + "setvapixparams.cgi", args) == 20
    assert device.success(REMOTE + "getvapixparams.cgi") == before


def test_ipv6_with_current_auto_mode(device):
    device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "manual", "host": "::1"})
    device.success(REMOTE + "setvapixparams.cgi", {"host": "::2"})
    device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "auto"})
    assert device.error(REMOTE + "setvapixparams.cgi", {"host": "::1"}) == 20


@pytest.mark.parametrize("cgi", ["getvapixparams.cgi", "getvapixstatus.cgi", "getremoteurl.cgi"])
def test_unknown_argument_is_20(device, cgi):
    assert device.error(REMOTE + cgi, {"foo": "1"}) == 20


def test_duplicate_argument_is_20(device):
    response = device.session.get(device.url(REMOTE + "getvapixparams.cgi?schemaversion=1&schemaversion=1"),
                                  auth=device.auth("root"))
    assert "<ErrorCode>20</ErrorCode>" in response.text


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json", "application/octet-stream"])
def test_post_body_is_a_form_whatever_its_type(device, content_type):
    """As firmware does: a form-encoded body is read under any Content-Type (or none)."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = device.session.post(device.url(REMOTE + "getvapixparams.cgi"), auth=device.auth("root"),
                                   data=b"schemaversion=2", headers=headers)
    assert response.status_code == 200
    assert "<ErrorCode>40</ErrorCode>" in response.text
    response = device.session.post(device.url(REMOTE + "setvapixparams.cgi"), auth=device.auth("root"),
                                   data=b"schemaversion=1&rtspport=1554", headers=headers)
    assert "<GeneralSuccess />" in response.text
    assert device.success(REMOTE + "getvapixparams.cgi")["VapixConnectionParams"]["RTSPPort"] == "1554"


def test_post_body_that_is_no_form_is_an_unknown_argument(device):
    response = device.session.post(device.url(REMOTE + "getvapixparams.cgi"), auth=device.auth("root"),
                                   data=b'{"schemaversion": 1}', headers={"Content-Type": "application/json"})
    assert "<ErrorCode>20</ErrorCode>" in response.text


@pytest.mark.parametrize("version", ["1", "1.0"])
@pytest.mark.parametrize("cgi", ["getvapixparams.cgi", "setvapixparams.cgi", "getvapixstatus.cgi",
                                 "getremoteurl.cgi"])
def test_supported_schema_versions(device, cgi, version):
    device.success(REMOTE + cgi, {"schemaversion": version})


@pytest.mark.parametrize("version", ["2", "abc", "1.5", "", "0", "1.0.0", "-1"])
@pytest.mark.parametrize("cgi", ["getvapixparams.cgi", "setvapixparams.cgi", "getvapixstatus.cgi",
                                 "getremoteurl.cgi"])
def test_unsupported_schema_versions(device, cgi, version):
    assert device.error(REMOTE + cgi, {"schemaversion": version}) == 40


def test_schemaversions_takes_no_argument(device):
    assert device.error(REMOTE + "schemaversions.cgi", {"schemaversion": "1"}) == 20
    content = device.success(REMOTE + "schemaversions.cgi")
    assert content == {"SchemaVersion": {"VersionNumber": "1.0", "Deprecated": "false"}}


def test_deprecated_switch(device, twin):
    twin.settings(device.host, deprecated=True)
    response = device.call(REMOTE + "getvapixstatus.cgi")
    root = xmltodict.parse(response.text)["RemoteCameraControlResponse"]
    assert root["@Deprecated"] == "true"
    content = device.success(REMOTE + "schemaversions.cgi")
    assert content["SchemaVersion"]["Deprecated"] == "true"
    twin.settings(device.host, deprecated=False)
    root = xmltodict.parse(device.call(REMOTE + "getvapixstatus.cgi").text)["RemoteCameraControlResponse"]
    assert "@Deprecated" not in root


def test_error_element_switch(device, twin):
    error = device.xml(REMOTE + "getvapixparams.cgi", {"schemaversion": "2"})[1]
    assert list(error) == ["ErrorCode", "Description"]
    assert error["Description"].startswith("Specified version is not supported.")
    twin.settings(device.host, error_element="ErrorDescription")
    error = device.xml(REMOTE + "getvapixparams.cgi", {"schemaversion": "2"})[1]
    assert list(error) == ["ErrorCode", "ErrorDescription"]


def test_envelope_is_exact(device):
    text = device.call(REMOTE + "setvapixparams.cgi", {"schemaversion": "1"}).text
    assert text == ('<?xml version="1.0" encoding="utf-8" ?><RemoteCameraControlResponse SchemaVersion="1.0" '
                    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/RemoteCameraControl1.xsd">'
                    '<GeneralSuccess /></RemoteCameraControlResponse>')


def test_unknown_cgi_is_404(device):
    assert device.call(REMOTE + "nosuch.cgi").status_code == 404
    assert device.call("/axis-cgi/ptremotecalibration/nosuch.cgi", account=None).status_code == 404


def test_other_methods_are_405(device):
    assert device.call(REMOTE + "getvapixparams.cgi", method="PUT").status_code == 405


def test_link_change_is_tracked_in_state(device, twin):
    device.connect()
    state = twin.state(device.host)
    assert state["status"] == 0
    assert state["link"]["password_set"] is True
    assert state["link"]["discoverymode"] == "auto"
