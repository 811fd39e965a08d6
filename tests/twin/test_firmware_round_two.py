"""Firmware variance, round two: authentication schemes and algorithms, stale nonces mid-run, 403 for a
too-weak role, text errors without a space, param.cgi without `root.`, resolutions per channel, snapshots at
a size of their own, headers that trickle, TLS handshakes that are reset, and the PTZ's position decimals.

Each switch over raw HTTP in both positions, its validation and its command-line option."""

from __future__ import annotations

import base64
import re
import socket
import ssl
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.emulator.auth import parse_auth_params
from tests.emulator.process import REPO_ROOT, TwinError
from tests.twin.helpers import (PARAM, PTZ, REMOTE, TEST_ARGS, SITE_DEFAULTS, VARIANCE_DEFAULTS, WORLD_DEFAULTS, Device, challenge,
                                digest_header, lines, start_twin, stop_twin)

STATUS = REMOTE + "getvapixstatus.cgi"  # viewer
PARAMS = REMOTE + "getvapixparams.cgi"  # admin
IMAGE = "/axis-cgi/jpg/image.cgi"
PUBLIC = PARAM + "?action=list&group=Properties.API.HTTP.Version"  # needs no login


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def challenges(response: requests.Response) -> list[str]:
    """Every WWW-Authenticate header of an answer, in the order sent."""
    return response.raw.headers.getlist("WWW-Authenticate")


def realm_of(device: Device, endpoint: str = "q6000") -> str:
    text = device.call(PARAM, {"action": "list", "group": "Network.eth0.MACAddress"}, endpoint=endpoint).text
    return "AXIS_" + text.strip().split("=", 1)[1].replace(":", "")


def settings_of(twin, host) -> dict:
    return twin.control(host, "GET", "/settings")


# -- auth_schemes --------------------------------------------------------------------------


def test_auth_schemes_default_is_one_digest_challenge(device):
    response = device.call(STATUS, account=None)
    assert response.status_code == 401
    assert len(challenges(response)) == 1 and challenges(response)[0].startswith("Digest ")
    assert device.session.get(device.url(STATUS), headers=basic("viewer", device.password("viewer"))).status_code == 401


def test_auth_schemes_basic_only(device, twin):
    digest = challenge(device.call(STATUS, account=None))  # a nonce issued while Digest was offered
    realm, ptz_realm = realm_of(device), realm_of(device, "ptz")
    twin.settings(device.host, auth_schemes=["basic"])
    response = device.call(STATUS, account=None)
    assert response.status_code == 401
    assert challenges(response) == [f'Basic realm="{realm}"']
    assert device.session.get(device.url(STATUS), headers=basic("viewer", device.password("viewer"))).status_code == 200
    assert device.session.get(device.url(STATUS), headers=basic("viewer", "wrong")).status_code == 401
    refused = device.session.get(device.url(PARAMS), headers=basic("viewer", device.password("viewer")))
    assert refused.status_code == 401 and challenges(refused) == [f'Basic realm="{realm}"']
    # Digest is refused, hand-made or from a client that knows only Digest.
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, digest)
    assert device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 401
    assert device.call(STATUS, account="viewer").status_code == 401
    # The PTZ follows the unit's setting, with its own realm.
    response = device.call(PTZ, {"query": "position"}, account=None, endpoint="ptz")
    assert challenges(response) == [f'Basic realm="{ptz_realm}"']
    response = device.session.get(device.url(PTZ, "ptz"), params={"query": "position"},
                                  headers=basic("root", device.password("ptz")))
    assert response.status_code == 200 and "pan=" in response.text


@pytest.mark.parametrize("schemes", [["digest", "basic"], ["basic", "digest"]])
def test_auth_schemes_both_in_their_order(device, twin, schemes):
    realm = realm_of(device)
    twin.settings(device.host, auth_schemes=schemes)
    response = device.call(STATUS, account=None)
    sent = challenges(response)
    assert [c.split(" ", 1)[0].lower() for c in sent] == schemes
    assert f'Basic realm="{realm}"' in sent
    digest = next(c for c in sent if c.startswith("Digest "))
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, parse_auth_params(digest[len("Digest "):]))
    assert device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 200
    assert device.session.get(device.url(STATUS), headers=basic("viewer", device.password("viewer"))).status_code == 200


