# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""remote_calibration: point sets per head applied in sessions that never outlive the module.

A calibration session is device-wide state: once this code has started one, every way out (an error, a
fault, an interrupt) goes through abort, so the device is never left answering 50 to the next client and the
head keeps its previously saved calibration.
"""

from __future__ import annotations

import math

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.vapix.q6000.plugins.module_utils._image_options import (
    BASELINE_MIN_PAIRS,
    BASELINE_PAIRS,
    IMAGE_ARGUMENT_SPEC,
    check_image_options,
)
from ansible_collections.vapix.q6000.plugins.module_utils._connection import check_number
from ansible_collections.vapix.q6000.plugins.module_utils._interrupts import reporting, shielded
from ansible_collections.vapix.q6000.plugins.module_utils.facts import read_calibrated, read_session
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import angular_distance, worst_points, wrap180
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import (
    connect,
    limits,
    number,
    overview_click,
    position,
    put_back,
    settled_position,
)
from ansible_collections.vapix.q6000.plugins.module_utils._api_data import PT_REMOTE_CALIBRATION
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    DeviceError,
    DriftError,
    Interrupted,
    PtzMovedError,
    SessionBusyError,
    TransportError,
    UnexpectedAnswerError,
    UnroutablePtzError,
    ValidationError,
    VapixError,
)

POINT_SPEC = dict(
    x=dict(type="float", required=True),
    y=dict(type="float", required=True),
    pan=dict(type="float", required=True),
    tilt=dict(type="float", required=True),
    score=dict(type="float"),  # calibration_capture's confidence; ignored
)


ARGUMENT_SPEC = dict(
    heads=dict(type="list", elements="dict", required=True, options=dict(
        camera=dict(type="int", required=True),
        points=dict(type="list", elements="dict", required=True, options=POINT_SPEC),
        # [[x, y, pan, tilt], ...] (correspondences), or the older {pan, tilt} (a mean offset): checked below.
        baseline=dict(type="raw"),
    )),
    recalibrate=dict(type="str", default="when_uncalibrated", choices=["when_uncalibrated", "always", "when_drifted"]),
    min_points=dict(type="int", default=4),
    abort_ongoing=dict(type="bool", default=False),
    drift_method=dict(type="str", default="points", choices=["points", "image"]),
    drift_tolerance=dict(type="float"),
    recapture=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(IMAGE_ARGUMENT_SPEC)
DRIFT_TOLERANCE = {"points": 1.0, "image": 0.15}  # degrees: the default of drift_tolerance, per drift_method

DEVICE_MIN_POINTS = 3
SAME_PIXEL = 1e-3  # normalized units: about one pixel of a 1920x1080 head
LINE_SPREAD = 0.02  # normalized units: points closer than this to one line do not fix roll and field of view


def _collinear_spread(points):
    """Root-mean-square distance of the points from their best-fitting line."""
    n = len(points)
    mx = sum(p["x"] for p in points) / n
    my = sum(p["y"] for p in points) / n
    sxx = sum((p["x"] - mx) ** 2 for p in points) / n
    syy = sum((p["y"] - my) ** 2 for p in points) / n
    sxy = sum((p["x"] - mx) * (p["y"] - my) for p in points) / n
    smallest = (sxx + syy) / 2 - math.sqrt(((sxx - syy) / 2) ** 2 + sxy ** 2)
    return math.sqrt(max(smallest, 0.0))


def _image_work():
    """The image work (the image drift check, numpy, OpenCV), loaded only by a task that uses it."""
    from ansible_collections.vapix.q6000.plugins.module_utils.vision import drift

    return drift


def _tolerance(params):
    tolerance = params.get("drift_tolerance")
    return DRIFT_TOLERANCE[params["drift_method"]] if tolerance is None else tolerance


def validate(params):
    """Refuse bad point sets before any request; every message names the head and the point."""
    check_number("drift_tolerance", _tolerance(params), 0.01, 45)
    images = params["drift_method"] == "image"
    if params["recapture"] and not (images and params["recalibrate"] == "when_drifted"):
        raise ValidationError("recapture: true captures new points for a head the image drift check flagged: it "
                              "needs recalibrate=when_drifted and drift_method=image")
    if images:
        check_image_options(params)
        if not (params.get("remote_username") and params.get("remote_password")):
            raise ValidationError("drift_method: image aims the PTZ and reads its pictures, so it needs "
                                  "remote_username and remote_password (the PTZ's account)")
        for name, present, _traceback in _image_work().LIBRARIES:
            if not present:
                raise ValidationError("drift_method: image needs %s; %s" % (name, missing_required_lib(name)))
    min_points = params["min_points"]
    if min_points < DEVICE_MIN_POINTS:
        raise ValidationError("min_points: %s is below %d, the fewest points the device can fit"
                              % (min_points, DEVICE_MIN_POINTS))
    heads = params["heads"]
    if not heads:
        raise ValidationError("heads: give at least one head with its points")
    account = params.get("remote_username") and params.get("remote_password")
    if params["recalibrate"] == "when_drifted" and not account:
        raise ValidationError("recalibrate: when_drifted reads the PTZ's position, so it needs remote_username "
                              "and remote_password (the PTZ's account)")
    if bool(params.get("remote_username")) != bool(params.get("remote_password")):
        raise ValidationError("remote_username and remote_password go together (the PTZ's account)")
    seen = {}
    for h, head in enumerate(heads):
        where = "heads[%d]" % h
        camera = head["camera"]
        if camera < 1:
            raise ValidationError("%s.camera: %s is not a camera head number (1..)" % (where, camera))
        if camera in seen:
            raise ValidationError("%s.camera: camera %s is already given in heads[%d]" % (where, camera, seen[camera]))
        seen[camera] = h
        points = head["points"]
        if len(points) < min_points:
            raise ValidationError("%s.points (camera %s): %d point(s), at least min_points=%d are needed"
                                  % (where, camera, len(points), min_points))
        for i, point in enumerate(points):
            at = "%s.points[%d] (camera %s)" % (where, i, camera)
            check_number(at + ".x", point["x"], -1.0, 1.0)
            check_number(at + ".y", point["y"], -1.0, 1.0)
            check_number(at + ".pan", point["pan"])
            check_number(at + ".tilt", point["tilt"], -90.0, 90.0)
            for j in range(i):
                other = points[j]
                if abs(other["x"] - point["x"]) < SAME_PIXEL and abs(other["y"] - point["y"]) < SAME_PIXEL:
                    raise ValidationError("%s: the same pixel as point %d (%s, %s)" % (at, j, point["x"], point["y"]))
        if head.get("baseline"):
            _check_baseline(where + ".baseline", head["baseline"])
        spread = _collinear_spread(points)
        if spread < LINE_SPREAD:
            raise ValidationError("%s.points (camera %s): all points lie on one line (spread %.4f); the device "
                                  "cannot solve the head's roll and field of view from them, add a point off "
                                  "that line" % (where, camera, spread))


def _check_baseline(where, baseline):
    """A baseline is a list of at most BASELINE_PAIRS [x, y, pan, tilt] or, as kept before, {pan, tilt}."""
    if isinstance(baseline, dict):
        unknown = sorted(set(baseline) - {"pan", "tilt"})
        if unknown or set(baseline) != {"pan", "tilt"}:
            raise ValidationError("%s: a mean offset baseline is {pan, tilt}, not %s" % (where, sorted(baseline)))
        for name in ("pan", "tilt"):
            check_number("%s.%s" % (where, name), baseline[name], -45.0, 45.0)
        return
    if not isinstance(baseline, list) or not BASELINE_MIN_PAIRS <= len(baseline) <= BASELINE_PAIRS:
        raise ValidationError("%s: a list of %d to %d [x, y, pan, tilt] (or the older {pan, tilt}), not %s"
                              % (where, BASELINE_MIN_PAIRS, BASELINE_PAIRS,
                                 type(baseline).__name__ if not isinstance(baseline, list)
                                 else "%d entries" % len(baseline)))
    for i, pair in enumerate(baseline):
        at = "%s[%d]" % (where, i)
        if not isinstance(pair, (list, tuple)) or len(pair) != 4:
            raise ValidationError("%s: [x, y, pan, tilt], not %r" % (at, pair))
        for name, value, low, high in zip(("x", "y", "pan", "tilt"), pair, (-1.0, -1.0, -360.0, -90.0),
                                          (1.0, 1.0, 360.0, 90.0)):
            check_number("%s.%s" % (at, name), value, low, high)


def _check_limits(heads, bounds):
    full_turn = bounds["MaxPan"] - bounds["MinPan"] >= 360.0
    for h, head in enumerate(heads):
        for i, point in enumerate(head["points"]):
            at = "heads[%d].points[%d] (camera %s)" % (h, i, head["camera"])
            if not bounds["MinTilt"] <= point["tilt"] <= bounds["MaxTilt"]:
                raise ValidationError("%s.tilt: %s is outside the PTZ's limits %s..%s"
                                      % (at, point["tilt"], bounds["MinTilt"], bounds["MaxTilt"]))
            pan = wrap180(point["pan"])
            if not full_turn and not bounds["MinPan"] <= pan <= bounds["MaxPan"]:
                raise ValidationError("%s.pan: %s is outside the PTZ's limits %s..%s"
                                      % (at, point["pan"], bounds["MinPan"], bounds["MaxPan"]))


# --- sessions ---------------------------------------------------------------------------------------------
# A session is ours from the moment our start.cgi succeeded (none was open just before it), and stays ours while
# the device shows our camera with no target or the target we selected last. Anything else is another client's:
# never aborted, nor saved into, unless abort_ongoing says so.

def _describe(session):
    where = "camera %s" % session["camera"]
    target = session["current_target"]
    return where + (", target x=%s y=%s" % (target["x"], target["y"]) if target else ", no target selected")


class _Own:
    """What this run knows of the session it started."""

    def __init__(self, camera):
        self.camera = camera
        self.started = False
        self.target = None  # the last target sent to selecttarget (its answer may have been lost)

    def shows(self, session):
        if session is None or session["camera"] != self.camera:
            return False
        current = session["current_target"]
        if current is None or (current["x"] == 0 and current["y"] == 0):
            return True  # no target (some firmware says 0/0 for none)
        return self.target is not None and abs(current["x"] - self.target[0]) < SAME_PIXEL \
            and abs(current["y"] - self.target[1]) < SAME_PIXEL


def _busy(session, cgi, host):
    return SessionBusyError("another calibration session is open on this device (%s); it may be an operator in the "
                            "web page. Wait for it to end, or set abort_ongoing=true to abort it" % _describe(session),
                            cgi=cgi, host=host, code=50)


def _start(client, own, abort_ongoing):
    """Open our session: only when none is open, and never leaving one we may have opened unanswered."""
    session = read_session(client)
    if session is not None:
        if not abort_ongoing:
            raise _busy(session, "ptremotecalibration/getinformation.cgi", client.host)
        client.call(PT_REMOTE_CALIBRATION, "abort")
    try:
        client.call(PT_REMOTE_CALIBRATION, "start", {"camera": own.camera})
    except DeviceError as exc:
        if exc.code != 50:
            raise
        # Someone else opened one in the moment between: theirs, whatever it shows.
        session = read_session(client)
        raise _busy(session, exc.cgi, exc.host) if session else exc
    except (TransportError, UnexpectedAnswerError, Interrupted) as exc:
        if not (isinstance(exc, TransportError) and exc.answered):
            # No usable answer: the device may have opened the session all the same. None was open a moment ago,
            # so one of our camera with no target is that one: close it.
            with shielded():
                _close_unanswered_start(client, own)
        raise
    own.started = True


def _close_unanswered_start(client, own):
    try:
        session = read_session(client)
        if session is not None and session["camera"] == own.camera and session["current_target"] is None:
            client.call(PT_REMOTE_CALIBRATION, "abort")
    except VapixError:
        pass


def _abort_own(client, own):
    """Abort our session; leave any other alone. Returns a problem to report, or None."""
    try:
        session = read_session(client)
        if session is None:
            return None
        if not own.shows(session):
            return ("the open session is not the one this run started (%s): another client took over; it was "
                    "left alone" % _describe(session))
        client.call(PT_REMOTE_CALIBRATION, "abort")
        return None
    except DeviceError as exc:
        if exc.code == 54:
            return None
        return str(exc)
    except VapixError as exc:
        return str(exc)


def _save(client, index, head, calibrated_before):
    camera = head["camera"]
    try:
        client.call(PT_REMOTE_CALIBRATION, "save")
    except DeviceError as exc:
        if exc.code == 51:
            raise exc.reworded("heads[%d] (camera %s): the device found no calibration that fits the points "
                               "(error 51); the points that fit worst: %s. Re-measure those"
                               % (index, camera, worst_points(head["points"])))
        raise
    except (TransportError, UnexpectedAnswerError) as exc:
        raise _lost_save(client, exc, camera, calibrated_before)


def _lost_save(client, exc, camera, calibrated_before):
    """save.cgi gave no usable answer: what the device says now, as an error whose `saved` is yes, no or unknown."""
    try:
        now = read_calibrated(client).get(camera)
        session = read_session(client)
    except VapixError as again:
        return exc.reworded("%s; whether the calibration of camera %s was saved is unknown (reading it back failed "
                            "too: %s). Run again: the head is calibrated again or left as it is"
                            % (exc, camera, again), saved="unknown")
    if session is not None:
        said, saved = "the session is still open, so the points were not saved", "no"
    elif now and not calibrated_before:
        said, saved = "the device now reports the head calibrated and no session open: the save took effect", "yes"
    elif now:
        said, saved = ("the device reports the head calibrated and no session open, as it was before, so whether the "
                       "new points took effect is unknown"), "unknown"
    else:
        said, saved = "the device reports the head not calibrated", "no"
    return exc.reworded("%s; save.cgi for camera %s gave no answer, so its outcome was unknown: %s. A rerun "
                        "converges (recalibrate=always sends the points again)" % (exc, camera, said), saved=saved)


def calibrate_head(client, index, head, abort_ongoing, calibrated_before=False):
    """One session: start, a selecttarget/ontarget pair per point, save; abort our own session on any way out."""
    camera = head["camera"]
    own = _Own(camera)
    try:
        _start(client, own, abort_ongoing)
        for i, point in enumerate(head["points"]):
            x, y = number(point["x"], 6), number(point["y"], 6)
            own.target = (float(x), float(y))
            answer, _body = client.call(PT_REMOTE_CALIBRATION, "selecttarget", {"x": x, "y": y})
            # The first target of a session answers GeneralSuccess, later ones a hint: the other answer means the
            # session is not the one this run filled (another client replaced it).
            if (answer == "GeneralSuccess") != (i == 0):
                raise SessionBusyError("heads[%d] (camera %s): the session was replaced by another client's before "
                                       "point %d; nothing was saved" % (index, camera, i),
                                       cgi="ptremotecalibration/selecttarget.cgi", host=client.host)
            try:
                client.call(PT_REMOTE_CALIBRATION, "ontarget",
                            {"pan": number(wrap180(point["pan"]), 4), "tilt": number(point["tilt"], 4)})
            except DeviceError as exc:
                if exc.code == 52:
                    raise exc.reworded("heads[%d].points[%d] (camera %s, x=%s y=%s pan=%s tilt=%s): the device "
                                       "refused the point (error 52): the pan/tilt is too far from where that "
                                       "pixel looks; re-measure it"
                                       % (index, i, camera, point["x"], point["y"], point["pan"], point["tilt"]))
                raise
        # Another client may have aborted our session and opened its own meanwhile: never save into that one.
        session = read_session(client)
        if session is None or session["camera"] != camera or session["current_target"] is not None \
                and not own.shows(session):
            raise SessionBusyError("heads[%d] (camera %s): the session this run started was taken over before it "
                                   "was saved (%s); nothing was saved" % (
                                       index, camera, _describe(session) if session else "no session is open"),
                                   cgi="ptremotecalibration/getinformation.cgi", host=client.host)
        _save(client, index, head, calibrated_before)
    except BaseException as exc:
        if not own.started or (isinstance(exc, VapixError) and exc.saved == "yes"):
            raise
        with shielded():
            problem = _abort_own(client, own)
        if problem:
            if isinstance(exc, VapixError):
                raise exc.reworded("%s; %s" % (exc, problem))
            raise VapixError("%s; %s" % (exc, problem), result=exc.result if isinstance(exc, Interrupted) else None)
        raise


# --- drift ------------------------------------------------------------------------------------------------

def _resolution(client, cameras):
    groups = ["Image.I%d.Appearance.Resolution" % (camera - 1) for camera in cameras]
    values = client.param_values(*groups)
    sizes = {}
    for camera in cameras:
        text = values["Image.I%d.Appearance.Resolution" % (camera - 1)]
        width, _sep, height = text.partition("x")
        if not all(part.isascii() and part.isdecimal() for part in (width, height)):
            raise UnexpectedAnswerError("no resolution for camera %s (%r)" % (camera, text[:40]), cgi="param.cgi",
                                        host=client.host)
        sizes[camera] = (int(width), int(height))
    return sizes


def measure_drift(client, ptz, camera, points, size):
    """Send the PTZ to each point through the head's saved calibration; degrees off the point's pan/tilt."""
    errors = []
    here = position(ptz)
    for point in points:
        _clicked, here = overview_click(client, ptz, camera, point["x"], point["y"], size, here)
        pan, tilt, _zoom = here
        errors.append(round(angular_distance(pan, tilt, wrap180(point["pan"]), point["tilt"]), 3))
    return errors


# --- the task ---------------------------------------------------------------------------------------------

CHANGES = ("calibrated", "recalibrated")


def _plan(heads, calibrated, policy):
    """One entry per head; `would` is what the run is to do: calibrated, recalibrated, measure (drift) or None."""
    entries = []
    for head in heads:
        before = calibrated[head["camera"]]
        if not before:
            would, reason = "calibrated", "not calibrated"
        elif policy == "always":
            would, reason = "recalibrated", "recalibrate=always"
        elif policy == "when_drifted":
            would, reason = "measure", "drift to be measured"
        else:
            would, reason = None, "already calibrated"
        entries.append({"camera": head["camera"], "calibrated_before": before, "action": "none", "would": would,
                        "reason": reason, "points": len(head["points"]), "drift": None, "requests": 0})
    return entries


def _result(entries, heads):
    """The module's result from the entries as they stand (also after a failure, to report what was done)."""
    before, after = {}, {}
    changed = False
    for entry in entries:
        if entry["would"] == "measure":
            entry["would"] = None
        entry["calibrated_after"] = entry["calibrated_before"] or entry["action"] in CHANGES
        key = "camera %s" % entry["camera"]
        before[key] = "calibrated" if entry["calibrated_before"] else "not calibrated"
        changes = entry["action"] in CHANGES or bool(entry["action"] == "skipped_check_mode" and entry["would"])
        source = "captured anew" if entry.get("point_set") else "given"
        after[key] = "calibrated (from the %d points %s)" % (entry["points"], source) if changes else before[key]
        changed = changed or changes
    result = {"changed": changed, "heads": entries, "diff": {"before": before, "after": after}}
    result.update(_point_sets(entries, heads))
    return result


