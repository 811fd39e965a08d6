"""Firmware variance switches: each one's effect over real HTTP, its default, its option, its validation."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests
import xmltodict

from tests.emulator.__main__ import parse
from tests.emulator.device import Settings, Unit
from tests.emulator.process import REPO_ROOT, TwinError
from tests.twin.helpers import (CAL, GOOD_POINTS, LINK_LOCAL, PARAM, PTZ, REMOTE, TEST_ARGS,
                                SITE_DEFAULTS, VARIANCE_DEFAULTS, WORLD_DEFAULTS, Device, calibrate, fresh_device, lines, start_twin,
                                stop_twin, wait_for)

FLAGS = {
    "xml_preamble": "--xml-preamble", "http10": "--http10", "error_status": "--error-status",
    "current_target": "--current-target", "param_lacks": "--param-lacks", "ignore_post_body": "--ignore-post-body",
    "ptz_start_delay": "--ptz-start-delay", "remote_url_slash": "--remote-url-no-slash",
    "deprecated_false": "--deprecated-false", "ptz_start_zoom": "--ptz-start-zoom", "save_delay": "--save-delay",
    "discovery_link_local": "--reachable-discovery", "auth_schemes": "--auth-schemes",
    "forbidden_status": "--forbidden-status", "error_space": "--no-error-space", "param_prefix": "--no-param-prefix",
    "resolutions_per_channel": "--resolutions-per-channel", "snapshot_size": "--snapshot-size",
    "trickle_headers": "--trickle-headers", "tls_reset": "--tls-reset", "position_decimals": "--position-decimals",
}


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """Two units, so that per-unit differences (the link-local address) show."""
    twin = start_twin(tmp_path_factory, units=2)
    yield twin
    stop_twin(twin)


@pytest.fixture
def second(twin):
    """The second unit, at factory state with default settings."""
    dev = fresh_device(twin, 1)
    yield dev
    dev.session.close()


def settings_of(twin, host) -> dict:
    return twin.control(host, "GET", "/settings")


def root_attrs(text: str) -> dict:
    (_root, content), = xmltodict.parse(text[text.index("<?xml"):]).items()
    return {k: v for k, v in content.items() if k.startswith("@")}


# -- raw HTTP ------------------------------------------------------------------------------


def read_answer(sock: socket.socket, buffer: bytes = b"") -> tuple[str, dict[str, str], bytes, bytes]:
    """(status line, headers (lower-case names), body, what follows) of one answer with a Content-Length."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {buffer!r}")
        buffer += chunk
    head, _sep, rest = buffer.partition(b"\r\n\r\n")
    status, *fields = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _sep, v in (f.partition(":") for f in fields)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def request_line(target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def closes_after_one_answer(port: int, target: str) -> tuple[str, dict[str, str], bytes]:
    """Send one HTTP/1.1 request and read until the server closes (a timeout if it keeps it open)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request_line(target))
        status, headers, body, rest = read_answer(sock)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    assert rest == b""
    return status, headers, body


def keeps_alive(port: int, target: str) -> list[str]:
    """Two requests on one connection; the status lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request_line(target))
        first, headers, _body, rest = read_answer(sock)
        assert headers.get("connection", "").lower() != "close"
        sock.sendall(request_line(target))
        second, _headers, _body, _rest = read_answer(sock, rest)
    return [first, second]


PUBLIC = PARAM + "?action=list&group=Properties.API"


# -- 1. xml_preamble -----------------------------------------------------------------------


@pytest.mark.parametrize("value,preamble", [("crlf", b"\r\n"), ("blank", b"\n")])
def test_xml_preamble(device, twin, value, preamble):
    calls = [(REMOTE + "getvapixstatus.cgi", None), (REMOTE + "getvapixparams.cgi", {"schemaversion": "2"}),
             (CAL + "iscalibrated.cgi", None), (CAL + "abort.cgi", None), (REMOTE + "schemaversions.cgi", None)]
    plain = [device.call(path, args).content for path, args in calls]
    assert all(body.startswith(b"<?xml") for body in plain)
    twin.settings(device.host, xml_preamble=value)
    for (path, args), body in zip(calls, plain):
        response = device.call(path, args)
        assert response.headers["Content-Type"] == "text/xml"
        assert response.content == preamble + body
    assert device.call(PARAM, {"action": "list", "group": "Brand.ProdNbr"}).text == "root.Brand.ProdNbr=Q6000-E\n"
    twin.settings(device.host, xml_preamble="none")
    assert device.call(*calls[0]).content == plain[0]


