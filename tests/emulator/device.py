"""One unit: a Q6000-E and the Q60-E it sits on, with everything either device remembers.

The CGI modules read and change this state; the server only routes to it. Keeping it in one
object makes the durable part (what `state.py` writes) and the volatile part (session, nonces,
counters) easy to tell apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import math
import re
import time
import weakref
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable

from .auth import Account, Authenticator, generate_password, generate_ptz_password
from .faults import FaultTable
from .optics import NBR_OF_HEADS, Fit, Physics, Point
from .ptz import LIMITS, Motion
from .views import World

PTZ_HTTPS_PORT = 443
PTZ_RTSP_PORT = 554
STATUS_TEXT = {0: "Connection OK", 1: "Trying to connect", 2: "No connection", 3: "Not authorized"}
ERROR_ELEMENTS = ("Description", "ErrorDescription")
XML_PREAMBLES = {"none": "", "crlf": "\r\n", "blank": "\n"}
ERROR_STATUSES = (200, 400, 500)
CURRENT_TARGETS = ("omit", "zero", "empty")
DIGEST_ALGORITHMS = ("MD5", "SHA-256", "MD5-sess", "none")
AUTH_SCHEMES = ("digest", "basic")
FORBIDDEN_STATUSES = (401, 403)
# HTTP statuses a setting may choose from.
STATUSES = {"error_status": ERROR_STATUSES, "forbidden_status": FORBIDDEN_STATUSES}
SNAPSHOT_SIZE = re.compile(r"^([0-9]{1,5})x([0-9]{1,5})$")
SNAPSHOT_LIMITS = ((16, 7680), (16, 4320))  # width, height


@dataclass
class Settings:
    """What a unit lets tests change at run time (`POST /emulator/settings`).

    The first group shapes the twin's strictness; the second models firmware variance: things real
    units are known (or suspected) to do differently, each off (today's behaviour) by default except
    `discovery_link_local`, which is how a real unit reports its PTZ. `tls_reset` counts down: each
    TLS handshake it resets uses one up.
    """

    deprecated: bool = False
    error_element: str = "Description"
    connect_delay: float = 1.0
    allow_basic: bool = False
    nonce_lifetime: float = 300.0
    digest_algorithm: str = "MD5"
    ptz_speed: float = 300.0
    # -- firmware variance --
    xml_preamble: str = "none"
    http10: bool = False
    error_status: int = 200
    current_target: str = "omit"
    param_lacks: tuple[str, ...] = ()
    ignore_post_body: bool = False
    ptz_start_delay: float = 0.0
    remote_url_slash: bool = True
    deprecated_false: bool = False
    ptz_start_zoom: int = 1
    save_delay: float = 0.0
    discovery_link_local: bool = True
    auth_schemes: tuple[str, ...] = ("digest",)
    forbidden_status: int = 401
    error_space: bool = True
    param_prefix: bool = True
    resolutions_per_channel: bool = False
    snapshot_size: str | None = None
    trickle_headers: float = 0.0
    tls_reset: int = 0
    position_decimals: int = 4
    # -- the world the cameras see (views.py) --
    depth_scale: float = 1.0
    noise: float = 0.01
    night: bool = False
    guard_tour: float = 0.0
    # -- what a real site does to the pictures and the PTZ --
    ptz_night: bool = False
    dusk: bool = False
    clock: float = 12.0
    sway: float = 0.0
    sway_period: float = 4.0
    traffic: bool = False
    click_zoom: float = 1.0
    integer_center: bool = False
    position_jitter: float = 0.0
    areazoom_error: float = 0.0
    frame_latency: float = 0.0
    head_lens: str = "radial"

    def update(self, values: dict) -> None:
        """Validate everything first, so a bad request changes nothing."""
        new = asdict(self)
        for key, value in values.items():
            if key not in new:
                raise ValueError(f"unknown setting {key!r}")
            new[key] = _checked(key, value)
        for key, value in new.items():
            setattr(self, key, value)


BOOLEANS = ("deprecated", "allow_basic", "http10", "ignore_post_body", "remote_url_slash", "deprecated_false",
            "discovery_link_local", "error_space", "param_prefix", "resolutions_per_channel", "night",
            "ptz_night", "dusk", "traffic", "integer_center")
SECONDS = ("connect_delay", "nonce_lifetime", "ptz_speed", "ptz_start_delay", "save_delay", "trickle_headers",
           "guard_tour", "frame_latency")
INTEGERS = {"tls_reset": (0, 1_000_000), "position_decimals": (0, 6)}
RANGES = {"depth_scale": (0.25, 4.0), "noise": (0.0, 0.2), "clock": (0.0, 24.0), "sway": (0.0, 1.0),
          "sway_period": (0.5, 600.0), "click_zoom": (1.0, 4.0), "position_jitter": (0.0, 1.0),
          "areazoom_error": (0.0, 0.3)}
HEAD_LENSES = ("radial", "fisheye")
# Where someone else's guard tour sends the PTZ, one stop per `guard_tour` seconds: (pan, tilt, zoom).
TOUR_STOPS = ((-120.0, -10.0, 1), (35.0, -25.0, 3000), (150.0, -5.0, 6000))
CHOICES = {
    "error_element": ERROR_ELEMENTS,
    "digest_algorithm": DIGEST_ALGORITHMS,
    "xml_preamble": tuple(XML_PREAMBLES),
    "current_target": CURRENT_TARGETS,
    "head_lens": HEAD_LENSES,
}
PARAM_NAME = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


def _checked(key: str, value: object) -> object:
    """The value a setting takes, or ValueError."""
    if key in BOOLEANS:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value
    if key in SECONDS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{key} must be a number >= 0")
        return float(value)
    if key in RANGES:
        low, high = RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{key} must be a number {low:g}..{high:g}")
        return float(value)
    if key in CHOICES:
        if value not in CHOICES[key]:
            raise ValueError(f"{key} must be one of {', '.join(CHOICES[key])}")
        return value
    if key in STATUSES:
        if isinstance(value, bool) or value not in STATUSES[key]:
            raise ValueError(f"{key} must be one of {', '.join(map(str, STATUSES[key]))}")
        return int(value)
    if key in INTEGERS:
        low, high = INTEGERS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{key} must be an integer {low}..{high}")
        return value
    if key == "auth_schemes":
        if (not isinstance(value, (list, tuple)) or not value or not all(v in AUTH_SCHEMES for v in value)
                or len(set(value)) != len(value)):
            raise ValueError(f"auth_schemes must be a non-empty list of {' and '.join(AUTH_SCHEMES)}, "
                             "each at most once")
        return tuple(value)
    if key == "snapshot_size":
        return _snapshot_size(value)
    if key == "ptz_start_zoom":
        if isinstance(value, bool) or not isinstance(value, int) or not LIMITS.min_zoom <= value <= LIMITS.max_zoom:
            raise ValueError(f"ptz_start_zoom must be an integer {LIMITS.min_zoom}..{LIMITS.max_zoom}")
        return value
    if key == "param_lacks":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError("param_lacks must be a list of parameter or group names")
        names = []
        for name in value:
            name = name[5:] if name.lower().startswith("root.") else name
            if not PARAM_NAME.match(name):
                raise ValueError(f"param_lacks: {name!r} is not a dotted parameter or group name")
            names.append(name)
        return tuple(names)
    raise ValueError(f"unknown setting {key!r}")


def _snapshot_size(value: object) -> str | None:
    """None (the size asked for) or a canonical `WxH`; null or an empty string is None."""
    if value is None or value == "":
        return None
    match = SNAPSHOT_SIZE.match(value) if isinstance(value, str) else None
    (wlow, whigh), (hlow, hhigh) = SNAPSHOT_LIMITS
    if match is None or not wlow <= int(match[1]) <= whigh or not hlow <= int(match[2]) <= hhigh:
        raise ValueError(f"snapshot_size must be WxH ({wlow}..{whigh} x {hlow}..{hhigh}), null or empty")
    return f"{int(match[1])}x{int(match[2])}"


def snapshot_size(settings: Settings) -> tuple[int, int] | None:
    """(width, height) every snapshot is answered at, or None for the size asked for."""
    if not settings.snapshot_size:
        return None
    width, _x, height = settings.snapshot_size.partition("x")
    return int(width), int(height)


def accepted_schemes(settings: Settings) -> frozenset[str]:
    """The authentication schemes a unit accepts: what it offers, plus Basic with `allow_basic`."""
    return frozenset(settings.auth_schemes) | ({"basic"} if settings.allow_basic else frozenset())


@dataclass
class Link:
    """The Q6000-E's connection parameters for its PTZ (setvapixparams.cgi).

    `host` is only used in manual mode; `httpport` None means "the PTZ's current HTTP port".
    """

    discoverymode: str = "auto"
    host: str | None = None
    httpport: int | None = None
    httpsport: int = PTZ_HTTPS_PORT
    rtspport: int = PTZ_RTSP_PORT
    username: str = "root"
    password: str | None = None


@dataclass
class Operator:
    """A person who takes the PTZ (`POST /emulator/operator`): where they send it (pan, tilt, zoom), when
    (`due`, monotonic seconds, or `pictures`, the PTZ pictures left to serve, while pending), whether they did,
    and how many commands moved it after."""

    pan: float | None = None
    tilt: float | None = None
    zoom: int | None = None
    due: float | None = None
    pictures: int | None = None
    happened: bool = False
    commands_after: int = 0
    timer: asyncio.TimerHandle | None = None


@dataclass
class Session:
    """An open calibration session: device-wide, never persisted (a reboot loses it)."""

    camera: int
    points: list[Point] = field(default_factory=list)
    target: tuple[float, float] | None = None


def mac_address(seed: str | int, number: int) -> str:
    """A stable, fleet-unique Axis-looking MAC (upper case, colons)."""
    salt = hashlib.sha256(f"mac:{seed}".encode()).digest()[0]
    return "AC:CC:8E:{:02X}:{:02X}:{:02X}".format(salt, (number >> 8) & 0xFF, number & 0xFF)


def same_host(a: str, b: str) -> bool:
    if a.lower() == b.lower():
        return True
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


class Endpoint:
    """One of the two devices of a unit as seen on the wire: its port, realm and accounts."""

    def __init__(self, unit: Unit, kind: str, mac: str, accounts: list[Account]) -> None:
        self.unit = unit
        self.kind = kind
        self.mac = mac
        self.port = 0
        self.auth = Authenticator(realm="AXIS_" + mac.replace(":", ""),
                                  accounts={a.name: a for a in accounts})

    @property
    def prefix(self) -> str:
        """How this endpoint's paths appear in counters and fault patterns."""
        return "ptz:" if self.kind == "ptz" else ""

    @property
    def base_url(self) -> str:
        """Where a client reaches this endpoint: the listen address, https when the twin runs with
        --tls (which puts every endpoint of the process behind TLS)."""
        host = self.unit.listen
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.unit.ptz_tls else 'http'}://{host}:{self.port}"

    @property
    def other(self) -> Endpoint:
        """The unit's other endpoint: the PTZ for the Q6000-E, the Q6000-E for the PTZ."""
        return self.unit.ptz if self.kind == "q6000" else self.unit.q6000