def _point_sets(entries, heads):
    """The heads' point sets as the inventory is to keep them: new points and baselines in, unset keys out (a
    baseline the run set to None is dropped: the head was calibrated anew and no baseline could be measured)."""
    kept, updated = [], False
    for head, entry in zip(heads, entries):
        points = entry.get("point_set") or head["points"]
        baseline = entry["baseline"] if "baseline" in entry else head.get("baseline")
        updated = updated or bool(entry.get("point_set")) or baseline != head.get("baseline")
        one = {"camera": head["camera"],
               "points": [{k: v for k, v in point.items() if v is not None} for point in points]}
        if baseline:
            one["baseline"] = baseline
        kept.append(one)
    return {"point_sets": kept, "point_sets_updated": updated}


def run(client, params, check_mode):
    heads = params["heads"]
    calibrated = read_calibrated(client)
    for h, head in enumerate(heads):
        if head["camera"] not in calibrated:
            raise ValidationError("heads[%d].camera: %s is not a camera head of this device (%s)"
                                  % (h, head["camera"], ", ".join(str(c) for c in calibrated)))
    entries = _plan(heads, calibrated, params["recalibrate"])
    if check_mode:
        for entry in entries:
            if entry["would"] == "measure":
                entry["reason"] = "drift is not measured in check mode (it moves the PTZ)"
            if entry["would"]:
                entry["action"] = "skipped_check_mode"
        changing = [head for head, entry in zip(heads, entries) if entry["would"] in CHANGES]
        if changing and params.get("remote_username"):
            # As the real run would: points beyond the PTZ's limits are refused, when the PTZ can be read.
            try:
                ptz = _limits_checked(client, params, changing, needed=False)
            except VapixError as exc:
                client.warnings.append("the points were not checked against the PTZ's limits: %s" % exc)
            else:
                if ptz is not None:
                    ptz.close()
        return _result(entries, heads)
    if not any(entry["would"] for entry in entries):
        return _result(entries, heads)

    ptz = None
    try:
        with reporting(lambda: _result(entries, heads)):
            to_measure = [(head, entry) for head, entry in zip(heads, entries) if entry["would"] == "measure"]
            if params.get("remote_username"):
                ptz = _limits_checked(client, params, [head for head, entry in zip(heads, entries) if entry["would"]],
                                      needed=bool(to_measure) or params["drift_method"] == "image")
            if params["drift_method"] == "image":
                _image_drift(client, ptz, heads, entries, params)
            else:
                if to_measure:
                    _measure(client, ptz, to_measure, _tolerance(params))
                for h, (head, entry) in enumerate(zip(heads, entries)):
                    if entry["would"] in CHANGES:
                        _calibrate_entry(client, h, head, entry, params["abort_ongoing"])
    finally:
        if ptz is not None:
            ptz.close()
    return _result(entries, heads)


