"""Digest and Basic authentication as strict as firmware, and the role table of every CGI."""

from __future__ import annotations

import base64
import re
import subprocess
import time

import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.twin.helpers import CAL, PARAM, PTZ, REMOTE, challenge, digest_header

STATUS = REMOTE + "getvapixstatus.cgi"


def curl(*args: str) -> tuple[int, str]:
    out = subprocess.run(["curl", "-s", "-S", "--noproxy", "*", "-w", "\n%{http_code}", *args],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    body, _sep, code = out.rpartition("\n")
    return int(code), body


def mac_of(device, endpoint="q6000") -> str:
    text = device.call(PARAM, {"action": "list", "group": "Network.eth0.MACAddress"}, endpoint=endpoint).text
    return text.strip().split("=", 1)[1]


def test_challenge_is_shaped_like_axis(device):
    response = device.call(STATUS, account=None)
    assert response.status_code == 401
    realm = "AXIS_" + mac_of(device).replace(":", "")
    assert re.fullmatch(rf'Digest realm="{realm}", nonce="[0-9a-f]{{32}}", algorithm=MD5, qop="auth"',
                        response.headers["WWW-Authenticate"])
    assert realm == realm.upper()


def test_ptz_has_its_own_realm(device):
    response = device.call(PTZ, {"query": "position"}, account=None, endpoint="ptz")
    assert response.status_code == 401
    assert challenge(response)["realm"] == "AXIS_" + mac_of(device, "ptz").replace(":", "")
    assert challenge(response)["realm"] != "AXIS_" + mac_of(device).replace(":", "")


def test_curl_digest(device):
    url = device.url(STATUS + "?schemaversion=1")
    code, body = curl("--digest", "-u", f"viewer:{device.password('viewer')}", url)
    assert code == 200 and "<GetStatusSuccess>" in body
    code, _body = curl("--digest", "-u", "viewer:wrong", url)
    assert code == 401
    code, body = curl("--anyauth", "-u", f"root:{device.password('root')}", "-d", "schemaversion=1",
                      device.url(REMOTE + "getvapixparams.cgi"))
    assert code == 200 and "<GetVapixParamsSuccess>" in body


def test_curl_digest_sha256(device, twin):
    twin.settings(device.host, digest_algorithm="SHA-256")
    response = device.call(STATUS, account=None)
    assert challenge(response)["algorithm"] == "SHA-256"
    code, body = curl("--digest", "-u", f"viewer:{device.password('viewer')}", device.url(STATUS))
    assert code == 200 and "<GetStatusSuccess>" in body


def test_curl_ptz_password_with_specials(device):
    code, body = curl("--digest", "-u", f"root:{device.password('ptz')}",
                      device.url(PTZ + "?query=limits", "ptz"))
    assert code == 200 and "MaxTilt=20" in body


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_requests_digest(device, twin, algorithm):
    twin.settings(device.host, digest_algorithm=algorithm)
    auth = HTTPDigestAuth("viewer", device.password("viewer"))
    session = requests.Session()
    for _request in range(3):
        response = session.get(device.url(STATUS), auth=auth)
        assert response.status_code == 200
    assert twin.counters(device.host)["cgi"][STATUS] == 3
    assert twin.counters(device.host)["unauthorized"] == 1
    assert twin.counters(device.host)["connections"] == 1


def test_sha256_answer_to_md5_challenge(device):
    params = challenge(device.call(STATUS, account=None))
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params, algorithm="SHA-256")
    assert device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 200


def test_stale_nonce(device, twin):
    twin.settings(device.host, nonce_lifetime=0.2)
    params = challenge(device.call(STATUS, account=None))
    time.sleep(0.3)
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params)
    response = device.session.get(device.url(STATUS), headers={"Authorization": header})
    assert response.status_code == 401
    fresh = challenge(response)
    assert fresh["stale"] == "true"
    assert fresh["nonce"] != params["nonce"]
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, fresh)
    assert device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 200


def test_stale_only_for_right_credentials(device, twin):
    twin.settings(device.host, nonce_lifetime=0.2)
    params = challenge(device.call(STATUS, account=None))
    time.sleep(0.3)
    header = digest_header("viewer", "wrong", "GET", STATUS, params)
    response = device.session.get(device.url(STATUS), headers={"Authorization": header})
    assert response.status_code == 401
    assert "stale" not in challenge(response)


def test_requests_recovers_from_stale_nonce(device, twin):
    twin.settings(device.host, nonce_lifetime=0.2)
    auth = HTTPDigestAuth("viewer", device.password("viewer"))
    assert device.session.get(device.url(STATUS), auth=auth).status_code == 200
    time.sleep(0.3)
    assert device.session.get(device.url(STATUS), auth=auth).status_code == 200


def test_replayed_nc(device):
    params = challenge(device.call(STATUS, account=None))

    def send(nc: int) -> int:
        header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params, nc=nc)
        return device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code

    assert send(1) == 200
    assert send(1) == 401
    assert send(2) == 200
    assert send(5) == 200
    assert send(3) == 401


def test_tampered_uri(device):
    params = challenge(device.call(STATUS, account=None))
    target = STATUS + "?schemaversion=1"
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params)
    assert device.session.get(device.url(target), headers={"Authorization": header}).status_code == 401
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS + "?schemaversion=%31", params, nc=2)
    assert device.session.get(device.url(target), headers={"Authorization": header}).status_code == 401
    header = digest_header("viewer", device.password("viewer"), "GET", target, params, nc=3)
    assert device.session.get(device.url(target), headers={"Authorization": header}).status_code == 200


