"""The control API (`/emulator/...` on every Q6000-E endpoint): test-only, JSON, loopback only.

It lets a test see the truth (true pan/tilt of a pixel, counters, state) and change the world
(faults, knocks, settings) without going through VAPIX.
"""

from __future__ import annotations

import ipaddress
import json
import math
from dataclasses import asdict

from aiohttp import web

from .device import Unit
from .optics import MAX_KNOCK_LEAN, NBR_OF_HEADS


class ControlError(Exception):
    pass


def is_loopback(remote: str | None) -> bool:
    try:
        address = ipaddress.ip_address((remote or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


def _number(value: object, name: str, low: float | None = None, high: float | None = None) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be a number") from None
    if math.isnan(number) or (low is not None and number < low) or (high is not None and number > high):
        raise ControlError(f"{name} out of range")
    return number


def _camera(value: object) -> int:
    camera = _number(value, "camera", 1, NBR_OF_HEADS)
    if camera != int(camera):
        raise ControlError("camera must be 1..4")
    return int(camera)


def _pixel(x: object, y: object) -> tuple[float, float]:
    return _number(x, "x", -1.0, 1.0), _number(y, "y", -1.0, 1.0)


def truth(unit: Unit, request: web.Request, payload: dict) -> dict:
    """GET ?camera=N&x=X&y=Y: where the PTZ must look to centre what that pixel sees (parallax
    included), how far that is (metres from the heads, null for the sky) and the pixel's ray direction
    (`views.World.truths`). POST {"camera": N, "pixels": [[x, y], ...]}: the same for many pixels at
    once, as {"points": [...]}."""
    if request.method == "GET":
        query = request.query
        return unit.world.truths(_camera(query.get("camera")), [_pixel(query.get("x"), query.get("y"))])[0]
    unknown = set(payload) - {"camera", "pixels"}
    if unknown:
        raise ControlError(f"unknown field {sorted(unknown)[0]!r}")
    camera = _camera(payload.get("camera"))
    pixels = payload.get("pixels")
    if not isinstance(pixels, list) or not 1 <= len(pixels) <= 10000 or not all(
            isinstance(p, list) and len(p) == 2 for p in pixels):
        raise ControlError("pixels must be a list of 1..10000 [x, y] pairs")
    return {"points": unit.world.truths(camera, [_pixel(x, y) for x, y in pixels])}


def counters(unit: Unit, request: web.Request, payload: dict) -> dict:
    return {"cgi": dict(unit.counters), "unauthorized": unit.unauthorized, "connections": unit.connections}


def reset(unit: Unit, request: web.Request, payload: dict) -> dict:
    unit.reset_counters()
    return counters(unit, request, payload)


def factory_reset(unit: Unit, request: web.Request, payload: dict) -> dict:
    unit.factory_reset()
    return unit.snapshot()


def fault(unit: Unit, request: web.Request, payload: dict) -> dict:
    unknown = set(payload) - {"cgi", "kind", "count", "seconds"}
    if unknown:
        raise ControlError(f"unknown field {sorted(unknown)[0]!r}")
    try:
        unit.faults.arm(payload.get("cgi", "*"), payload.get("kind", ""), payload.get("count", 1),
                        payload.get("seconds"))
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return {"armed": unit.faults.armed()}


def faults(unit: Unit, request: web.Request, payload: dict) -> dict:
    return {"armed": unit.faults.armed()}


KNOCK_FIELDS = ("yaw", "degrees", "pitch", "roll")
KNOCK_TOLERANCE = 1e-9


def knock(unit: Unit, request: web.Request, payload: dict) -> dict:
    """{"yaw": d, "pitch": d, "roll": d} (each optional, `degrees` another name for yaw): turns the Q6000-E
    against the PTZ about the PTZ's axes, added to earlier knocks (`optics.Physics.knock`). Pitch and roll
    stay within +-MAX_KNOCK_LEAN in all (give or take KNOCK_TOLERANCE, so steps that add up to the limit
    are not refused for their rounding); the 52 rule allows for the lean they make."""
    unknown = set(payload) - set(KNOCK_FIELDS)
    if unknown:
        raise ControlError(f"unknown field {sorted(unknown)[0]!r}")
    if "yaw" in payload and "degrees" in payload:
        raise ControlError("give yaw or degrees, not both")
    for name in KNOCK_FIELDS:
        value = payload.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ControlError(f"{name} must be a number")
    yaw_name = "degrees" if "degrees" in payload else "yaw"
    yaw = _number(payload.get(yaw_name, 0.0), yaw_name, -360.0, 360.0)
    physics = unit.physics
    for name, now in (("pitch", physics.mount_pitch), ("roll", physics.mount_roll)):
        if name in payload and abs(now + payload[name]) > MAX_KNOCK_LEAN + KNOCK_TOLERANCE:
            raise ControlError(f"{name} out of range: the mount's {name} would be {now + payload[name]:g} "
                               f"(at most +-{MAX_KNOCK_LEAN:g} in all)")
    unit.knock(yaw, float(payload.get("pitch", 0.0)), float(payload.get("roll", 0.0)))
    return {"mount_offset": physics.mount, "mount": physics.mount_json()}


def settings(unit: Unit, request: web.Request, payload: dict) -> dict:
    if request.method == "POST":
        try:
            unit.settings.update(payload)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        if "ptz_start_zoom" in payload:
            unit.motion.zoom = unit.settings.ptz_start_zoom
        if "clock" in payload:
            unit.world.site.set_clock()
    return asdict(unit.settings)


def state(unit: Unit, request: web.Request, payload: dict) -> dict:
    return {**unit.snapshot(), "clock": round(unit.world.site.hours(), 6)}


OPERATOR_FIELDS = ("pan", "tilt", "zoom")
OPERATOR_WHEN = ("after", "after_pictures")


def operator(unit: Unit, request: web.Request, payload: dict) -> dict:
    """POST {"after": s, "pan": p, "tilt": t, "zoom": z}: a person sends the PTZ there `after` seconds from now
    (or, with "after_pictures": n instead of "after", as the PTZ serves its n-th picture from now) and leaves it
    (replaces a pending one). GET (and the POST's answer): {"pending", "happened", "ptz", "commands_after"}."""
    if request.method == "POST":
        unknown = set(payload) - set(OPERATOR_FIELDS) - set(OPERATOR_WHEN)
        if unknown:
            raise ControlError(f"unknown field {sorted(unknown)[0]!r}")
        missing = [name for name in OPERATOR_FIELDS if name not in payload]
        if missing:
            raise ControlError(f"{missing[0]} is required")
        if sum(name in payload for name in OPERATOR_WHEN) != 1:
            raise ControlError("give exactly one of after and after_pictures")
        for name in (*OPERATOR_FIELDS, *OPERATOR_WHEN):
            if name in payload and (isinstance(payload[name], bool) or not isinstance(payload[name], (int, float))):
                raise ControlError(f"{name} must be a number")
        limits = unit.motion.limits
        zoom = payload["zoom"]
        if not isinstance(zoom, int) or not limits.min_zoom <= zoom <= limits.max_zoom:
            raise ControlError(f"zoom must be an integer {limits.min_zoom}..{limits.max_zoom}")
        pictures = payload.get("after_pictures")
        if pictures is not None and (not isinstance(pictures, int) or not 1 <= pictures <= 100000):
            raise ControlError("after_pictures must be an integer 1..100000")
        after = None if "after" not in payload else _number(payload["after"], "after", 0.0, 86400.0)
        unit.take_ptz(after, _number(payload["pan"], "pan", -180.0, 180.0),
                      _number(payload["tilt"], "tilt", limits.min_tilt, limits.max_tilt), zoom, pictures)
    return unit.operator_state()


ROUTES = {
    ("GET", "/truth"): truth,
    ("POST", "/truth"): truth,
    ("GET", "/counters"): counters,
    ("POST", "/reset"): reset,
    ("POST", "/factory_reset"): factory_reset,
    ("POST", "/fault"): fault,
    ("GET", "/faults"): faults,
    ("POST", "/knock"): knock,
    ("GET", "/settings"): settings,
    ("POST", "/settings"): settings,
    ("GET", "/state"): state,
    ("GET", "/operator"): operator,
    ("POST", "/operator"): operator,
}


async def handle(unit: Unit, request: web.Request) -> web.Response:
    if not is_loopback(request.remote):
        return _json({"error": "the control API answers loopback clients only"}, 403)
    route = ROUTES.get((request.method, request.path[len("/emulator"):].rstrip("/") or "/"))
    if route is None:
        return _json({"error": f"no control request {request.method} {request.path}"}, 404)
    payload: object = {}
    if request.method == "POST":
        body = await request.read()
        if body.strip():
            try:
                payload = json.loads(body)
            except ValueError:
                return _json({"error": "the body must be a JSON object"}, 400)
    if not isinstance(payload, dict):
        return _json({"error": "the body must be a JSON object"}, 400)
    unit.operator_tick()
    try:
        return _json(route(unit, request, payload))
    except ControlError as exc:
        return _json({"error": str(exc)}, 400)