# -- 2. http10 -----------------------------------------------------------------------------


def test_http11_keep_alive_by_default(device, twin):
    hv = device.vars
    for port in (hv["q6000_port"], hv["q6000_ptz_port"]):
        assert keeps_alive(port, PUBLIC) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]


def test_http10_answers_and_closes(device, twin):
    twin.settings(device.host, http10=True)
    hv = device.vars
    for port in (hv["q6000_port"], hv["q6000_ptz_port"]):
        status, headers, body = closes_after_one_answer(port, PUBLIC)
        assert status == "HTTP/1.0 200 OK"
        assert headers["connection"] == "close"
        assert body == b"root.Properties.API.HTTP.Version=3\n"
    status, headers, _body = closes_after_one_answer(hv["q6000_port"], REMOTE + "getvapixstatus.cgi")
    assert status == "HTTP/1.0 401 Unauthorized"
    assert headers["connection"] == "close" and headers["www-authenticate"].startswith("Digest ")
    status, headers, _body = closes_after_one_answer(hv["q6000_port"], REMOTE + "nosuch.cgi")
    assert (status, headers["connection"]) == ("HTTP/1.0 404 Not Found", "close")
    # a Digest client still gets through, on a new connection per answer
    twin.reset(device.host)
    assert device.success(REMOTE + "getvapixstatus.cgi")["BaseConnectionStatus"]["StatusCode"] == "3"
    response = device.call(PTZ, {"pan": "10"}, endpoint="ptz")
    assert response.status_code == 204 and response.raw.version == 10
    assert response.headers["Connection"] == "close"
    assert twin.counters(device.host)["connections"] == 4
    # the control API is not VAPIX: it stays HTTP/1.1
    assert keeps_alive(hv["q6000_port"], "/emulator/settings") == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]
    twin.settings(device.host, http10=False)
    assert keeps_alive(hv["q6000_port"], PUBLIC) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]


def test_http10_with_faults(device, twin):
    twin.settings(device.host, http10=True)
    twin.fault(device.host, "/axis-cgi/param.cgi", "http503", seconds=2)
    status, headers, _body = closes_after_one_answer(device.vars["q6000_port"], PUBLIC)
    assert status == "HTTP/1.0 503 Service Unavailable"
    assert (headers["connection"], headers["retry-after"]) == ("close", "2")


# -- 3. error_status -----------------------------------------------------------------------


ERRORS = [(REMOTE + "getvapixparams.cgi", {"schemaversion": "2"}), (CAL + "abort.cgi", None),
          (REMOTE + "getvapixstatus.cgi", {"foo": "1"})]


def test_error_status_default_is_200(device):
    for path, args in ERRORS:
        response = device.call(path, args)
        assert response.status_code == 200 and "<GeneralError>" in response.text


@pytest.mark.parametrize("status", [400, 500])
def test_error_status(device, twin, status):
    bodies = [device.call(path, args).content for path, args in ERRORS]
    twin.settings(device.host, error_status=status)
    for (path, args), body in zip(ERRORS, bodies):
        response = device.call(path, args)
        assert response.status_code == status
        assert response.headers["Content-Type"] == "text/xml"
        assert response.content == body
    duplicate = device.session.get(device.url(REMOTE + "getvapixparams.cgi?schemaversion=1&schemaversion=1"),
                                   auth=device.auth("root"))
    assert duplicate.status_code == status and "<ErrorCode>20</ErrorCode>" in duplicate.text
    assert device.call(REMOTE + "getvapixstatus.cgi").status_code == 200
    ptz = device.call(PTZ, {"query": "foo"}, endpoint="ptz")
    assert (ptz.status_code, ptz.text) == (200, "Error: query: unknown value: foo\n")