class Unit:
    """State of one Q6000-E + Q60-E pair."""

    def __init__(self, index: int, seed: str | int, listen: str, settings: Settings,
                 persist: Callable[[Unit], None] | None = None, *, tls: bool = False) -> None:
        self.index = index
        self.name = f"q6000-{index + 1:03d}"
        self.listen = listen
        self.ptz_tls = tls
        self.settings = settings
        self._persist = persist
        self.passwords = {
            "root": generate_password(seed, index, "root"),
            "operator": generate_password(seed, index, "operator"),
            "viewer": generate_password(seed, index, "viewer"),
            "ptz": generate_ptz_password(seed, index),
        }
        self.q6000 = Endpoint(self, "q6000", mac_address(seed, 2 * index), [
            Account("root", self.passwords["root"], "admin"),
            Account("operator", self.passwords["operator"], "operator"),
            Account("viewer", self.passwords["viewer"], "viewer"),
        ])
        self.ptz = Endpoint(self, "ptz", mac_address(seed, 2 * index + 1), [
            Account("root", self.passwords["ptz"], "admin"),
        ])
        self.physics = Physics.generate(seed, index)
        self.factory_mount = self.physics.mount
        self.world = World(seed, index, self.physics, settings)
        self.tour_stops = 0
        self._tour_next: float | None = None
        self.operator = Operator()
        # Seeds of the wobble of query=position and of an areazoom's error: the same commands since start
        # (or factory reset) give the same answers.
        self.areazooms = self.position_queries = 0
        self.calibrations: dict[int, Fit] = {}
        self.session: Session | None = None
        self.link = Link()
        self.link_changed = -math.inf
        self.motion = Motion(lambda: self.settings.ptz_speed, delay=lambda: self.settings.ptz_start_delay,
                             start_zoom=lambda: self.settings.ptz_start_zoom)
        self.counters: Counter = Counter()
        self.unauthorized = 0
        self.connections = 0
        self._seen: weakref.WeakSet = weakref.WeakSet()
        self.faults = FaultTable()

    # -- the link -------------------------------------------------------------------------

    @property
    def ipv4_address(self) -> str:
        """The devices' own IPv4 address on the site network: the listen address (127.0.0.1 for ::1)."""
        try:
            if ipaddress.ip_address(self.listen).version == 4:
                return self.listen
        except ValueError:
            pass
        return "127.0.0.1"

    @property
    def link_local_address(self) -> str:
        """The PTZ's address on its own link to the Q6000-E (169.254.0.0/16, unique in the fleet)."""
        return f"169.254.{1 + self.index // 250}.{1 + self.index % 250}"

    @property
    def discovered_host(self) -> str:
        """What auto discovery finds: the PTZ's link-local address, or its site address when
        `discovery_link_local` is off."""
        return self.link_local_address if self.settings.discovery_link_local else self.ipv4_address

    def link_host(self) -> str:
        if self.link.discoverymode == "auto" or not self.link.host:
            return self.discovered_host
        return self.link.host

    def link_httpport(self) -> int:
        return self.ptz.port if self.link.httpport is None else self.link.httpport

    def link_status(self) -> dict[str, int]:
        """Connection status per channel, as getvapixstatus.cgi reports it."""
        if time.monotonic() - self.link_changed < self.settings.connect_delay:
            return dict.fromkeys(("base", "http", "https", "rtsp"), 1)
        host = self.link_host()
        reaching = [self.listen, "localhost", "::1"]
        if self.settings.discovery_link_local:
            reaching.append(self.link_local_address)
        host_ok = self.link.discoverymode == "auto" or any(same_host(host, h) for h in reaching)
        authorized = self.link.username == "root" and self.link.password == self.passwords["ptz"]

        def channel(port: int, own: int) -> int:
            if not host_ok or port != own:
                return 2
            return 0 if authorized else 3

        http = channel(self.link_httpport(), self.ptz.port)
        return {"base": http, "http": http,
                "https": channel(self.link.httpsport, PTZ_HTTPS_PORT),
                "rtsp": channel(self.link.rtspport, PTZ_RTSP_PORT)}

    def set_link(self, link: Link) -> None:
        self.link = link
        self.link_changed = time.monotonic()
        self.persist()

    # -- someone else on the PTZ ----------------------------------------------------------

    def guard_tour(self) -> None:
        """With `guard_tour` > 0, someone else sends the PTZ to its next tour stop every that many
        seconds. Evaluated when a request arrives (a client sees the same as with a timer)."""
        period = self.settings.guard_tour
        now = time.monotonic()
        if period <= 0:
            self._tour_next = None
            return
        if self._tour_next is None:
            self._tour_next = now + period
            return
        if now >= self._tour_next:
            pan, tilt, zoom = TOUR_STOPS[self.tour_stops % len(TOUR_STOPS)]
            self.tour_stops += 1
            self.motion.move_to(pan, tilt)
            self.motion.zoom = zoom
            self._tour_next = now + period

    def take_ptz(self, after: float | None, pan: float, tilt: float, zoom: int, pictures: int | None = None) -> None:
        """A person sends the PTZ to (pan, tilt, zoom) `after` seconds from now, or as the PTZ serves its
        `pictures`-th picture from now, and leaves it there; replaces a pending one. Timed on the event loop
        (when there is one) so it happens on time with no request around; `operator_tick` also applies it
        lazily on every request, whichever comes first."""
        self.forget_operator()
        limits = self.motion.limits
        self.operator = Operator(limits.clamp_pan(pan), limits.clamp_tilt(tilt), limits.clamp_zoom(zoom),
                                 due=None if after is None else time.monotonic() + after, pictures=pictures)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None and after is not None and after > 0:
            operator = self.operator
            operator.timer = loop.call_later(after, self._operator_moves, operator)
        self.operator_tick()

    def operator_tick(self) -> None:
        """Make the person's move if it is due (called on every request to either device)."""
        if self.operator.due is not None and time.monotonic() >= self.operator.due:
            self._operator_moves(self.operator)

    def operator_picture(self) -> None:
        """The PTZ serves a picture: the person's move, when it waits for this one, starts before it is taken."""
        if self.operator.pictures is not None:
            self.operator.pictures -= 1
            if self.operator.pictures <= 0:
                self._operator_moves(self.operator)

    def _operator_moves(self, operator: Operator) -> None:
        if operator is not self.operator or (operator.due is None and operator.pictures is None):
            return
        if operator.timer is not None:
            operator.timer.cancel()
        operator.due, operator.pictures, operator.timer, operator.happened = None, None, None, True
        self.motion.move_to(operator.pan, operator.tilt)
        self.motion.zoom = operator.zoom

    def forget_operator(self) -> None:
        """No person any more: a pending move is cancelled, what happened is forgotten."""
        if self.operator.timer is not None:
            self.operator.timer.cancel()
        self.operator = Operator()

    def ptz_commanded(self) -> None:
        """A VAPIX command (on either device) moved the PTZ: counted once the person's move happened."""
        if self.operator.happened:
            self.operator.commands_after += 1

    def operator_state(self) -> dict:
        operator = self.operator
        ptz = None if operator.pan is None else {"pan": operator.pan, "tilt": operator.tilt, "zoom": operator.zoom}
        return {"pending": operator.due is not None or operator.pictures is not None,
                "happened": operator.happened, "ptz": ptz,
                "commands_after": operator.commands_after}

    # -- lifecycle ----------------------------------------------------------------------

    def persist(self) -> None:
        if self._persist is not None:
            self._persist(self)

    def knock(self, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> None:
        self.physics.knock(yaw, pitch, roll)
        self.persist()

    def reboot(self) -> None:
        """What a power cycle of the Q6000-E loses: the session, its nonces; the link reconnects."""
        self.session = None
        self.q6000.auth.forget_nonces()
        self.link_changed = time.monotonic()

    def factory_reset(self) -> None:
        self.session = None
        self.calibrations.clear()
        self.link = Link()
        self.link_changed = -math.inf
        self.physics.mount, self.physics.mount_pitch, self.physics.mount_roll = self.factory_mount, 0.0, 0.0
        self.motion.reset()
        self.forget_operator()
        self.areazooms = self.position_queries = 0
        self.persist()

    def take_tls_reset(self) -> bool:
        """Whether to reset the TLS handshake just starting (on either endpoint): uses one of `tls_reset`."""
        if self.settings.tls_reset <= 0:
            return False
        self.settings.tls_reset -= 1
        return True

    def saw_connection(self, transport: object) -> None:
        """Count a TCP connection at its first VAPIX request (control-only connections are not)."""
        if transport is not None and transport not in self._seen:
            self._seen.add(transport)
            self.connections += 1

    def reset_counters(self) -> None:
        """Zero the counters; connections already open are not counted again."""
        self.counters.clear()
        self.unauthorized = 0
        self.connections = 0
        self.faults.clear()

    # -- durable state ------------------------------------------------------------------

    def to_state(self) -> dict:
        return {
            "mac": self.q6000.mac,
            "ports": {"q6000": self.q6000.port, "ptz": self.ptz.port},
            "mount": self.physics.mount_json(),
            "calibrations": {str(k): v.to_json() for k, v in sorted(self.calibrations.items())},
            "link": asdict(self.link),
        }

    def load_state(self, data: dict) -> None:
        """Restore what the device keeps over a reboot; ignore a file of another device."""
        if data.get("mac") != self.q6000.mac:
            return
        mount = data.get("mount", self.physics.mount_json())
        if not isinstance(mount, dict):  # the old shape: the yaw alone
            mount = {"yaw": mount}
        self.physics.mount = float(mount.get("yaw", self.physics.mount))
        self.physics.mount_pitch = float(mount.get("pitch", 0.0))
        self.physics.mount_roll = float(mount.get("roll", 0.0))
        self.calibrations = {int(k): Fit.from_json(v) for k, v in data.get("calibrations", {}).items()
                             if 1 <= int(k) <= NBR_OF_HEADS}
        link = data.get("link") or {}
        self.link = Link(**{k: v for k, v in link.items() if k in Link.__dataclass_fields__})

    # -- the control API's view ---------------------------------------------------------

    def snapshot(self) -> dict:
        pan, tilt = self.motion.position()
        session = None
        if self.session is not None:
            session = {"camera": self.session.camera, "points": len(self.session.points),
                       "current_target": list(self.session.target) if self.session.target else None}
        link = asdict(self.link)
        link.pop("password")
        link.update(host=self.link_host(), httpport=self.link_httpport(),
                    password_set=self.link.password is not None)
        return {
            "session": session,
            "calibrated": {str(n): n in self.calibrations for n in range(1, NBR_OF_HEADS + 1)},
            "link": link,
            "status": self.link_status()["base"],
            "ptz": {"pan": pan, "tilt": tilt, "zoom": self.motion.zoom, "moving": self.motion.moving,
                    "tour_stops": self.tour_stops},
            "mount_offset": self.physics.mount,
            "mount": self.physics.mount_json(),
        }