def test_allow_basic_still_accepts_basic_under_a_digest_challenge(device, twin):
    twin.settings(device.host, allow_basic=True)
    response = device.call(STATUS, account=None)
    assert len(challenges(response)) == 1 and challenges(response)[0].startswith("Digest ")
    assert device.session.get(device.url(STATUS), headers=basic("viewer", device.password("viewer"))).status_code == 200
    assert device.call(STATUS, account="viewer").status_code == 200


# -- digest_algorithm: MD5-sess and none ---------------------------------------------------------


def challenge_of(device, twin, algorithm, token):
    """The device's challenge under `digest_algorithm`, checked to carry `token` (`, algorithm=...` or nothing)."""
    twin.settings(device.host, digest_algorithm=algorithm)
    response = device.call(STATUS, account=None)
    assert re.fullmatch(rf'Digest realm="{realm_of(device)}", nonce="[0-9a-f]{{32}}"{token}, qop="auth"',
                        response.headers["WWW-Authenticate"])
    return challenge(response)


def signs_in(device, header):
    return device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 200


def assert_requests_signs_in_once(device, twin):
    """requests' own Digest, from the challenge as the device words it: one 401 for three requests."""
    twin.reset(device.host)
    session = requests.Session()
    auth = HTTPDigestAuth("viewer", device.password("viewer"))
    for _request in range(3):
        assert session.get(device.url(STATUS), auth=auth, timeout=30).status_code == 200
    assert twin.counters(device.host)["unauthorized"] == 1


def test_md5_sess(device, twin):
    params = challenge_of(device, twin, "MD5-sess", ", algorithm=MD5-sess")
    assert signs_in(device, digest_header("viewer", device.password("viewer"), "GET", STATUS, params,
                                          algorithm="MD5-sess"))
    # Plain MD5 in the HA1 with the token MD5-sess is wrong, and so is a wrong password.
    plain = digest_header("viewer", device.password("viewer"), "GET", STATUS, params, nc=2, algorithm="MD5")
    assert not signs_in(device, plain.replace("algorithm=MD5", "algorithm=MD5-sess"))
    assert not signs_in(device, digest_header("viewer", "wrong", "GET", STATUS, params, nc=3, algorithm="MD5-sess"))
    # requests computes MD5-sess itself from the challenge.
    assert_requests_signs_in_once(device, twin)


def test_md5_sess_answers_are_accepted_under_an_md5_challenge(device):
    params = challenge(device.call(STATUS, account=None))
    assert params["algorithm"] == "MD5"
    assert signs_in(device, digest_header("viewer", device.password("viewer"), "GET", STATUS, params,
                                          algorithm="MD5-sess"))


def test_no_algorithm_token(device, twin):
    params = challenge_of(device, twin, "none", "")
    assert "algorithm" not in params
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params, algorithm=None)
    assert "algorithm" not in header
    assert signs_in(device, header)
    assert_requests_signs_in_once(device, twin)


# -- a nonce that goes stale mid-run ---------------------------------------------------------------


def test_nonce_goes_stale_between_two_requests_of_one_session(device, twin):
    twin.settings(device.host, nonce_lifetime=1.0)
    session = requests.Session()
    auth = HTTPDigestAuth("viewer", device.password("viewer"))
    first = session.get(device.url(STATUS), auth=auth, timeout=30)
    assert first.status_code == 200
    time.sleep(1.3)
    second = session.get(device.url(STATUS), auth=auth, timeout=30)
    assert second.status_code == 200
    (stale,) = second.history  # requests sent its old nonce (nc=2) and was told it is stale
    assert stale.status_code == 401
    assert challenge(stale)["stale"] == "true"
    assert challenge(stale)["nonce"] != challenge(first.history[0])["nonce"]
    assert twin.counters(device.host)["cgi"][STATUS] == 2