def _limits_checked(client, params, heads, needed):
    """The PTZ (after its identity check), with the points checked against its limits.

    Calibration alone does not move the PTZ: when the PTZ cannot be reached (no ptz_hostname, a link-local
    remote URL) and no drift is measured, the limits are left unchecked, with a warning.
    """
    try:
        ptz = connect(client, params)
    except UnroutablePtzError as exc:
        if needed:
            raise
        client.warnings.append("the points were not checked against the PTZ's limits: %s" % exc)
        return None
    try:
        _check_limits(heads, limits(ptz, "MinPan", "MaxPan", "MinTilt", "MaxTilt"))
    except BaseException:
        ptz.close()
        raise
    return ptz


def _image_drift(client, ptz, heads, entries, params):
    """The image drift check, head by head in one look at the PTZ: measure a calibrated head, recapture and
    recalibrate a drifted one (recapture=true), and record a baseline for every head calibrated by this run.

    A head that cannot be measured (the PTZ in use, a dark or infrared picture, too few pairs, too uncertain) is
    left as it is, with a warning naming it: it never fails the task, and the other heads are still measured.
    Once someone else moves the PTZ, the run moves it no more: the heads left are not measured."""
    tolerance = _tolerance(params)
    drifted = []
    cameras = [head["camera"] for head, entry in zip(heads, entries) if entry["would"]]
    with _image_work().image_work(client, ptz, params, cameras) as work:
        busy = work.ready(params["ptz_idle"])
        for h, (head, entry) in enumerate(zip(heads, entries)):
            start = client.requests_made + ptz.requests_made
            try:
                if entry["would"] == "measure":
                    if busy:
                        _not_measured(client, entry, _image_work().not_measured(tolerance, busy))
                        continue
                    head = _judged(client, work, head, entry, params, tolerance, drifted)
                if entry["would"] in CHANGES:
                    _calibrate_entry(client, h, head, entry, params["abort_ongoing"])
                    start = client.requests_made + ptz.requests_made  # the session counted its own requests
                    # The head's directions changed (new points) or were just saved: a baseline from before is
                    # kept only until one is measured now, and none is better than a stale one.
                    entry["baseline"] = None
                    if busy:
                        client.warnings.append("camera %s: no baseline recorded: %s" % (head["camera"], busy))
                        continue
                    after, found = work.drift(head["camera"], head["points"], None, tolerance)
                    if len(found) >= BASELINE_MIN_PAIRS:
                        entry["baseline"] = _image_work().new_baseline(found)
                    else:
                        client.warnings.append("camera %s: no baseline recorded: %s" % (
                            head["camera"], after["reason"] or "%d of its points found" % len(found)))
            except PtzMovedError as exc:
                busy = "PTZ in use: %s" % exc.words
                if entry["would"] == "measure":
                    _not_measured(client, entry, _image_work().not_measured(tolerance, busy))
                elif entry["action"] not in CHANGES and (entry["drift"] or {}).get("status") == "drifted":
                    entry["would"] = None
                    entry["reason"] += "; not recaptured: " + busy
                    drifted.append("camera %s %s (not recaptured: the PTZ was taken)"
                                   % (head["camera"], _turn_words(entry["drift"])))
                else:
                    client.warnings.append("camera %s: no baseline recorded: %s" % (head["camera"], busy))
            finally:
                entry["requests"] += client.requests_made + ptz.requests_made - start
    if drifted:
        raise DriftError("the image drift check found %d head(s) moved, so their point sets are stale: %s. Capture "
                         "them anew (recapture=true, or playbooks/check_calibration.yml -e q6000_fix=true)"
                         % (len(drifted), "; ".join(drifted)), cgi="com/ptz.cgi", host=client.host)