def test_method_is_part_of_the_digest(device):
    params = challenge(device.call(STATUS, account=None))
    header = digest_header("viewer", device.password("viewer"), "GET", STATUS, params)
    assert device.session.post(device.url(STATUS), headers={"Authorization": header}).status_code == 401


@pytest.mark.parametrize("change", ["realm", "nonce", "qop", "user", "response"])
def test_digest_rejects(device, change):
    params = challenge(device.call(STATUS, account=None))
    user, password = "viewer", device.password("viewer")
    header = digest_header(user, password, "GET", STATUS, params)
    if change == "realm":
        header = digest_header(user, password, "GET", STATUS, params, realm="AXIS_000000000000")
    elif change == "nonce":
        header = digest_header(user, password, "GET", STATUS, {**params, "nonce": "0" * 32})
    elif change == "qop":
        header = re.sub(r", qop=auth, nc=\w+, cnonce=\"\w+\"", "", header)
    elif change == "user":
        header = digest_header("nobody", password, "GET", STATUS, params)
    elif change == "response":
        header = re.sub(r'response="\w', 'response="x', header)
    assert device.session.get(device.url(STATUS), headers={"Authorization": header}).status_code == 401


def test_nonce_of_another_device_is_unknown(device):
    params = challenge(device.call(STATUS, account=None))
    target = PTZ + "?query=position"
    header = digest_header("root", device.password("ptz"), "GET", target, params)
    response = device.session.get(device.url(target, "ptz"), headers={"Authorization": header})
    assert response.status_code == 401


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_off_and_on(device, twin):
    headers = basic("viewer", device.password("viewer"))
    assert device.session.get(device.url(STATUS), headers=headers).status_code == 401
    code, _body = curl("--basic", "-u", f"viewer:{device.password('viewer')}", device.url(STATUS))
    assert code == 401
    twin.settings(device.host, allow_basic=True)
    assert device.session.get(device.url(STATUS), headers=headers).status_code == 200
    code, _body = curl("--basic", "-u", f"viewer:{device.password('viewer')}", device.url(STATUS))
    assert code == 200
    assert device.session.get(device.url(STATUS), headers=basic("viewer", "wrong")).status_code == 401
    assert device.session.get(device.url(REMOTE + "getvapixparams.cgi"), headers=headers).status_code == 401


def test_unauthorized_counter(device, twin):
    device.call(STATUS, account=None)
    device.call(STATUS, account="wrong")
    assert twin.counters(device.host)["unauthorized"] == 3
    assert STATUS not in twin.counters(device.host)["cgi"]


def test_passwords_are_yaml_and_form_hostile(device):
    ptz = device.password("ptz")
    assert len(ptz) == 16 and " " in ptz and all(c in ptz for c in "&=+#")
    for account in ("root", "operator", "viewer", "ptz"):
        password = device.password(account)
        assert len(password) == 16
        assert not set(password) & set("{}%\"'\\")


Q6000_TABLE = [
    (REMOTE + "getvapixparams.cgi", None, "admin"),
    (REMOTE + "setvapixparams.cgi", None, "admin"),
    (REMOTE + "getvapixstatus.cgi", None, "viewer"),
    (REMOTE + "getremoteurl.cgi", None, "viewer"),
    (REMOTE + "schemaversions.cgi", None, "viewer"),
    (CAL + "start.cgi", {"camera": "9"}, "admin"),
    (CAL + "abort.cgi", None, "admin"),
    (CAL + "selecttarget.cgi", {"x": "0", "y": "0"}, "admin"),
    (CAL + "ontarget.cgi", None, "admin"),
    (CAL + "save.cgi", None, "admin"),
    (CAL + "getinformation.cgi", None, "admin"),
    (CAL + "iscalibrated.cgi", None, "admin"),
    (CAL + "schemaversions.cgi", None, "admin"),
    (PTZ, {"camera": "1", "center": "1,1"}, "viewer"),
    (PARAM, {"action": "list", "group": "Properties.API.HTTP.Version"}, "anyone"),
    (PARAM, {"action": "list", "group": "root.Properties"}, "anyone"),
    (PARAM, {"action": "list", "group": "Brand"}, "viewer"),
    (PARAM, {"action": "list", "group": "Properties,Brand"}, "viewer"),
    (PARAM, {"action": "list"}, "viewer"),
]
LEVEL = {None: 0, "wrong": 0, "viewer": 1, "operator": 2, "root": 3}
NEEDED = {"anyone": 0, "viewer": 1, "operator": 2, "admin": 3}


@pytest.mark.parametrize("account", [None, "wrong", "viewer", "operator", "root"])
@pytest.mark.parametrize("path,args,role", Q6000_TABLE)
def test_role_table_q6000(device, path, args, role, account):
    expected = 200 if LEVEL[account] >= NEEDED[role] or (role == "anyone") else 401
    response = device.call(path, args, account=account)
    got = 200 if response.status_code in (200, 204) else response.status_code
    assert got == expected, response.text


@pytest.mark.parametrize("account,expected", [(None, 401), ("wrong", 401), ("root", 200)])
@pytest.mark.parametrize("path,args,public", [
    (PTZ, {"query": "position"}, False),
    (PARAM, {"action": "list", "group": "PTZ.Limit"}, False),
    (PARAM, {"action": "list", "group": "Properties"}, True),
])
def test_role_table_ptz(device, path, args, public, account, expected):
    response = device.call(path, args, account="ptz" if account == "root" else account, endpoint="ptz")
    assert response.status_code == (200 if public else expected)