# -- 4. current_target ---------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [
    ("omit", "<GetInformationSuccess><Camera>2</Camera></GetInformationSuccess>"),
    ("zero", "<GetInformationSuccess><Camera>2</Camera><CurrentTarget><X>0</X><Y>0</Y></CurrentTarget>"
             "</GetInformationSuccess>"),
    ("empty", "<GetInformationSuccess><Camera>2</Camera><CurrentTarget /></GetInformationSuccess>"),
])
def test_current_target(device, twin, value, expected):
    twin.settings(device.host, current_target=value)
    device.success(CAL + "start.cgi", {"camera": "2"})
    assert expected in device.call(CAL + "getinformation.cgi").text
    device.success(CAL + "selecttarget.cgi", {"x": "0.25", "y": "-0.5"})
    assert device.success(CAL + "getinformation.cgi") == {"Camera": "2",
                                                          "CurrentTarget": {"X": "0.25", "Y": "-0.5"}}
    pan, tilt = twin.truth(device.host, 2, 0.25, -0.5)
    device.success(CAL + "ontarget.cgi", {"pan": repr(pan), "tilt": repr(tilt)})
    assert expected in device.call(CAL + "getinformation.cgi").text


def test_current_target_default_is_omit(device):
    device.success(CAL + "start.cgi")
    assert device.success(CAL + "getinformation.cgi") == {"Camera": "1"}


# -- 5. param_lacks ------------------------------------------------------------------------


def listing(device, group, endpoint="q6000", account="root"):
    args = {"action": "list"} if group is None else {"action": "list", "group": group}
    response = device.call(PARAM, args, endpoint=endpoint, account=account)
    assert response.status_code == 200
    return response.text


def test_unknown_group_does_not_hide_the_others(device):
    text = listing(device, "Nope,Brand.ProdNbr,Properties.Nope,ImageSource")
    assert text == ("# Error: Error -1 getting param in group 'Nope'\nroot.Brand.ProdNbr=Q6000-E\n"
                    "# Error: Error -1 getting param in group 'Properties.Nope'\nroot.ImageSource.NbrOfSources=4\n")


def test_param_lacks(device, twin):
    everything = lines(listing(device, None))
    answer = twin.settings(device.host, param_lacks=["root.ImageSource.NbrOfSources",
                                                     "Properties.PTRemoteCalibration", "Image.I0"])
    assert answer["param_lacks"] == ["ImageSource.NbrOfSources", "Properties.PTRemoteCalibration", "Image.I0"]
    text = listing(device, "Brand.ProdNbr,root.ImageSource.NbrOfSources,Properties.API.HTTP.Version,ImageSource")
    assert text == ("root.Brand.ProdNbr=Q6000-E\n"
                    "# Error: Error -1 getting param in group 'root.ImageSource.NbrOfSources'\n"
                    "root.Properties.API.HTTP.Version=3\n"
                    "# Error: Error -1 getting param in group 'ImageSource'\n")
    public = listing(device, "Properties.PTRemoteCalibration.PTRemoteCalibration,Properties.RemoteCameraControl",
                     account=None)
    assert public == ("# Error: Error -1 getting param in group 'Properties.PTRemoteCalibration.PTRemoteCalibration'\n"
                      "root.Properties.RemoteCameraControl.VAPIX=yes\n")
    assert listing(device, "Image.*.Appearance.Resolution") == "".join(
        f"root.Image.I{i}.Appearance.Resolution=1920x1080\n" for i in (1, 2, 3))
    lacking = lines(listing(device, None))
    gone = {"root.ImageSource.NbrOfSources", "root.Properties.PTRemoteCalibration.PTRemoteCalibration",
            "root.Image.I0.Appearance.Resolution"}
    assert set(everything) - set(lacking) == gone
    assert lines(listing(device, "Properties")) == {k: v for k, v in everything.items()
                                                    if k.startswith("root.Properties.") and k not in gone}
    twin.settings(device.host, param_lacks=[])
    assert lines(listing(device, None)) == everything


def test_param_lacks_matches_whole_name_segments(device, twin):
    twin.settings(device.host, param_lacks=["Image.I", "Brand.Prod"])
    expected = "root.Image.I0.Appearance.Resolution=1920x1080\nroot.Brand.ProdNbr=Q6000-E\n"
    assert listing(device, "Image.I0,Brand.ProdNbr") == expected
    twin.settings(device.host, param_lacks=["Brand"])
    assert listing(device, "Brand,Brand.ProdNbr") == ("# Error: Error -1 getting param in group 'Brand'\n"
                                                      "# Error: Error -1 getting param in group 'Brand.ProdNbr'\n")