def _judged(client, work, head, entry, params, tolerance, drifted):
    """One calibrated head measured and judged; a drifted one recaptured (recapture=true) or named in `drifted`.
    The head as it is to be calibrated (its new points, when recaptured)."""
    baseline = head.get("baseline")
    drift, found = work.drift(head["camera"], head["points"], baseline, tolerance)
    if drift["status"] == "not_measured":
        _not_measured(client, entry, drift)
        return head
    entry["drift"] = drift
    what = _turn_words(drift)
    if drift["status"] == "ok":
        entry["would"] = None
        entry["reason"] = "within tolerance: " + what
        if not isinstance(baseline, list) and len(found) >= BASELINE_MIN_PAIRS:
            entry["baseline"] = _image_work().new_baseline(found)
            entry["reason"] += "; baseline recorded"
        return head
    entry["reason"] = "drifted: " + what
    if not params["recapture"]:
        drifted.append("camera %s %s" % (head["camera"], what))
        entry["would"] = None
        return head
    entry["would"] = "recalibrated"
    entry["point_set"] = work.recapture(head["camera"], found, len(head["points"]), params["fit_budget"])
    entry["points"] = len(entry["point_set"])
    return dict(head, points=entry["point_set"])


def _turn_words(drift):
    """The measurement of a head's drift in words, for its reason and the task's message."""
    if drift["rotation"] is None:
        return ("moved %.2f degrees (the mean offset of %d points against its old baseline; tolerance %s)"
                % (drift["moved"], drift["pairs"], drift["tolerance"]))
    turn = drift["rotation"]
    return ("moved %.2f +- %.2f degrees (yaw %+.2f, pitch %+.2f, roll %+.2f from %d pairs against its %s; "
            "tolerance %s)" % (turn["angle"], drift["uncertainty"], turn["yaw"], turn["pitch"], turn["roll"],
                               drift["pairs"], drift["against"], drift["tolerance"]))


