# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""calibration_capture: point sets measured from images, with no operator aiming the PTZ.

For each target pixel of a head, the PTZ is sent near where that pixel looks; the head's patch around the
pixel is found in the PTZ's picture (vision.locate) and the PTZ centres on it with its own `center=` (or
`areazoom=`, which zooms by a known factor), so no table of the PTZ's field of view is needed. When the
patch sits at the picture's centre, at a zoom where the PTZ sees finer than the head, the PTZ's position is
the point. The first point of a unit is found by a search over pan; later ones start from a fit of the
points found so far (headmodel), so most points take two or three moves.

Nothing is saved and no calibration session is opened; the PTZ is put back where it was, zoom included, on
every way out. If someone else moves the PTZ meanwhile (a guard tour, an operator), the run stops.
"""

from __future__ import annotations

import base64
import math
import sys
import time
from contextlib import contextmanager

from ansible_collections.vapix.q6000.plugins.module_utils.common import (
    ValidationError,
    check_number,
    reporting,
    shielded,
)
from ansible_collections.vapix.q6000.plugins.module_utils._image_options import (
    IMAGE_ARGUMENT_SPEC,
    check_image_options,
    picture_size,
)
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import (
    NOMINAL,
    angular_distance,
    fit,
    nominal_head,
    project,
    worst_points_ranked,
    wrap180,
)
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import (
    connect,
    limits,
    move,
    overview_click,
    position,
    put_back,
    same_position,
    settled_position,
)
from ansible_collections.vapix.q6000.plugins.module_utils.vapix import UnexpectedAnswerError, VapixError
from ansible_collections.vapix.q6000.plugins.module_utils import vision

LIBRARIES = (("opencv-python-headless and numpy", vision.HAS_VISION, vision.VISION_IMPORT_ERROR),)
HEADS = (1, 2, 3, 4)
ARGUMENT_SPEC = dict(
    cameras=dict(type="list", elements="int", default=list(HEADS)),
    targets=dict(type="list", elements="dict", options=dict(
        camera=dict(type="int", required=True),
        x=dict(type="float", required=True),
        y=dict(type="float", required=True),
    )),
    points=dict(type="int", default=5),
)
ARGUMENT_SPEC.update(IMAGE_ARGUMENT_SPEC)

MIN_POINTS = 4  # a head with fewer usable points fails: Axis recommends at least four
SEARCH_STEP = 45.0  # degrees of pan between the views of the first point's search (the PTZ sees about 60 wide)
FINE_SCALE = 3.5  # PTZ pixels per head pixel at which a point is taken: the PTZ sees finer than the head
CENTRED = 0.6  # PTZ pixels from the picture's centre within which the target is centred
CORRECTABLE = 25.0  # PTZ pixels within which the rest is turned into degrees instead of another move
MIN_STEP_PIXELS = 6.0  # PTZ pixels a click must go for the degrees per pixel to be learnt from it
SPARE = 2  # points captured beyond those asked, so that the ones that fit worst can be left out
MAX_MOVES = 4  # per point after the approach (one move, or the first point's search), the zoom included
SUBPIXEL = 10  # center= in tenths of a pixel (imagewidth and imageheight scaled alike)
DRIFT_MIN_POINTS = 2  # points of a head that must be found for its drift to be measured
OVERLAY_WAIT = 1.1  # seconds between a head's two pictures, so that a burned-in clock shows as a change


class PtzMovedError(VapixError):
    """Someone else moved the PTZ while the capture used it."""


class CaptureError(VapixError):
    """A head for which too few targets could be matched with confidence."""


def validate(params):
    if not (params.get("remote_username") and params.get("remote_password")):
        raise ValidationError("remote_username and remote_password are needed: they are the PTZ's account")
    cameras = params["cameras"]
    if not cameras:
        raise ValidationError("cameras: give at least one head (1..4)")
    for camera in cameras:
        if camera not in HEADS:
            raise ValidationError("cameras: %s is not a head of the Q6000-E (1..4)" % camera)
    if len(set(cameras)) != len(cameras):
        raise ValidationError("cameras: a head is given twice (%s)" % cameras)
    check_number("points", params["points"], MIN_POINTS, 12)
    check_image_options(params)
    for i, target in enumerate(params.get("targets") or []):
        where = "targets[%d]" % i
        if target["camera"] not in cameras:
            raise ValidationError("%s.camera: %s is not among cameras %s" % (where, target["camera"], cameras))
        check_number(where + ".x", target["x"], -0.95, 0.95)
        check_number(where + ".y", target["y"], -0.95, 0.95)
    counts = {}
    for target in params.get("targets") or []:
        counts[target["camera"]] = counts.get(target["camera"], 0) + 1
    for camera, count in sorted(counts.items()):
        if count < MIN_POINTS:
            raise ValidationError("targets: camera %s has %d target(s); give at least %d per head, or none to let "
                                  "the module pick them" % (camera, count, MIN_POINTS))


class Servo:
    """The PTZ as the capture drives it: every move and picture counted, and a check that nobody else moves it."""

    def __init__(self, ptz, size):
        self.ptz = ptz
        self.width, self.height = size
        self.moves = self.snapshots = 0
        self.where = settled_position(ptz)

    def _still(self):
        now = position(self.ptz)
        if not same_position(now, self.where):
            raise PtzMovedError("the PTZ was moved by someone else (from pan %.2f, tilt %.2f, zoom %d to pan %.2f, "
                                "tilt %.2f, zoom %d) while the capture used it; stopped (a guard tour or an "
                                "operator: stop it and run again)" % (self.where + now), cgi="com/ptz.cgi",
                                host=self.ptz.host)

    def go(self, pan, tilt, zoom):
        self._still()
        self.where = move(self.ptz, pan, tilt, zoom, before=self.where)
        self.moves += 1
        if abs(wrap180(self.where[0] - pan)) > 0.1 or abs(self.where[1] - tilt) > 0.1:
            raise PtzMovedError("the PTZ came to rest at pan %.2f, tilt %.2f, not at pan %.2f, tilt %.2f where it "
                                "was sent (someone else moves it, or the target is beyond its limits); stopped"
                                % (self.where[0], self.where[1], pan, tilt), cgi="com/ptz.cgi", host=self.ptz.host)

    def click(self, u, v, zoom_factor=None):
        """Centre the PTZ on pixel (u, v) of its picture (OpenCV coordinates), zooming by `zoom_factor`."""
        self._still()
        u, v = min(max(u, -0.5), self.width - 0.5), min(max(v, -0.5), self.height - 0.5)
        at = "%d,%d" % (round((u + 0.5) * SUBPIXEL), round((v + 0.5) * SUBPIXEL))
        args = {"imagewidth": str(self.width * SUBPIXEL), "imageheight": str(self.height * SUBPIXEL)}
        if zoom_factor is None:
            args["center"] = at
        else:
            args["areazoom"] = "%s,%d" % (at, round(zoom_factor * 100))
        before, commanded = self.where, time.monotonic()
        self.ptz.ptz(args, write=True)
        self.where = settled_position(self.ptz, before=before, commanded=commanded)
        self.moves += 1

    def overview_click(self, client, camera, x, y, size):
        """ptz.overview_click, counted and watched like the PTZ's own moves; the pixel actually clicked."""
        self._still()
        clicked, self.where = overview_click(client, self.ptz, camera, x, y, size, self.where)
        self.moves += 1
        return clicked

    def picture(self):
        self._still()
        image = _decoded(self.ptz.snapshot({"resolution": "%dx%d" % (self.width, self.height)}), self.ptz.host)
        if image.shape != (self.height, self.width):
            raise UnexpectedAnswerError("the PTZ's snapshot is %dx%d, not the %dx%d asked"
                                        % (image.shape[1], image.shape[0], self.width, self.height),
                                        cgi="jpg/image.cgi", host=self.ptz.host)
        self.snapshots += 1
        self._still()
        return image