def test_nonce_goes_stale_by_hand(device, twin):
    twin.settings(device.host, nonce_lifetime=1.0)
    params = challenge(device.call(STATUS, account=None))
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params, nc=1)
    assert device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 200
    time.sleep(1.3)
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params, nc=2)
    response = device.session.get(device.url(STATUS), headers={"Authorization": header})
    assert response.status_code == 401
    fresh = challenge(response)
    assert fresh["stale"] == "true" and fresh["nonce"] != params["nonce"]
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, fresh, nc=1)
    assert device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 200


# -- forbidden_status ----------------------------------------------------------------------------


def test_forbidden_status_default_is_a_challenge(device):
    response = device.call(PARAMS, account="viewer")
    assert response.status_code == 401 and challenges(response)


def test_forbidden_status_403(device, twin):
    twin.settings(device.host, forbidden_status=403)
    twin.reset(device.host)
    for account in ("viewer", "operator"):
        response = device.call(PARAMS, account=account)
        assert (response.status_code, response.reason) == (403, "Forbidden")
        assert "WWW-Authenticate" not in response.headers
        assert "403 Forbidden" in response.text
    assert twin.counters(device.host)["unauthorized"] == 2  # the two first, credential-less requests only
    assert device.call(PARAMS, account="wrong").status_code == 401
    assert device.call(PARAMS, account=None).status_code == 401
    assert device.call(STATUS, account="viewer").status_code == 200
    assert device.call(PARAMS, account="root").status_code == 200
    assert twin.counters(device.host)["cgi"][PARAMS] == 1  # root's: a 403 does not reach the CGI
    # With Basic as well.
    twin.settings(device.host, auth_schemes=["basic"])
    assert device.session.get(device.url(PARAMS), headers=basic("viewer", device.password("viewer"))).status_code == 403
    assert device.session.get(device.url(PARAMS), headers=basic("viewer", "wrong")).status_code == 401


# -- error_space ---------------------------------------------------------------------------------


ERRORS = [
    ("ptz", PTZ, {"query": "foo"}, "Error:{}query: unknown value: foo\n"),
    ("q6000", PTZ, {"camera": "1", "center": "10,10"}, "Error:{}camera 1 is not calibrated\n"),
    ("q6000", IMAGE, {"resolution": "800x600"},
     "Error:{}resolution: invalid value: 800x600 (supported: 1920x1080,1280x720,640x360)\n"),
    ("q6000", PARAM, {"action": "list", "group": "Nope"}, "# Error:{}Error -1 getting param in group 'Nope'\n"),
    ("q6000", PARAM, {"action": "update"}, "# Error:{}Unsupported action 'update'\n"),
]


@pytest.mark.parametrize("space", [True, False])
@pytest.mark.parametrize("endpoint,path,args,text", ERRORS)
def test_error_space(device, twin, space, endpoint, path, args, text):
    twin.settings(device.host, error_space=space)
    response = device.call(path, args, endpoint=endpoint)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert response.text == text.format(" " if space else "")


@pytest.mark.parametrize("space", [True, False])
def test_error_space_of_an_argument_given_twice(device, twin, space):
    twin.settings(device.host, error_space=space)
    gap = " " if space else ""
    assert device.call(PTZ + "?query=position&query=limits", endpoint="ptz").text == \
        f"Error:{gap}Argument query given more than once.\n"
    assert device.call(PARAM + "?action=list&action=list").text == f"# Error:{gap}Argument action given more than once.\n"


# -- param_prefix --------------------------------------------------------------------------------


def test_param_prefix(device, twin):
    listed = device.call(PARAM, {"action": "list", "group": "Brand"}).text.splitlines()
    assert listed and all(line.startswith("root.Brand.") for line in listed)
    twin.settings(device.host, param_prefix=False)
    for group in ("Brand", "root.Brand", "root.Brand.*"):
        text = device.call(PARAM, {"action": "list", "group": group}).text
        assert text.splitlines() == [line[len("root."):] for line in listed], group
    text = device.call(PARAM, {"action": "list", "group": "Nope,root.Properties.API.HTTP.Version"}).text
    assert text == "# Error: Error -1 getting param in group 'Nope'\nProperties.API.HTTP.Version=3\n"
    everything = device.call(PARAM, {"action": "list"}).text.splitlines()
    assert everything and not any(line.startswith("root.") for line in everything)
    ptz = device.call(PARAM, {"action": "list", "group": "root.PTZ.Limit.L1.MaxTilt"}, endpoint="ptz").text
    assert ptz == "PTZ.Limit.L1.MaxTilt=20\n"