def test_param_lacks_leaves_the_ptz_alone(device, twin):
    twin.settings(device.host, param_lacks=["Brand.ProdNbr", "Properties"])
    assert listing(device, "Brand.ProdNbr", endpoint="ptz") == "root.Brand.ProdNbr=Q60-E\n"
    assert listing(device, "Properties.PTZ.PTZ", endpoint="ptz") == "root.Properties.PTZ.PTZ=yes\n"
    assert listing(device, "Properties") == "# Error: Error -1 getting param in group 'Properties'\n"


# -- 6. ignore_post_body -------------------------------------------------------------------


def post(device, path, body: str, query: str = "", endpoint="q6000", account="root"):
    if endpoint == "ptz" and account == "root":
        account = "ptz"
    return device.session.post(device.url(path, endpoint) + query, data=body.encode(), auth=device.auth(account),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_post_body_is_read_by_default(device):
    assert "<ErrorCode>40</ErrorCode>" in post(device, REMOTE + "getvapixparams.cgi", "schemaversion=2").text


def test_ignore_post_body(device, twin):
    twin.settings(device.host, ignore_post_body=True)
    assert "<GetVapixParamsSuccess>" in post(device, REMOTE + "getvapixparams.cgi", "schemaversion=2").text
    assert "<ErrorCode>40</ErrorCode>" in post(device, REMOTE + "getvapixparams.cgi", "schemaversion=1",
                                               "?schemaversion=2").text
    post(device, REMOTE + "setvapixparams.cgi", "rtspport=1554")
    assert device.success(REMOTE + "getvapixparams.cgi")["VapixConnectionParams"]["RTSPPort"] == "554"
    device.success(CAL + "start.cgi")
    answer = post(device, CAL + "selecttarget.cgi", "x=0.1&y=0.2").text
    assert "<ErrorCode>20</ErrorCode>" in answer and "Both x and y are required." in answer
    assert post(device, CAL + "selecttarget.cgi", "", "?x=0.1&y=0.2").text.count("<GeneralSuccess />") == 1
    assert post(device, PARAM, "action=list&group=Brand").text == "# Error: Missing argument 'action'\n"
    assert post(device, PTZ, "camera=1&center=10,10").text == "Error: give exactly one of center and areazoom\n"
    # the PTZ is another device: it still reads its POST body
    assert post(device, PTZ, "pan=12", endpoint="ptz").status_code == 204
    assert device.position()[0] == 12.0


def test_post_body_under_any_content_type(device):
    for path, endpoint in ((PARAM, "q6000"), (PARAM, "ptz")):
        response = device.session.post(device.url(path, endpoint), data=b"action=list&group=Brand.ProdNbr",
                                       headers={"Content-Type": "text/plain"},
                                       auth=device.auth("ptz" if endpoint == "ptz" else "root"))
        assert response.text.startswith("root.Brand.ProdNbr=Q6")
    plain = {"Content-Type": "text/plain; charset=utf-8"}
    response = device.session.post(device.url(PTZ, "ptz"), data=b"pan=33&tilt=-3", headers=plain,
                                   auth=device.auth("ptz"))
    assert response.status_code == 204
    assert device.position()[:2] == (33.0, -3.0)


# -- 7. ptz_start_delay --------------------------------------------------------------------


def move(device, **args):
    response = device.call(PTZ, {k: str(v) for k, v in args.items()}, endpoint="ptz")
    assert response.status_code == 204, response.text


def test_no_start_delay_by_default(device):
    move(device, pan=40, tilt=-20)
    assert device.position()[:2] == (40.0, -20.0)


def test_ptz_start_delay_at_once(device, twin):
    twin.settings(device.host, ptz_start_delay=1.0)
    started = time.monotonic()
    move(device, pan=40, tilt=-20, zoom=300)
    assert device.position() == (0.0, 0.0, 300)
    assert twin.state(device.host)["ptz"]["moving"] is False
    wait_for(lambda: device.position()[:2] == (40.0, -20.0), timeout=5)
    assert time.monotonic() - started >= 1.0
    twin.settings(device.host, ptz_start_delay=0.0)
    move(device, pan=-40)
    assert device.position()[:2] == (-40.0, -20.0)


def test_ptz_start_delay_then_speed(device, twin):
    twin.settings(device.host, ptz_start_delay=1.2, ptz_speed=20.0)
    started = time.monotonic()
    move(device, pan=20)
    seen = []
    while time.monotonic() - started < 0.6:
        seen.append((device.position()[0], twin.state(device.host)["ptz"]["moving"]))
    assert set(seen) == {(0.0, False)}
    wait_for(lambda: twin.state(device.host)["ptz"]["moving"], timeout=3, interval=0.02)
    assert time.monotonic() - started >= 1.2
    assert 0 <= device.position()[0] < 20
    wait_for(lambda: device.position()[0] == 20.0, timeout=5)
    assert time.monotonic() - started >= 2.2
    assert twin.state(device.host)["ptz"]["moving"] is False


def test_ptz_start_delay_applies_to_center(device, twin):
    assert calibrate(device, 1) is None
    device.connect()
    twin.settings(device.host, ptz_start_delay=1.0)
    before = device.position()
    assert device.call(PTZ, {"camera": "1", "center": "960,540"}).status_code == 204
    assert device.position() == before
    assert twin.state(device.host)["ptz"]["moving"] is False
    wait_for(lambda: device.position() != before, timeout=5)


# -- 8. remote_url_slash -------------------------------------------------------------------


def test_remote_url_slash(device, twin):
    port = device.vars["q6000_remote_http_port"]
    assert device.success(REMOTE + "getremoteurl.cgi") == f"http://{LINK_LOCAL}:{port}/"
    twin.settings(device.host, remote_url_slash=False)
    assert device.success(REMOTE + "getremoteurl.cgi") == f"http://{LINK_LOCAL}:{port}"
    device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "manual", "host": "::1"})
    assert device.success(REMOTE + "getremoteurl.cgi") == f"http://[::1]:{port}"