def _decoded(jpeg, host):
    """A snapshot as a grey image; one that does not decode is the device's fault, not the target's."""
    try:
        return vision.decode(jpeg)
    except vision.TargetError as exc:
        raise UnexpectedAnswerError(str(exc), cgi="jpg/image.cgi", host=host)


class Knowledge:
    """What the points found so far teach: each head's fit, the mount's pan offset, the zoom that works."""

    def __init__(self):
        self.points = {}
        self.mount = None
        self.steps = []
        self.short = []

    def step(self, pixels):
        """The PTZ's degrees per pixel of its picture at the wide end, from the moves seen so far, to turn a rest
        of `pixels` into degrees: the median of the long clicks, or, until there is one, the pooled short clicks
        (a check that lands near its targets makes only those) for a rest no longer than they were. None when
        another move is needed."""
        if self.steps and pixels <= CORRECTABLE:
            return sorted(self.steps)[len(self.steps) // 2]
        if self.short and pixels <= MIN_STEP_PIXELS:
            return sum(turned for turned, _pixels in self.short) / sum(pixels for _turned, pixels in self.short)
        return None

    def learn_step(self, before, after, offset, factor=1.0):
        """A click `offset` pixels from the centre of a picture taken `factor` times zoomed in from the wide end
        turned the PTZ from `before` to `after`. Clicks shorter than MIN_STEP_PIXELS are kept apart: a pixel of
        error in where the target was weighs too much in each of them."""
        pixels = math.hypot(*offset)
        if pixels < 1.0:
            return
        tilt = math.radians((before[1] + after[1]) / 2.0)
        turned = math.hypot(wrap180(after[0] - before[0]) * math.cos(tilt), after[1] - before[1]) * factor
        if pixels >= MIN_STEP_PIXELS:
            self.steps.append(turned / pixels)
        else:
            self.short.append((turned, pixels))

    def learn(self, camera, point):
        self.points.setdefault(camera, []).append(point)
        if self.mount is None:
            nominal_pan = project(point["x"], point["y"], _nominal(camera, 0.0))[0]
            self.mount = wrap180(point["pan"] - nominal_pan)

    def forget(self, camera, point):
        self.points[camera].remove(point)

    def guess(self, camera, x, y):
        """(pan, tilt): where pixel (x, y) probably looks (a fit of the head's points, the nominal head turned to
        agree with them, or turned by the mount's offset), or None before any point."""
        pairs = [(p["x"], p["y"], p["pan"], p["tilt"]) for p in self.points.get(camera, [])]
        if len(pairs) >= MIN_POINTS:
            return project(x, y, fit(pairs)[0])
        if pairs:
            return project(x, y, nominal_head(pairs))
        if self.mount is not None:
            return project(x, y, _nominal(camera, self.mount))
        return None


def _nominal(camera, mount):
    return (wrap180(90.0 * (camera - 1) + mount),) + NOMINAL[1:]


class Capture:
    """One unit's capture: the heads' pictures, the PTZ, and what was learnt and refused on the way."""

    def __init__(self, client, servo, bounds, params):
        self.client, self.servo, self.bounds = client, servo, bounds
        self.size = picture_size("resolution", params["resolution"])
        self.radius_coarse = max(24, int(round(0.104 * self.size[0])))
        self.radius_fine = max(16, int(round(0.052 * self.size[0])))
        self.knowledge = Knowledge()
        self.refused = []
        self.heads = {}

    # -- the heads' pictures ----------------------------------------------------------------------------------

    def head_pictures(self, cameras):
        """Two pictures of each head a moment apart: what changed between them (a clock) is never matched."""
        resolution = "%dx%d" % self.size
        first, taken = {}, time.monotonic()
        for camera in cameras:
            first[camera] = self.client.snapshot({"camera": str(camera), "resolution": resolution})
        time.sleep(max(0.0, OVERLAY_WAIT - (time.monotonic() - taken)))
        for camera in cameras:
            jpeg = self.client.snapshot({"camera": str(camera), "resolution": resolution})
            image, grey = _decoded(jpeg, self.client.host), vision.is_grey(jpeg)
            if image.shape != (self.size[1], self.size[0]):
                raise UnexpectedAnswerError("the snapshot of camera %s is %dx%d, not the %s asked"
                                            % (camera, image.shape[1], image.shape[0], resolution),
                                            cgi="jpg/image.cgi", host=self.client.host)
            earlier = _decoded(first[camera], self.client.host)
            if earlier.shape != image.shape:
                raise UnexpectedAnswerError("two snapshots of camera %s at %s came in different sizes (%s, %s)"
                                            % (camera, resolution, earlier.shape[::-1], image.shape[::-1]),
                                            cgi="jpg/image.cgi", host=self.client.host)
            mask = vision.changed_mask(earlier, image)
            self.heads[camera] = (vision.HeadPicture(image, mask), grey)

    def targets(self, camera, count):
        head, grey = self.heads[camera]
        picked = vision.pick_targets(head, count, self.radius_fine, spread=0.25)
        if len(picked) < MIN_POINTS:
            why = ("the picture is grey and flat (night mode, IR?)" if grey else
                   "too little distinct detail (sky, fog, plain walls, a repetitive facade?)")
            raise CaptureError("camera %s: only %d target(s) with enough detail in the head's picture: %s. Nothing "
                               "was captured; capture in daylight or give targets" % (camera, len(picked), why),
                               cgi="jpg/image.cgi", host=self.client.host)
        return picked

    # -- one point --------------------------------------------------------------------------------------------

    def _centre_offset(self, match):
        return match.u - (self.servo.width / 2.0 - 0.5), match.v - (self.servo.height / 2.0 - 0.5)

    def _wide(self, head, x, y, pan, tilt):
        if not self.bounds["MinTilt"] <= tilt <= self.bounds["MaxTilt"]:
            raise vision.TargetError("it looks at tilt %.1f, beyond the PTZ's limits %s..%s"
                                     % (tilt, self.bounds["MinTilt"], self.bounds["MaxTilt"]))
        self.servo.go(pan, tilt, self.bounds["MinZoom"])
        return vision.locate(head, x, y, self.servo.picture(), self.radius_coarse)

    def _search(self, head, camera, x, y):
        """The first point of a unit: the mount's pan offset is unknown, so look around at the pixel's tilt."""
        tilt = project(x, y, _nominal(camera, 0.0))[1]
        reasons = []
        for step in range(int(round(360.0 / SEARCH_STEP))):
            try:
                return self._wide(head, x, y, wrap180(step * SEARCH_STEP), tilt)
            except vision.TargetError as exc:
                reasons.append(str(exc))
        raise vision.TargetError("not found in a search over pan (%s)" % reasons[-1])

    def _approach(self, head, camera, x, y):
        """A match of the target in a PTZ picture taken near it, at whatever zoom got there first."""
        guess = self.knowledge.guess(camera, x, y)
        if guess is None:
            return self._search(head, camera, x, y)
        pan, tilt = guess
        try:
            return self._wide(head, x, y, pan, tilt)
        except vision.TargetError:
            return self._search(head, camera, x, y)

    def point(self, camera, x, y):
        """Servo the PTZ onto head pixel (x, y); the point {x, y, pan, tilt, score} (TargetError if it cannot)."""
        head = self.heads[camera][0]
        return self.centre(head, x, y, self._approach(head, camera, x, y))

    def centre(self, head, x, y, match):
        """From a match of head pixel (x, y) in the PTZ's picture, zoom in and centre the PTZ on it; the point."""
        start = self.servo.moves
        size = (self.servo.width, self.servo.height)
        factor = 1.0
        if match.scale < FINE_SCALE / 1.5:
            factor = min(30.0, max(1.0, FINE_SCALE / match.scale))
            expected = vision.recentred(match.mapping, match.u, match.v, *size, factor=factor)
            wide, offset = self.servo.where, self._centre_offset(match)
            self.servo.click(match.u, match.v, factor)
            self.knowledge.learn_step(wide, self.servo.where, offset)
            match = vision.follow(head, x, y, self.servo.picture(), self.radius_fine, expected)
        while True:
            du, dv = self._centre_offset(match)
            if math.hypot(du, dv) <= CENTRED:
                break
            step = self.knowledge.step(math.hypot(du, dv))
            if step is not None:
                # A few pixels off: the PTZ's own degrees per pixel (learnt from its moves) say where it looks.
                pan, tilt = self.servo.where[0], self.servo.where[1]
                degrees = step / factor
                return self._point(x, y, pan + du * degrees / max(0.1, math.cos(math.radians(tilt))),
                                   tilt - dv * degrees, match)
            if self.servo.moves - start >= MAX_MOVES:
                raise vision.TargetError("not centred after %d moves (%.1f pixels off)"
                                         % (MAX_MOVES, math.hypot(du, dv)))
            expected = vision.recentred(match.mapping, match.u, match.v, *size)
            before = self.servo.where
            self.servo.click(match.u, match.v)
            self.knowledge.learn_step(before, self.servo.where, (du, dv), factor)
            match = vision.follow(head, x, y, self.servo.picture(), self.radius_fine, expected)
        return self._point(x, y, self.servo.where[0], self.servo.where[1], match)

    @staticmethod
    def _point(x, y, pan, tilt, match):
        return {"x": x, "y": y, "pan": round(wrap180(pan), 4), "tilt": round(tilt, 4),
                "score": round(max(0.0, match.correlation), 3)}

    # -- one head ---------------------------------------------------------------------------------------------

    def head(self, camera, count, budget, given=None):
        """`count` points of a head (all `given` pixels, if given) that agree with the fit of the others within
        `budget` degrees. A few spare points are captured, so that those that fit worst can be left out; a point
        beyond the budget (near content, whose parallax bends the mapping) is refused and replaced."""
        pixels = iter(given if given else self.targets(camera, count * 3))
        want, spare = (len(given), 0) if given else (count, SPARE)
        points, exhausted = [], False
        while True:
            while not exhausted and len(points) < want + spare:
                pixel = next(pixels, None)
                if pixel is None:
                    exhausted = True
                    break
                try:
                    point = self.point(camera, *pixel)
                except vision.TargetError as exc:
                    self._refuse(camera, pixel, str(exc))
                    continue
                points.append(point)
                self.knowledge.learn(camera, point)
            if len(points) < MIN_POINTS:
                raise self._failure(camera, points, "only %d of the targets could be captured with confidence"
                                    % len(points))
            ranked = worst_points_ranked(points)
            index, error = ranked[0]
            worst = max(e for _i, e in ranked)
            if worst > budget:
                if len(points) == MIN_POINTS and exhausted:
                    raise self._failure(camera, points, "the points captured disagree with each other's fit by up "
                                        "to %.2f degrees (fit_budget %s)" % (worst, budget))
                self._refuse(camera, (points[index]["x"], points[index]["y"]),
                             "%.2f degrees from the fit of the other points (near content, whose parallax bends "
                             "the mapping?)" % error)
            elif len(points) > want:
                spare = 0
            else:
                return points
            self.knowledge.forget(camera, points.pop(index))

    # -- drift ------------------------------------------------------------------------------------------------

    def drift(self, camera, points):
        """How far the PTZ lands, clicking to centre through the head's saved calibration, from where the head's
        pixels look: per point (its signed pan and tilt offsets and their size, in degrees) and per head (the
        signed means: a knock turns the whole head, and a mean over points sees it whole). The points found
        are measured points of the head, as calibration_capture takes them, for a recapture."""
        head = self.heads[camera][0]
        measured, found, worst = [], [], None
        for point in points:
            if self.servo.where[2] != self.bounds["MinZoom"]:
                self.servo.go(self.servo.where[0], self.servo.where[1], self.bounds["MinZoom"])
            x, y = self.servo.overview_click(self.client, camera, point["x"], point["y"], self.size)
            landed = self.servo.where
            try:
                picture = self.servo.picture()
                match = self._landed(head, x, y, picture)
                true = self.centre(head, x, y, match)
            except vision.TargetError as exc:
                measured.append({"x": point["x"], "y": point["y"], "pan": None, "tilt": None, "error": None,
                                 "reason": str(exc)})
                continue
            error = angular_distance(landed[0], landed[1], true["pan"], true["tilt"])
            measured.append({"x": point["x"], "y": point["y"], "pan": round(wrap180(true["pan"] - landed[0]), 3),
                             "tilt": round(true["tilt"] - landed[1], 3), "error": round(error, 3)})
            found.append(true)
            if worst is None or error > worst[0]:
                worst = (error, x, y, picture, match.scale)
        good = [m for m in measured if m["error"] is not None]
        if len(good) < min(DRIFT_MIN_POINTS, len(points)):
            reasons = "; ".join("x %s, y %s: %s" % (m["x"], m["y"], m["reason"]) for m in measured
                                if m["error"] is None)
            raise CaptureError("camera %s: the drift could not be measured: %d of the %d points were found in the "
                               "PTZ's pictures (%s)" % (camera, len(good), len(points), reasons),
                               cgi="jpg/image.cgi", host=self.servo.ptz.host)
        _error, x, y, picture, scale = worst
        thumbnail = vision.thumbnail(head, x, y, self.radius_fine, picture, self.radius_fine * scale)
        return {"points": measured, "found": found,
                "pan": round(sum(m["pan"] for m in good) / len(good), 3),
                "tilt": round(sum(m["tilt"] for m in good) / len(good), 3),
                "thumbnail": "data:image/jpeg;base64," + base64.b64encode(thumbnail).decode("ascii")}

    def _landed(self, head, x, y, picture):
        """The head pixel in the PTZ's picture where the check landed; a patch that fails to match (a few
        features, or a marginal mapping) gets one more try with a wider patch before the point is given up."""
        try:
            return vision.locate(head, x, y, picture, self.radius_coarse)
        except vision.TargetError:
            return vision.locate(head, x, y, picture, self.radius_coarse * 1.6)

    def recapture(self, camera, found, count, budget):
        """New points for a head whose mount moved: the points the drift check found, when enough of them agree
        within `budget`; else a fresh capture, which starts from what they taught."""
        if len(found) >= MIN_POINTS and max(e for _i, e in worst_points_ranked(found)) <= budget:
            return found
        for point in found:
            self.knowledge.learn(camera, point)
        return self.head(camera, max(count, MIN_POINTS), budget)

    def _refuse(self, camera, pixel, reason):
        self.refused.append({"camera": camera, "x": pixel[0], "y": pixel[1], "reason": reason})

    def _failure(self, camera, points, what):
        reasons = "; ".join("x %s, y %s: %s" % (r["x"], r["y"], r["reason"])
                            for r in self.refused if r["camera"] == camera)
        return CaptureError("camera %s: %s (%s). No point set was written" % (camera, what, reasons or "no other target to try"),
                            cgi="com/ptz.cgi", host=self.servo.ptz.host)


def _as_dict(where):
    return {"pan": where[0], "tilt": where[1], "zoom": where[2]}


def run(client, params, check_mode):
    cameras = params["cameras"]
    given = {}
    for target in params.get("targets") or []:
        given.setdefault(target["camera"], []).append((target["x"], target["y"]))
    result = {"changed": False, "heads": [], "refused": []}
    with connect(client, params) as ptz:
        bounds = limits(ptz, "MinZoom", "MaxZoom", "MinTilt", "MaxTilt")
        servo = Servo(ptz, picture_size("ptz_resolution", params["ptz_resolution"]))
        home = servo.where
        capture = Capture(client, servo, bounds, params)
        with reporting(result):
            capture.head_pictures(cameras)
            if check_mode:
                result["targets"] = [{"camera": camera, "pixels": [
                    {"x": x, "y": y} for x, y in (given.get(camera) or capture.targets(camera, params["points"]))]}
                    for camera in cameras]
                return result
            heads = []
            try:
                for camera in cameras:
                    heads.append({"camera": camera, "points": capture.head(
                        camera, params["points"], params["fit_budget"], given.get(camera))})
            finally:
                result.update(refused=capture.refused, moves=servo.moves, snapshots=servo.snapshots)
                failing = sys.exc_info()[1] is not None
                try:
                    with shielded():
                        _put_back(ptz, home, result)
                except VapixError as exc:
                    if not failing:
                        raise
                    # The failure that stopped the capture stays the task's message; this one goes beside it.
                    result["put_back_error"] = str(exc)
            # Only a capture whose PTZ is back returns its point sets.
            result["heads"] = heads
        given_count = {camera: len(pixels) for camera, pixels in given.items()}
        short = ["camera %s: %d of %d" % (h["camera"], len(h["points"]), given_count.get(h["camera"], params["points"]))
                 for h in result["heads"] if len(h["points"]) < given_count.get(h["camera"], params["points"])]
        if short:
            result["warnings"] = ["fewer points than asked (%s): the other targets could not be matched with "
                                  "confidence; see refused" % ", ".join(short)]
        points = sum(len(h["points"]) for h in result["heads"])
        result["moves_per_point"] = round(servo.moves / points, 2) if points else None
    return result


def _put_back(ptz, home, result):
    """The PTZ back where it was, zoom included; the position it rests at goes into the result."""
    moved_from = position(ptz)
    put_back(ptz, home)
    result["ptz"] = _as_dict(settled_position(ptz, before=moved_from, commanded=time.monotonic()))


@contextmanager
def image_work(client, ptz, params, cameras):
    """A Capture of `cameras` (their pictures taken) for remote_calibration's image drift check; the PTZ is put
    back where it was on the way out, whatever happens."""
    servo = Servo(ptz, picture_size("ptz_resolution", params["ptz_resolution"]))
    home = servo.where
    try:
        capture = Capture(client, servo, limits(ptz, "MinZoom", "MaxZoom", "MinTilt", "MaxTilt"), params)
        capture.head_pictures(cameras)
        yield capture
    finally:
        with shielded():
            _put_back(ptz, home, {})
