"""Remote PT coordinate calibration API (`/axis-cgi/ptremotecalibration/`).

One session per device. Pairs are judged against the device's nominal knowledge (52), the
saved fit must explain every pair within half a degree (51), and a failed save or an abort
leaves the head's previous calibration in place. The firmware knows its heads' lens family
(`head_lens`), so all three go through it, and the saved fit keeps it. The 52 rule allows for the
mount's actual lean from knocks (none for an unknocked unit).
"""

from __future__ import annotations

from .device import Session, Unit
from .optics import FIT_LIMIT, MATCH_LIMIT, MIN_POINTS, NBR_OF_HEADS, Point, fit, match_error, predict
from .ptz import LIMITS
from .xmlapi import ApiError, check_arguments, element, number, parse_float, parse_int, schemaversions


def _session(unit: Unit) -> Session:
    if unit.session is None:
        raise ApiError(54)
    return unit.session


def start(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, {"camera"})
    camera = parse_int(args, "camera", 1, NBR_OF_HEADS) or 1
    if unit.session is not None:
        raise ApiError(50, f"A calibration of camera {unit.session.camera} is ongoing.")
    unit.session = Session(camera=camera)
    return element("GeneralSuccess")


def abort(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, set())
    _session(unit)
    unit.session = None
    return element("GeneralSuccess")


def selecttarget(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, {"x", "y"})
    x = parse_float(args, "x", -1.0, 1.0)
    y = parse_float(args, "y", -1.0, 1.0)
    if x is None or y is None:
        raise ApiError(20, "Both x and y are required.")
    session = _session(unit)
    session.target = (x, y)
    if not session.points:
        return element("GeneralSuccess")
    pan, tilt = predict(session.camera, x, y, session.points, unit.settings.head_lens)
    return element("SelectTargetSuccess", {"Pan": number(pan), "Tilt": number(tilt)})


def ontarget(unit: Unit, args: dict[str, str]) -> str:
    """Pair the selected pixel with the given pan/tilt, or with the PTZ position the unit tracks."""
    check_arguments(args, {"pan", "tilt"})
    pan = parse_float(args, "pan", LIMITS.min_pan, LIMITS.max_pan)
    tilt = parse_float(args, "tilt", LIMITS.min_tilt, LIMITS.max_tilt)
    if (pan is None) != (tilt is None):
        raise ApiError(20, "pan and tilt must be given together.")
    session = _session(unit)
    if session.target is None:
        raise ApiError(53)
    if pan is None or tilt is None:
        if unit.link_status()["base"] != 0:
            raise ApiError(10, "The position of the remote camera is unknown: no connection.")
        pan, tilt = unit.motion.position()
    x, y = session.target
    error = match_error(session.camera, x, y, pan, tilt, session.points, unit.settings.head_lens,
                        unit.physics.mount_lean)
    if error > MATCH_LIMIT:
        raise ApiError(52, f"Pan/tilt is {error:.1f} degrees from where camera {session.camera} sees the target.")
    session.points.append(Point(x, y, pan, tilt))
    session.target = None
    return element("GeneralSuccess")


def save(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, set())
    session = _session(unit)
    unit.session = None
    if len(session.points) < MIN_POINTS:
        raise ApiError(51, f"{len(session.points)} point(s); at least {MIN_POINTS} are needed.")
    result = fit(session.camera, session.points, unit.settings.head_lens)
    if result.residual > FIT_LIMIT:
        raise ApiError(51, f"Worst point is {result.residual:.2f} degrees off the fit.")
    unit.calibrations[session.camera] = result
    unit.persist()
    return element("GeneralSuccess")


def getinformation(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, set())
    session = _session(unit)
    body: dict = {"Camera": str(session.camera)}
    if session.target is not None:
        body["CurrentTarget"] = {"X": number(session.target[0], 6),
                                 "Y": number(session.target[1], 6)}
    elif unit.settings.current_target == "zero":
        body["CurrentTarget"] = {"X": "0", "Y": "0"}
    elif unit.settings.current_target == "empty":
        body["CurrentTarget"] = None
    return element("GetInformationSuccess", body)


def iscalibrated(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, set())
    return element("IsCalibratedSuccess", [
        {"Camera": {"Id": str(n), "Calibrated": "1" if n in unit.calibrations else "0"}}
        for n in range(1, NBR_OF_HEADS + 1)
    ])


CGIS = {
    "start.cgi": ("admin", start),
    "abort.cgi": ("admin", abort),
    "selecttarget.cgi": ("admin", selecttarget),
    "ontarget.cgi": ("admin", ontarget),
    "save.cgi": ("admin", save),
    "getinformation.cgi": ("admin", getinformation),
    "iscalibrated.cgi": ("admin", iscalibrated),
    "schemaversions.cgi": ("admin", schemaversions),
}
