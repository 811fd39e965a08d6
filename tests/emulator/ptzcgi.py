"""`/axis-cgi/com/ptz.cgi` on both devices.

On the PTZ it moves and reports; on the Q6000-E (an overview device, stationary) it only turns
a click in a head's image into a move of the PTZ, through that head's saved calibration.
Errors are 200 text/plain `Error: ...`, a successful move is 204, as on Axis firmware.

The PTZ's own `center=` (and `areazoom=`) turns a pixel of its current picture into angles
approximately, as VAPIX says: the offset from the centre is taken linear in angle (x half the field
of view at the edge, not atan) and the pan step is divided by cos(tilt). That is exact at the centre,
on the axes' edges and for small offsets, and up to about 1.2 degrees off midway at the wide end, so a
client that must land on a pixel iterates.

Site settings (README, "The site"): `click_zoom` zooms the PTZ in beyond what a click through the Q6000-E
asks, `integer_center` takes whole pixels of a real stream size only, `position_jitter` wobbles the position
reported at rest, `areazoom_error` makes an areazoom's zoom approximate.
"""

from __future__ import annotations

import math
import random
import re

from aiohttp import web

from .device import Unit
from .optics import NBR_OF_HEADS, wrap180
from .params import RESOLUTION, RESOLUTIONS
from .xmlapi import number

PTZ_ARGUMENTS = {"camera", "pan", "tilt", "rpan", "rtilt", "zoom", "rzoom", "move", "query", "center", "areazoom",
                 "imagewidth", "imageheight"}
OVERVIEW_ARGUMENTS = {"camera", "center", "areazoom", "imagewidth", "imageheight"}
CLICK_ARGUMENTS = {"center", "areazoom"}
SIZE_ARGUMENTS = {"imagewidth", "imageheight"}
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
INTEGER = re.compile(r"^[+-]?[0-9]+$")
DEFAULT_WIDTH, DEFAULT_HEIGHT = (int(v) for v in RESOLUTION.split("x"))
# The largest picture either device streams (heads and PTZ list the same resolutions): with `integer_center`
# a click's imagewidth/imageheight may not exceed it.
SIZES = [tuple(int(v) for v in r.split("x")) for r in RESOLUTIONS]
LARGEST = (max(w for w, _h in SIZES), max(h for _w, h in SIZES))


class PtzError(Exception):
    pass


def error(message: str, space: bool = True) -> web.Response:
    """The text error answer; without `space` (setting `error_space` off) `Error:<message>`."""
    return web.Response(text=f"Error:{' ' if space else ''}{message}\n", content_type="text/plain")


def moved() -> web.Response:
    return web.Response(status=204)


def _float(name: str, text: str) -> float:
    if not NUMBER.match(text.strip()) or not math.isfinite(float(text)):
        raise PtzError(f"{name}: invalid value: {text}")
    return float(text)


def _numbers(name: str, text: str, count: int) -> list[float]:
    parts = text.split(",")
    if len(parts) != count:
        raise PtzError(f"{name}: expected {count} comma-separated numbers: {text}")
    return [_float(name, p) for p in parts]