# -- 9. deprecated_false -------------------------------------------------------------------


def test_deprecated_false(device, twin):
    calls = [(REMOTE + "getvapixstatus.cgi", None), (CAL + "abort.cgi", None), (REMOTE + "schemaversions.cgi", None)]
    for path, args in calls:
        assert "@Deprecated" not in root_attrs(device.call(path, args).text)
    twin.settings(device.host, deprecated_false=True)
    for path, args in calls:
        text = device.call(path, args).text
        assert root_attrs(text)["@Deprecated"] == "false"
        assert ' SchemaVersion="1.0" Deprecated="false" xmlns:xsi=' in text
    twin.settings(device.host, deprecated=True)
    for path, args in calls:
        assert root_attrs(device.call(path, args).text)["@Deprecated"] == "true"


# -- 10. ptz_start_zoom --------------------------------------------------------------------


def test_ptz_start_zoom(device, twin):
    assert device.position() == (0.0, 0.0, 1)
    twin.settings(device.host, ptz_start_zoom=500)
    assert device.position() == (0.0, 0.0, 500)
    assert twin.state(device.host)["ptz"]["zoom"] == 500
    move(device, pan=10, zoom=2000)
    twin.factory_reset(device.host)
    assert device.position() == (0.0, 0.0, 500)
    twin.settings(device.host, ptz_speed=0.0)
    assert device.position()[2] == 500
    twin.settings(device.host, ptz_start_zoom=1)
    assert device.position()[2] == 1


# -- 11. save_delay ------------------------------------------------------------------------


def test_save_answers_at_once_by_default(device, twin):
    calibrate(device, 1, save=False)
    device.call(CAL + "getinformation.cgi")  # the Digest handshake happens here, not in the timed call
    started = time.monotonic()
    assert device.xml(CAL + "save.cgi")[0] == "GeneralSuccess"
    assert time.monotonic() - started < 1.0


def test_save_delay(device, twin):
    twin.settings(device.host, save_delay=1.5)
    calibrate(device, 3, save=False)
    device.call(CAL + "getinformation.cgi")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        device.session.get(device.url(CAL + "save.cgi"), auth=device.auth("root"), timeout=0.5)
    # the save happened although the client never saw the answer; the loop was not blocked meanwhile
    state = twin.state(device.host)
    assert state["calibrated"]["3"] is True and state["session"] is None
    assert time.monotonic() - started < 1.5
    twin.settings(device.host, save_delay=0.6)
    calibrate(device, 2, GOOD_POINTS, save=False)
    started = time.monotonic()
    assert device.xml(CAL + "save.cgi")[0] == "GeneralSuccess"
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    assert device.error(CAL + "save.cgi") == 54
    assert time.monotonic() - started >= 0.6
    assert device.success(CAL + "iscalibrated.cgi")["Camera"][1] == {"Id": "2", "Calibrated": "1"}


# -- 12. discovery_link_local --------------------------------------------------------------