def _not_measured(client, entry, drift):
    """A head left not measured: its entry says why, and a warning names it; the task goes on."""
    entry.update(would=None, drift=drift, reason="not measured: " + drift["reason"])
    client.warnings.append("camera %s was not measured: %s" % (entry["camera"], drift["reason"]))


def _calibrate_entry(client, index, head, entry, abort_ongoing):
    start = client.requests_made
    try:
        calibrate_head(client, index, head, abort_ongoing, entry["calibrated_before"])
    except VapixError as exc:
        if exc.saved is not None:
            entry["action"] = "unknown"
            entry["reason"] = "save.cgi gave no answer; saved: %s" % exc.saved
        raise
    finally:
        entry["requests"] += client.requests_made - start
    entry["action"] = entry["would"]


def _measure(client, ptz, to_measure, tolerance):
    """Drift of each calibrated head; the PTZ goes back where it was, whatever happens."""
    sizes = _resolution(client, [head["camera"] for head, _entry in to_measure])
    home = settled_position(ptz)
    try:
        for head, entry in to_measure:
            start = client.requests_made + ptz.requests_made
            errors = measure_drift(client, ptz, head["camera"], head["points"], sizes[head["camera"]])
            entry["requests"] += client.requests_made + ptz.requests_made - start
            status = "drifted" if max(errors) > tolerance else "ok"
            entry["drift"] = {"method": "points", "status": status, "flagged": status == "drifted",
                              "tolerance": tolerance, "max": max(errors), "points": errors, "pairs": len(errors),
                              "reason": None, "rotation": None}
            if max(errors) > tolerance:
                entry["would"] = "recalibrated"
                entry["reason"] = "drifted %.2f degrees (tolerance %s)" % (max(errors), tolerance)
            else:
                entry["would"] = None
                entry["reason"] = "within tolerance (%.2f degrees)" % max(errors)
    finally:
        with shielded():
            put_back(ptz, home)