# -- resolutions_per_channel --------------------------------------------------------------------


def test_resolutions_per_channel(device, twin):
    group = {"action": "list", "group": "Properties.Image"}
    default = lines(device.call(PARAM, group, account=None).text)
    resolutions = default["root.Properties.Image.Resolution"]
    assert resolutions == "1920x1080,1280x720,640x360"
    assert not any(".I0." in name for name in default)
    twin.settings(device.host, resolutions_per_channel=True)
    assert lines(device.call(PARAM, group, account=None).text) == {
        f"root.Properties.Image.I{i}.Resolution": resolutions for i in range(4)}
    assert lines(device.call(PARAM, group, endpoint="ptz", account=None).text) == {
        "root.Properties.Image.I0.Resolution": resolutions}
    assert device.call(PARAM, {"action": "list", "group": "Properties.Image.Resolution"}, account=None).text == \
        "# Error: Error -1 getting param in group 'Properties.Image.Resolution'\n"
    assert device.call(PARAM, {"action": "list", "group": "root.Properties.Image.I*.Resolution"},
                       account=None).text.count("=" + resolutions) == 4
    # The heads' own defaults stay, and image.cgi takes every listed resolution as before.
    assert "root.Image.I3.Appearance.Resolution" in lines(device.call(PARAM, {"action": "list", "group": "Image"}).text)
    response = device.call(IMAGE, {"camera": "2", "resolution": "640x360"}, account="viewer")
    assert response.headers["Content-Type"] == "image/jpeg"


# -- snapshot_size -------------------------------------------------------------------------------


def decode(response: requests.Response) -> np.ndarray:
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg", response.text[:200]
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


def test_snapshot_size(device, twin):
    asked = {"camera": "1", "resolution": "1280x720", "compression": "10"}
    full = decode(device.call(IMAGE, asked, account="viewer"))
    assert full.shape == (720, 1280)
    twin.settings(device.host, snapshot_size="640x360")
    small = decode(device.call(IMAGE, asked, account="viewer"))
    assert small.shape == (360, 640)
    # The same view, scaled: away from the time overlay (top left) it matches the full picture shrunk.
    shrunk = cv2.resize(full, (640, 360), interpolation=cv2.INTER_AREA)
    mask = np.ones_like(small, dtype=bool)
    mask[:40, :200] = False
    difference = np.abs(small.astype(float) - shrunk.astype(float))[mask]
    assert difference.mean() < 4.0, difference.mean()
    # Whatever was asked, and on the PTZ too; another aspect ratio is stretched to it.
    assert decode(device.call(IMAGE, {"resolution": "1920x1080"}, account="viewer")).shape == (360, 640)
    twin.settings(device.host, snapshot_size="800x600")
    assert decode(device.call(IMAGE, {"resolution": "640x360"}, account="ptz", endpoint="ptz")).shape == (600, 800)
    assert decode(device.call(IMAGE, {"camera": "quad", "resolution": "640x360"}, account="viewer")).shape == (600, 800)
    # A bad request is still refused as before.
    assert device.call(IMAGE, {"resolution": "800x600"}, account="viewer").text.startswith("Error: resolution:")
    twin.settings(device.host, snapshot_size="")
    assert settings_of(twin, device.host)["snapshot_size"] is None
    assert decode(device.call(IMAGE, {"resolution": "640x360"}, account="viewer")).shape == (360, 640)


# -- trickle_headers -----------------------------------------------------------------------------


def read_head(sock: socket.socket, timeout: float = 30.0) -> tuple[float, float, int, bytes]:
    """(time of the first byte, time the head was complete, pieces the head came in, all bytes so far)."""
    sock.settimeout(timeout)
    data, pieces, first = b"", 0, None
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        first = first or time.monotonic()
        pieces += 1
        data += chunk
    return first, time.monotonic(), pieces, data