def test_auto_discovery_reports_a_link_local_address(device, second, twin):
    for dev, address in ((device, "169.254.1.1"), (second, "169.254.1.2")):
        port = dev.vars["q6000_remote_http_port"]
        assert dev.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]["Host"] == address
        assert dev.success(REMOTE + "getremoteurl.cgi") == f"http://{address}:{port}/"
        assert twin.state(dev.host)["link"]["host"] == address
        dev.connect()
        assert twin.state(dev.host)["status"] == 0
        assert dev.vars["q6000_remote_host"] == dev.vars["q6000_ptz_hostname"] == "127.0.0.1"
        own = lines(dev.call(PARAM, {"action": "list", "group": "Network.eth0.IPAddress"}).text)
        assert own == {"root.Network.eth0.IPAddress": "127.0.0.1"}
        assert lines(dev.call(PARAM, {"action": "list", "group": "Network.eth0.IPAddress"}, endpoint="ptz").text) \
            == {"root.Network.eth0.IPAddress": "127.0.0.1"}


def test_link_local_addresses_are_unique_in_a_fleet():
    addresses = [Unit(i, "1", "127.0.0.1", Settings()).discovered_host for i in range(0, 1500, 7)]
    assert len(set(addresses)) == len(addresses)
    for address in addresses:
        a, b, c, d = map(int, address.split("."))
        assert (a, b) == (169, 254) and 1 <= c <= 254 and 1 <= d <= 254


def test_reachable_discovery(device, twin):
    twin.settings(device.host, discovery_link_local=False)
    port = device.vars["q6000_remote_http_port"]
    assert device.success(REMOTE + "getvapixparams.cgi")["BaseConnectionParams"]["Host"] == "127.0.0.1"
    assert device.success(REMOTE + "getremoteurl.cgi") == f"http://127.0.0.1:{port}/"
    assert twin.state(device.host)["link"]["host"] == "127.0.0.1"
    device.connect()


def test_manual_mode_is_unchanged(device, twin):
    device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "manual", "host": "127.0.0.1",
                                                   "password": device.password("ptz")})
    assert device.success(REMOTE + "getremoteurl.cgi") == f"http://127.0.0.1:{device.vars['q6000_ptz_port']}/"
    wait_for(lambda: device.status() == 0)
    device.success(REMOTE + "setvapixparams.cgi", {"host": "169.254.1.2"})  # the other unit's PTZ
    time.sleep(0.35)
    assert device.status() == 2


# -- the settings: defaults, validation, options --------------------------------------------


def test_defaults(device, twin):
    twin.settings(device.host, connect_delay=1.0, ptz_speed=300.0)
    assert settings_of(twin, device.host) == {
        "deprecated": False, "error_element": "Description", "connect_delay": 1.0, "allow_basic": False,
        "nonce_lifetime": 300.0, "digest_algorithm": "MD5", "ptz_speed": 300.0, **VARIANCE_DEFAULTS,
        **WORLD_DEFAULTS, **SITE_DEFAULTS}
    assert settings_of(twin, device.host) == {**settings_of(twin, twin.host(1)), "connect_delay": 1.0,
                                              "ptz_speed": 300.0}


@pytest.mark.parametrize("values", [
    {"xml_preamble": "tab"}, {"xml_preamble": None}, {"http10": 1}, {"http10": "true"}, {"error_status": 404},
    {"error_status": "500"}, {"error_status": True}, {"current_target": "none"}, {"param_lacks": "Brand"},
    {"param_lacks": ["Brand", 5]}, {"param_lacks": [""]}, {"param_lacks": ["Image.*"]}, {"param_lacks": ["a..b"]},
    {"param_lacks": ["root."]}, {"ignore_post_body": None}, {"ptz_start_delay": -1}, {"ptz_start_delay": "1"},
    {"ptz_start_delay": float("inf")}, {"remote_url_slash": 0}, {"deprecated_false": "yes"},
    {"ptz_start_zoom": 0}, {"ptz_start_zoom": 10000}, {"ptz_start_zoom": 1.5}, {"ptz_start_zoom": True},
    {"save_delay": -0.1}, {"save_delay": None}, {"discovery_link_local": "false"},
    {"http10": True, "error_status": 201}, {"ptz_start_zoom": 50, "save_delay": -1},
])
def test_bad_values_change_nothing(device, twin, values):
    before = settings_of(twin, device.host)
    zoom = device.position()[2]
    with pytest.raises(TwinError, match="400"):
        twin.settings(device.host, **values)
    assert settings_of(twin, device.host) == before
    assert device.position()[2] == zoom


