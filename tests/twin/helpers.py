"""Clients for the twin's own tests: requests with Digest, XML decoding, hand-made Digest headers."""

from __future__ import annotations

import hashlib
import os
import re
import time

import requests
import xmltodict
from requests.auth import HTTPDigestAuth

from tests.emulator.auth import parse_auth_params
from tests.emulator.optics import wrap180
from tests.emulator.process import Twin

REMOTE = "/axis-cgi/remotecameracontrol/"
CAL = "/axis-cgi/ptremotecalibration/"
PARAM = "/axis-cgi/param.cgi"
PTZ = "/axis-cgi/com/ptz.cgi"

VARIANCE_DEFAULTS = {"xml_preamble": "none", "http10": False, "error_status": 200, "current_target": "omit",
                     "param_lacks": [], "ignore_post_body": False, "ptz_start_delay": 0.0, "remote_url_slash": True,
                     "deprecated_false": False, "ptz_start_zoom": 1, "save_delay": 0.0,
                     "discovery_link_local": True, "auth_schemes": ["digest"], "forbidden_status": 401,
                     "error_space": True, "param_prefix": True, "resolutions_per_channel": False,
                     "snapshot_size": None, "trickle_headers": 0.0, "tls_reset": 0, "position_decimals": 4}
WORLD_DEFAULTS = {"depth_scale": 1.0, "noise": 0.01, "night": False, "guard_tour": 0.0}
SITE_DEFAULTS = {"ptz_night": False, "dusk": False, "clock": 12.0, "sway": 0.0, "sway_period": 4.0, "traffic": False,
                 "click_zoom": 1.0, "integer_center": False, "position_jitter": 0.0, "areazoom_error": 0.0,
                 "frame_latency": 0.0, "head_lens": "radial"}
LINK_LOCAL = "169.254.1.1"  # what auto discovery reports for the first unit
TEST_ARGS = ("--connect-delay", "0.3", "--ptz-speed", "0")
DEFAULT_SETTINGS = {"deprecated": False, "error_element": "Description", "connect_delay": 0.3,
                    "allow_basic": False, "nonce_lifetime": 300.0, "digest_algorithm": "MD5", "ptz_speed": 0.0,
                    **VARIANCE_DEFAULTS, **WORLD_DEFAULTS, **SITE_DEFAULTS}


def start_twin(tmp_path_factory, units: int = 1, **kwargs) -> Twin:
    workdir = tmp_path_factory.mktemp("twin")
    args = kwargs.pop("args", TEST_ARGS)
    return Twin(units, workdir=workdir, args=args, **kwargs).start()


def stop_twin(twin: Twin) -> None:
    """Stop it and fail on any internal error the twin logged."""
    code = twin.stop()
    log = twin.log_text()
    assert "Traceback" not in log, log
    assert code in (0, None), f"twin exited with {code}: {log[-2000:]}"