def read_answer(sock: socket.socket) -> tuple[float, int, list[str], bytes]:
    """(seconds the head took from its first byte, pieces, header lines, body) of one answer."""
    first, done, pieces, data = read_head(sock)
    head, _sep, body = data.partition(b"\r\n\r\n")
    header_lines = head.decode("latin-1").split("\r\n")
    length = int(next(line for line in header_lines if line.lower().startswith("content-length:")).split(":")[1])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return done - first, pieces, header_lines, body


def test_trickle_headers(device, twin):
    port = device.vars["q6000_port"]
    request = f"GET {PUBLIC} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        seconds, _pieces, header_lines, body = read_answer(sock)
        assert body == b"root.Properties.API.HTTP.Version=3\n"
        assert seconds < 2.0  # off: at once (a wide margin)
        twin.settings(device.host, trickle_headers=0.3)
        sock.sendall(request)  # the same connection: keep-alive
        seconds, pieces, slow_lines, body = read_answer(sock)
        assert slow_lines[0] == "HTTP/1.1 200 OK" and body == b"root.Properties.API.HTTP.Version=3\n"
        headers = len(slow_lines) - 1
        assert headers >= 4 and {line.split(":")[0] for line in slow_lines[1:]} >= {"Content-Type", "Content-Length"}
        assert seconds >= 0.3 * headers * 0.7, (seconds, headers)
        assert seconds < 0.3 * headers + 10.0, (seconds, headers)
        assert pieces >= headers // 2, pieces
        twin.settings(device.host, trickle_headers=0.0)
        sock.sendall(request)  # still the same connection after the trickled answer
        seconds, _pieces, _lines, body = read_answer(sock)
        assert body == b"root.Properties.API.HTTP.Version=3\n" and seconds < 2.0


def test_trickle_headers_of_a_401_and_a_client_that_leaves(device, twin):
    twin.settings(device.host, trickle_headers=0.1)
    started = time.monotonic()
    response = device.call(STATUS, account=None)
    assert response.status_code == 401 and challenges(response)
    assert time.monotonic() - started >= 0.1 * 4 * 0.7
    assert device.call(STATUS, account="viewer").status_code == 200  # through requests' Digest, trickled
    port = device.vars["q6000_port"]
    twin.settings(device.host, trickle_headers=0.3)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {PUBLIC} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        sock.settimeout(10)
        assert sock.recv(100).startswith(b"HTTP/1.1 200 OK")
    time.sleep(0.8)  # the twin finds the client gone at its next header line
    twin.settings(device.host, trickle_headers=0.0)
    assert device.call(STATUS, account="viewer").status_code == 200
    log = twin.log_text()
    assert "Traceback" not in log and "Error handling request" not in log, log


# -- position_decimals ---------------------------------------------------------------------------


@pytest.mark.parametrize("decimals,pan,tilt", [(None, "12.3457", "-7.6543"), (2, "12.35", "-7.65"), (0, "12", "-8"),
                                               (6, "12.345678", "-7.654321")])
def test_position_decimals(device, twin, decimals, pan, tilt):
    if decimals is not None:
        twin.settings(device.host, position_decimals=decimals)
    assert device.call(PTZ, {"pan": "12.345678", "tilt": "-7.654321"}, endpoint="ptz").status_code == 204
    text = device.call(PTZ, {"query": "position"}, endpoint="ptz").text
    values = lines(text)
    assert (values["pan"], values["tilt"], values["zoom"]) == (pan, tilt, "1"), text
    assert device.call(PTZ, {"pan": "-10", "tilt": "-20.0000001"}, endpoint="ptz").status_code == 204
    assert lines(device.call(PTZ, {"query": "position"}, endpoint="ptz").text)["pan"] == "-10"
    assert lines(device.call(PTZ, {"query": "position"}, endpoint="ptz").text)["tilt"] == "-20"


# -- validation, defaults and options ------------------------------------------------------------