def _unknown(args: dict[str, str], allowed: set[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise PtzError(f"{unknown[0]}: unknown argument")


def on_ptz(unit: Unit, args: dict[str, str]) -> web.Response:
    try:
        return _on_ptz(unit, args)
    except PtzError as exc:
        return error(str(exc), unit.settings.error_space)


def _on_ptz(unit: Unit, args: dict[str, str]) -> web.Response:
    _unknown(args, PTZ_ARGUMENTS)
    if args.get("camera", "1") != "1":
        raise PtzError(f"camera: invalid value: {args['camera']}")
    motion, limits = unit.motion, unit.motion.limits
    if args.keys() & (CLICK_ARGUMENTS | SIZE_ARGUMENTS):
        return _on_ptz_click(unit, args)
    commands = set(args) - {"camera"}
    if "query" in args:
        if commands != {"query"}:
            raise PtzError("query cannot be combined with other commands")
        if args["query"] == "position":
            pan, tilt = motion.position()
            jitter = unit.settings.position_jitter
            if jitter > 0 and not motion.moving:
                unit.position_queries += 1
                rng = random.Random(f"jitter:{unit.q6000.mac}:{unit.position_queries}")
                pan = wrap180(pan + rng.uniform(-jitter, jitter))
                tilt = limits.clamp_tilt(tilt + rng.uniform(-jitter, jitter))
            digits = unit.settings.position_decimals
            return web.Response(text=(
                f"pan={number(pan, digits)}\ntilt={number(tilt, digits)}\nzoom={motion.zoom}\n"
                "iris=6427\nfocus=8265\nautofocus=on\nautoiris=on\n"), content_type="text/plain")
        if args["query"] == "limits":
            return web.Response(text=(
                f"MinPan={limits.min_pan:g}\nMaxPan={limits.max_pan:g}\n"
                f"MinTilt={limits.min_tilt:g}\nMaxTilt={limits.max_tilt:g}\n"
                f"MinZoom={limits.min_zoom}\nMaxZoom={limits.max_zoom}\n"
                f"MinFieldAngle={limits.min_field_angle}\nMaxFieldAngle={limits.max_field_angle}\n"),
                content_type="text/plain")
        raise PtzError(f"query: unknown value: {args['query']}")
    if "move" in args:
        if commands != {"move"}:
            raise PtzError("move cannot be combined with other commands")
        if args["move"] == "home":
            motion.home()
            unit.ptz_commanded()
        elif args["move"] == "stop":
            motion.stop()
        else:
            raise PtzError(f"move: unknown value: {args['move']}")
        return moved()
    if not commands:
        raise PtzError("no command given")
    for absolute, relative in (("pan", "rpan"), ("tilt", "rtilt"), ("zoom", "rzoom")):
        if absolute in args and relative in args:
            raise PtzError(f"{absolute} and {relative} cannot be combined")
    values = {name: _float(name, args[name]) for name in commands}
    pan, tilt = motion.target
    if "pan" in values:
        pan = limits.clamp_pan(values["pan"])
    elif "rpan" in values:
        pan = wrap180(pan + max(-360.0, min(360.0, values["rpan"])))
    if "tilt" in values:
        tilt = values["tilt"]
    elif "rtilt" in values:
        tilt = tilt + max(-360.0, min(360.0, values["rtilt"]))
    if "zoom" in values:
        motion.zoom = limits.clamp_zoom(values["zoom"])
    elif "rzoom" in values:
        motion.zoom = limits.clamp_zoom(motion.zoom + values["rzoom"])
    if commands & {"pan", "rpan", "tilt", "rtilt"}:
        motion.move_to(pan, tilt)
    unit.ptz_commanded()
    return moved()


def _click(args: dict[str, str], integers: bool = False) -> tuple[float, float, float | None, int, int]:
    """(normalized x, y, areazoom's zoom or None, width, height) of a center= or areazoom= request. With
    `integers` (setting `integer_center`) the coordinates and the zoom must be integers and the image size no
    larger than the largest resolution streamed."""
    if ("center" in args) == ("areazoom" in args):
        raise PtzError("give exactly one of center and areazoom")
    size = []
    for name, default, largest in (("imagewidth", DEFAULT_WIDTH, LARGEST[0]),
                                   ("imageheight", DEFAULT_HEIGHT, LARGEST[1])):
        text = args.get(name, str(default))
        if not re.fullmatch(r"[0-9]{1,5}", text) or int(text) < 1:
            raise PtzError(f"{name}: invalid value: {text}")
        if integers and int(text) > largest:
            raise PtzError(f"{name}: invalid value: {text} (at most {largest})")
        size.append(int(text))
    width, height = size
    name = "center" if "center" in args else "areazoom"
    if integers and not all(INTEGER.match(part.strip()) for part in args[name].split(",")):
        raise PtzError(f"{name}: invalid value: {args[name]} (integers expected)")
    if "center" in args:
        px, py = _numbers("center", args["center"], 2)
        zoom = None
    else:
        px, py, zoom = _numbers("areazoom", args["areazoom"], 3)
        if zoom < 1:
            raise PtzError(f"areazoom: zoom must be >= 1: {args['areazoom']}")
    if not (0 <= px <= width and 0 <= py <= height):
        raise PtzError(f"{name}: coordinates outside the {width}x{height} image: {args[name]}")
    return 2.0 * px / width - 1.0, 1.0 - 2.0 * py / height, zoom, width, height


def _click_zoom(unit: Unit, device: str, area: float | None, text: str, factor: float = 1.0) -> int | None:
    """The zoom step a click lands at, None to keep the zoom. An areazoom multiplies the magnification by Z/100
    and by a factor uniform in 1 +- `areazoom_error` (seeded per unit and per command: the unit's MAC, its count
    of areazooms, the device and the argument); then the field of view is divided by `factor` (the Q6000-E's
    `click_zoom`)."""
    if area is None and factor == 1.0:
        return None
    limits = unit.motion.limits
    magnification = limits.magnification(unit.motion.zoom)
    if area is not None:
        unit.areazooms += 1
        magnification *= area / 100.0
        error = unit.settings.areazoom_error
        if error > 0:
            rng = random.Random(f"areazoom:{unit.q6000.mac}:{unit.areazooms}:{device}:{text}")
            magnification *= 1.0 + rng.uniform(-error, error)
    if factor != 1.0:
        wide = math.tan(math.radians(limits.max_field_angle / 20.0))
        field = 2.0 * math.degrees(math.atan(wide / magnification)) / factor
        magnification = wide / math.tan(math.radians(field / 2.0))
    return limits.zoom_for(magnification)


def _on_ptz_click(unit: Unit, args: dict[str, str]) -> web.Response:
    """The PTZ centres on a pixel of its own picture (approximately: see the module docstring)."""
    others = sorted(set(args) - CLICK_ARGUMENTS - SIZE_ARGUMENTS - {"camera"})
    if others:
        raise PtzError(f"{others[0]} cannot be combined with center or areazoom")
    x, y, zoom, width, height = _click(args, unit.settings.integer_center)
    motion, limits = unit.motion, unit.motion.limits
    pan, tilt = motion.position()
    half_h = limits.field_angle(motion.zoom) / 2.0
    half_v = math.degrees(math.atan(math.tan(math.radians(half_h)) * height / width))
    dpan = x * half_h / max(0.1, math.cos(math.radians(tilt)))
    motion.move_to(wrap180(pan + dpan), tilt + y * half_v)
    new_zoom = _click_zoom(unit, "ptz", zoom, args.get("areazoom", ""))
    if new_zoom is not None:
        motion.zoom = new_zoom
    unit.ptz_commanded()
    return moved()


def on_overview(unit: Unit, args: dict[str, str]) -> web.Response:
    try:
        return _on_overview(unit, args)
    except PtzError as exc:
        return error(str(exc), unit.settings.error_space)


def _on_overview(unit: Unit, args: dict[str, str]) -> web.Response:
    _unknown(args, OVERVIEW_ARGUMENTS)
    camera_text = args.get("camera", "1")
    if not re.fullmatch(r"[0-9]{1,3}", camera_text) or not 1 <= int(camera_text) <= NBR_OF_HEADS:
        raise PtzError(f"camera: invalid value: {camera_text}")
    camera = int(camera_text)
    x, y, zoom, _width, _height = _click(args, unit.settings.integer_center)
    calibration = unit.calibrations.get(camera)
    if calibration is None:
        raise PtzError(f"camera {camera} is not calibrated")
    if unit.link_status()["base"] != 0:
        raise PtzError("no connection to the remote camera")
    pan, tilt = calibration.direction(x, y)
    unit.motion.move_to(pan, tilt)
    new_zoom = _click_zoom(unit, f"q6000:{camera}", zoom, args.get("areazoom", ""), unit.settings.click_zoom)
    if new_zoom is not None:
        unit.motion.zoom = new_zoom
    unit.ptz_commanded()
    return moved()