def test_help_lists_every_switch():
    result = subprocess.run([sys.executable, "-m", "tests.emulator", "--help"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=30, check=True)
    for flag in FLAGS.values():
        assert flag in result.stdout, flag
    for choices in ("{none,crlf,blank}", "{200,400,500}", "{omit,zero,empty}"):
        assert choices in result.stdout


@pytest.mark.parametrize("args", [
    ["--xml-preamble", "lf"], ["--error-status", "404"], ["--error-status", "x"], ["--current-target", "null"],
    ["--param-lacks", "Brand,a..b"], ["--param-lacks", "Image.*"], ["--ptz-start-delay", "-1"],
    ["--ptz-start-zoom", "0"], ["--ptz-start-zoom", "10000"], ["--ptz-start-zoom", "2.5"], ["--save-delay", "-1"],
    ["--save-delay", "nan"],
    ["--auth-schemes", "ntlm"], ["--auth-schemes", ""], ["--auth-schemes", "digest,digest"],
    ["--digest-algorithm", "md5-sess"], ["--forbidden-status", "404"], ["--snapshot-size", "640"],
    ["--snapshot-size", "1x1"], ["--trickle-headers", "-1"], ["--tls-reset", "-1"], ["--tls-reset", "1"],
    ["--position-decimals", "7"], ["--position-decimals", "1.5"],
])
def test_bad_options_exit_with_usage(args, capsys):
    with pytest.raises(SystemExit) as exited:
        parse(args)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "usage:" in err


def test_bad_option_exits_before_listening():
    result = subprocess.run([sys.executable, "-m", "tests.emulator", "--ptz-start-zoom", "0"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert result.stdout == "" and "--ptz-start-zoom: must be an integer 1..9999" in result.stderr


def test_options_set_every_switch(tmp_path_factory):
    twin = start_twin(tmp_path_factory, args=(
        *TEST_ARGS, "--xml-preamble", "crlf", "--http10", "--error-status", "500", "--current-target", "zero",
        "--param-lacks", "ImageSource, Brand.ProdNbr", "--ignore-post-body", "--ptz-start-delay", "0.25",
        "--remote-url-no-slash", "--deprecated-false", "--ptz-start-zoom", "700", "--save-delay", "0.5",
        "--reachable-discovery"))
    try:
        host = twin.host()
        assert settings_of(twin, host) == {
            "deprecated": False, "error_element": "Description", "connect_delay": 0.3, "allow_basic": False,
            "nonce_lifetime": 300.0, "digest_algorithm": "MD5", "ptz_speed": 0.0,
            "xml_preamble": "crlf", "http10": True, "error_status": 500, "current_target": "zero",
            "param_lacks": ["ImageSource", "Brand.ProdNbr"], "ignore_post_body": True, "ptz_start_delay": 0.25,
            "remote_url_slash": False, "deprecated_false": True, "ptz_start_zoom": 700, "save_delay": 0.5,
            "discovery_link_local": False, "auth_schemes": ["digest"], "forbidden_status": 401, "error_space": True,
            "param_prefix": True, "resolutions_per_channel": False, "snapshot_size": None, "trickle_headers": 0.0,
            "tls_reset": 0, "position_decimals": 4, **WORLD_DEFAULTS, **SITE_DEFAULTS}
        assert set(FLAGS) == set(VARIANCE_DEFAULTS)
        device = Device(twin, host)
        assert device.position() == (0.0, 0.0, 700)
        response = device.call(REMOTE + "getremoteurl.cgi")
        assert response.raw.version == 10 and response.content.startswith(b"\r\n<?xml")
        assert response.content.count(b'Deprecated="false"') == 1
        text = response.text
        assert xmltodict.parse(text[2:])["RemoteCameraControlResponse"]["GetRemoteURLSuccess"] == \
            f"http://127.0.0.1:{device.vars['q6000_ptz_port']}"
        assert device.call(REMOTE + "getvapixparams.cgi", {"schemaversion": "2"}).status_code == 500
        assert device.call(PARAM, {"action": "list", "group": "ImageSource"}).text == \
            "# Error: Error -1 getting param in group 'ImageSource'\n"
    finally:
        stop_twin(twin)