def test_defaults(device, twin):
    values = settings_of(twin, device.host)
    for name in ("auth_schemes", "forbidden_status", "error_space", "param_prefix", "resolutions_per_channel",
                 "snapshot_size", "trickle_headers", "tls_reset", "position_decimals"):
        assert values[name] == VARIANCE_DEFAULTS[name], name
    assert values["digest_algorithm"] == "MD5"


@pytest.mark.parametrize("values", [
    {"auth_schemes": []}, {"auth_schemes": ["ntlm"]}, {"auth_schemes": ["digest", "digest"]},
    {"auth_schemes": "digest"}, {"auth_schemes": ["Digest"]}, {"auth_schemes": None}, {"auth_schemes": [1]},
    {"digest_algorithm": "md5-sess"}, {"digest_algorithm": "None"}, {"digest_algorithm": None},
    {"forbidden_status": 404}, {"forbidden_status": "403"}, {"forbidden_status": True},
    {"error_space": 0}, {"param_prefix": "false"}, {"resolutions_per_channel": None},
    {"snapshot_size": "640"}, {"snapshot_size": "640x360x2"}, {"snapshot_size": "0x0"}, {"snapshot_size": "640X360"},
    {"snapshot_size": "99999x360"}, {"snapshot_size": 640}, {"snapshot_size": ["640x360"]},
    {"trickle_headers": -0.1}, {"trickle_headers": "0.3"}, {"trickle_headers": float("nan")},
    {"tls_reset": -1}, {"tls_reset": 1.0}, {"tls_reset": True}, {"tls_reset": "1"},
    {"position_decimals": 7}, {"position_decimals": -1}, {"position_decimals": 2.5}, {"position_decimals": False},
    {"position_decimals": 2, "snapshot_size": "1x1"}, {"auth_schemes": ["basic"], "forbidden_status": 500},
])
def test_bad_values_change_nothing(device, twin, values):
    before = settings_of(twin, device.host)
    with pytest.raises(TwinError, match="400"):
        twin.settings(device.host, **values)
    assert settings_of(twin, device.host) == before


def test_good_values_read_back(device, twin):
    values = twin.settings(device.host, auth_schemes=["basic", "digest"], digest_algorithm="none",
                           forbidden_status=403, error_space=False, param_prefix=False, resolutions_per_channel=True,
                           snapshot_size="0640x0360", trickle_headers=0, tls_reset=3, position_decimals=0)
    assert {k: values[k] for k in ("auth_schemes", "digest_algorithm", "forbidden_status", "error_space",
                                   "param_prefix", "resolutions_per_channel", "snapshot_size", "trickle_headers",
                                   "tls_reset", "position_decimals")} == {
        "auth_schemes": ["basic", "digest"], "digest_algorithm": "none", "forbidden_status": 403, "error_space": False,
        "param_prefix": False, "resolutions_per_channel": True, "snapshot_size": "640x360", "trickle_headers": 0.0,
        "tls_reset": 3, "position_decimals": 0}
    # Without --tls a tls_reset has nothing to reset: plain HTTP goes on working, the count stays.
    response = device.session.get(device.url(PUBLIC))
    assert response.status_code == 200 and response.text == "Properties.API.HTTP.Version=3\n"
    assert settings_of(twin, device.host)["tls_reset"] == 3