class Device:
    """One unit of a running twin, seen through requests (keep-alive session, Digest per account)."""

    def __init__(self, twin: Twin, host: str | None = None) -> None:
        self.twin = twin
        self.host = host or twin.host()
        self.vars = twin.hosts[self.host]
        self.session = requests.Session()
        self.session.trust_env = False
        if twin.ca_path:
            self.session.verify = twin.ca_path
        self._auth: dict[str, HTTPDigestAuth] = {}

    def password(self, account: str) -> str:
        return {"root": self.vars["q6000_password"], "operator": self.vars["q6000_operator_password"],
                "viewer": self.vars["q6000_viewer_password"], "ptz": self.vars["q6000_remote_password"]}[account]

    def auth(self, account: str | None):
        if account is None:
            return None
        if account == "wrong":
            return HTTPDigestAuth("root", "not-the-password")
        if account not in self._auth:
            user = "root" if account == "ptz" else account
            self._auth[account] = HTTPDigestAuth(user, self.password(account))
        return self._auth[account]

    def url(self, path: str, endpoint: str = "q6000") -> str:
        base = self.twin.base_url(self.host) if endpoint == "q6000" else self.twin.ptz_url(self.host)
        return base + path

    def call(self, path: str, args: dict | None = None, *, account: str | None = "root", method: str = "GET",
             endpoint: str = "q6000") -> requests.Response:
        if account == "root" and endpoint == "ptz":
            account = "ptz"
        kwargs = {"params": args} if method == "GET" else {"data": args}
        return self.session.request(method, self.url(path, endpoint), auth=self.auth(account), timeout=30,
                                    **kwargs)

    def xml(self, path: str, args: dict | None = None, **kwargs) -> tuple[str, dict]:
        """(name of the root's child, its content) of an XML answer, after checking the envelope."""
        response = self.call(path, args, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        assert response.headers["Content-Type"] == "text/xml"
        doc = xmltodict.parse(response.text)
        (root, content), = doc.items()
        children = [k for k in content if not k.startswith("@")]
        assert len(children) == 1, content
        return children[0], content[children[0]]

    def success(self, path: str, args: dict | None = None, **kwargs) -> dict | None:
        name, content = self.xml(path, args, **kwargs)
        assert name != "GeneralError", content
        return content

    def error(self, path: str, args: dict | None = None, **kwargs) -> int:
        name, content = self.xml(path, args, **kwargs)
        assert name == "GeneralError", (name, content)
        return int(content["ErrorCode"])

    def status(self) -> int:
        content = self.success(REMOTE + "getvapixstatus.cgi")
        return int(content["BaseConnectionStatus"]["StatusCode"])

    def connect(self, timeout: float = 5.0) -> None:
        """Give the link the PTZ's password and wait until it reports Connection OK."""
        self.success(REMOTE + "setvapixparams.cgi", {"password": self.password("ptz")})
        wait_for(lambda: self.status() == 0, timeout)

    def position(self) -> tuple[float, float, int]:
        response = self.call(PTZ, {"query": "position"}, endpoint="ptz")
        values = dict(line.split("=", 1) for line in response.text.split())
        return float(values["pan"]), float(values["tilt"]), int(values["zoom"])


def wait_for(condition, timeout: float = 5.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def challenge(response: requests.Response) -> dict[str, str]:
    header = response.headers["WWW-Authenticate"]
    assert header.startswith("Digest "), header
    return parse_auth_params(header[len("Digest "):])


def digest_header(user: str, password: str, method: str, uri: str, params: dict[str, str], nc: int = 1,
                  algorithm: str | None = "MD5", cnonce: str | None = None, realm: str | None = None) -> str:
    """An Authorization header computed by hand, to send what real clients would not. `algorithm` is
    MD5, SHA-256 or MD5-sess; None sends no algorithm token (and computes MD5)."""
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256, "MD5-SESS": hashlib.md5}[(algorithm or "MD5").upper()]

    def hx(text: str) -> str:
        return h(text.encode()).hexdigest()

    realm = realm or params["realm"]
    cnonce = cnonce or os.urandom(8).hex()
    ncs = f"{nc:08x}"
    ha1, ha2 = hx(f"{user}:{realm}:{password}"), hx(f"{method}:{uri}")
    if (algorithm or "").upper() == "MD5-SESS":
        ha1 = hx(f"{ha1}:{params['nonce']}:{cnonce}")
    response = hx(f"{ha1}:{params['nonce']}:{ncs}:{cnonce}:auth:{ha2}")
    token = f"algorithm={algorithm}, " if algorithm else ""
    return (f'Digest username="{user}", realm="{realm}", nonce="{params["nonce"]}", uri="{uri}", '
            f'{token}response="{response}", qop=auth, nc={ncs}, cnonce="{cnonce}"')


def lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def strip_ws(text: str) -> str:
    return re.sub(r">\s+<", "><", text.strip())


GOOD_POINTS = ((-0.7, 0.5), (0.7, 0.5), (0.0, 0.0), (-0.7, -0.6), (0.7, -0.6), (0.3, 0.2))


def calibrate(device: Device, camera: int, points=GOOD_POINTS, *, off: dict[int, tuple[float, float]] | None = None,
              save: bool = True) -> int | None:
    """Run a calibration session on exact points (each pixel's ray direction, no parallax; point i shifted
    by off[i]); the save's error code."""
    off = off or {}
    device.success(CAL + "start.cgi", {"camera": str(camera)})
    for i, (x, y) in enumerate(points):
        pan, tilt = device.twin.ray(device.host, camera, x, y)
        dpan, dtilt = off.get(i, (0.0, 0.0))
        device.success(CAL + "selecttarget.cgi", {"x": repr(x), "y": repr(y)})
        device.success(CAL + "ontarget.cgi", {"pan": repr(wrap180(pan + dpan)), "tilt": repr(tilt + dtilt)})
    if not save:
        return None
    name, content = device.xml(CAL + "save.cgi")
    return int(content["ErrorCode"]) if name == "GeneralError" else None


def fresh_device(twin, index=0):
    """Unit `index` of the twin, back at factory state with default settings and no faults."""
    host = twin.host(index)
    twin.factory_reset(host)
    twin.reset(host)
    twin.settings(host, **DEFAULT_SETTINGS)
    return Device(twin, host)