def test_help_shows_the_new_flags():
    result = subprocess.run([sys.executable, "-m", "tests.emulator", "--help"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=30, check=True)
    for flag in ("--auth-schemes digest,basic", "--forbidden-status {401,403}", "--no-error-space",
                 "--no-param-prefix", "--resolutions-per-channel", "--snapshot-size WxH", "--trickle-headers S",
                 "--tls-reset N", "--position-decimals N", "{MD5,SHA-256,MD5-sess,none}"):
        assert flag in result.stdout, flag


def test_options_set_every_new_switch(tmp_path_factory):
    twin = start_twin(tmp_path_factory, args=(
        *TEST_ARGS, "--auth-schemes", "basic, digest", "--digest-algorithm", "MD5-sess", "--forbidden-status", "403",
        "--no-error-space", "--no-param-prefix", "--resolutions-per-channel", "--snapshot-size", "320x180",
        "--trickle-headers", "0.01", "--position-decimals", "1"))
    try:
        host = twin.host()
        assert settings_of(twin, host) == {
            "deprecated": False, "error_element": "Description", "connect_delay": 0.3, "allow_basic": False,
            "nonce_lifetime": 300.0, "digest_algorithm": "MD5-sess", "ptz_speed": 0.0,
            **VARIANCE_DEFAULTS, "auth_schemes": ["basic", "digest"], "forbidden_status": 403, "error_space": False,
            "param_prefix": False, "resolutions_per_channel": True, "snapshot_size": "320x180",
            "trickle_headers": 0.01, "position_decimals": 1, **WORLD_DEFAULTS, **SITE_DEFAULTS}
        device = Device(twin, host)
        response = device.call(STATUS, account=None)
        assert [c.split(" ")[0] for c in challenges(response)] == ["Basic", "Digest"]
        assert "algorithm=MD5-sess" in challenges(response)[1]
        viewer = basic("viewer", device.password("viewer"))
        assert device.session.get(device.url(PARAMS), headers=viewer).status_code == 403
        assert device.session.get(device.url(PTZ), params={"camera": "1", "center": "1,1"},
                                  headers=viewer).text == "Error:camera 1 is not calibrated\n"
        assert device.session.get(device.url(PARAM), params={"action": "list", "group": "Properties.Image"},
                                  headers=viewer).text.startswith("Properties.Image.I0.Resolution=")
        picture = device.session.get(device.url(IMAGE), headers=viewer)
        assert decode(picture).shape == (180, 320)
        ptz = basic("root", device.password("ptz"))
        device.session.get(device.url(PTZ, "ptz"), params={"pan": "1.26"}, headers=ptz)
        assert lines(device.session.get(device.url(PTZ, "ptz"), params={"query": "position"}, headers=ptz).text)["pan"] \
            == "1.3"
    finally:
        stop_twin(twin)


# -- tls_reset -----------------------------------------------------------------------------------


def handshake(port: int, context: ssl.SSLContext) -> str:
    """'ok' after a full TLS handshake and a public param.cgi answer over it, or 'reset'."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(f"GET {PUBLIC} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError) as exc:
        if isinstance(exc, ssl.SSLError) and "EOF" not in str(exc) and "RESET" not in str(exc).upper():
            raise
        return "reset"
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"root.Properties.API.HTTP.Version=3\n"), data
    return "ok"


def test_tls_reset(tmp_path_factory):
    twin = start_twin(tmp_path_factory, tls=True, args=(*TEST_ARGS, "--tls-reset", "1"))
    try:
        host = twin.host()
        device = Device(twin, host)
        context = ssl.create_default_context(cafile=twin.ca_path)
        q6000, ptz = device.vars["q6000_port"], device.vars["q6000_ptz_port"]
        # From the command line: the first handshake is reset, then they all work.
        assert handshake(q6000, context) == "reset"
        assert settings_of(twin, host)["tls_reset"] == 0
        assert [handshake(q6000, context) for _try in range(2)] == ["ok", "ok"]
        # At run time: one reset, on whichever endpoint comes first (the unit counts them together).
        assert twin.settings(host, tls_reset=1)["tls_reset"] == 1
        assert handshake(ptz, context) == "reset"
        assert handshake(q6000, context) == "ok" and handshake(ptz, context) == "ok"
        # Two resets, then a client such as requests gets through again.
        twin.settings(host, tls_reset=2)
        assert handshake(q6000, context) == "reset"
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(device.url(STATUS), auth=device.auth("viewer"), verify=twin.ca_path, timeout=10)
        response = requests.get(device.url(STATUS), auth=device.auth("viewer"), verify=twin.ca_path, timeout=10)
        assert response.status_code == 200
        assert settings_of(twin, host)["tls_reset"] == 0
        # Off: no reset at all.
        assert [handshake(port, context) for port in (q6000, ptz, q6000)] == ["ok", "ok", "ok"]
    finally:
        stop_twin(twin)
