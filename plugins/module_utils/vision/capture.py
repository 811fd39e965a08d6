# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Point-set capture: calibration_capture's point sets measured from images, with no operator aiming the PTZ.

For each target pixel of a head, the PTZ is sent near where that pixel looks; the head's patch around the
pixel is found in the PTZ's picture (matching.locate) and the PTZ centres on it (ptz_run). The first point
of a unit is found by a search over pan; later ones start from a fit of the points found so far
(headmodel, the device's own fit), so most points take two or three moves.

Nothing is saved and no calibration session is opened; the PTZ is put back where it was, zoom included, on
every way out, except when someone else moved it meanwhile (a guard tour, an operator): the run stops then, and
leaves the PTZ to them.
"""

from __future__ import annotations

import sys

from ansible_collections.vapix.q6000.plugins.module_utils._connection import check_number
from ansible_collections.vapix.q6000.plugins.module_utils._interrupts import reporting
from ansible_collections.vapix.q6000.plugins.module_utils._image_options import (
    IMAGE_ARGUMENT_SPEC,
    check_image_options,
    picture_size,
)
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import project, worst_points_ranked, wrap180
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import connect, limits
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    CaptureError,
    PtzMovedError,
    TargetError,
    ValidationError,
)
from ansible_collections.vapix.q6000.plugins.module_utils.vision import matching
from ansible_collections.vapix.q6000.plugins.module_utils.vision.ptz_run import (
    MIN_POINTS,
    check_resolutions,
    PtzRun,
    Servo,
    nominal,
    put_back_on_the_way_out,
)

LIBRARIES = (("opencv-python-headless and numpy", matching.HAS_VISION, matching.VISION_IMPORT_ERROR),)
HEADS = (1, 2, 3, 4)
ARGUMENT_SPEC = dict(
    cameras=dict(type="list", elements="int", default=list(HEADS)),
    targets=dict(type="list", elements="dict", options=dict(
        camera=dict(type="int", required=True),
        x=dict(type="float", required=True),
        y=dict(type="float", required=True),
    )),
    points=dict(type="int", default=5),
    require_all=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(IMAGE_ARGUMENT_SPEC)

SEARCH_STEP = 45.0  # degrees of pan between the views of the first point's search (the PTZ sees about 60 wide)
SPARE = 2  # points captured beyond those asked, so that the ones that fit worst can be left out
SPREAD = 0.25  # normalized distance kept between the targets picked; those that follow a head's refusals keep half


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


class Capture(PtzRun):
    """One unit's capture: the heads' pictures, the PTZ, and what was learnt and refused on the way."""

    def __init__(self, client, servo, bounds, params):
        super().__init__(client, servo, bounds, params)
        self.refused = []

    def unmatchable(self):
        """Why the PTZ's pictures cannot be matched against colour heads (night mode, infrared), or None. Its
        picture where it rests: no move. (Dark is judged on the pictures matched: where it rests in daylight it
        may look at a dark wall.)"""
        unusable = self.ptz_unusable(self.servo.picture(), dark=False)
        return unusable and "%s: a colour head cannot be matched against it. Nothing was moved; capture when the " \
                            "PTZ is in day mode" % unusable

    def targets(self, camera, count):
        head, grey = self.heads[camera]
        picked = matching.pick_targets(head, count, self.radius_fine, spread=SPREAD)
        if len(picked) < MIN_POINTS:
            why = ("the picture is grey and flat (night mode, IR?)" if grey else
                   "too little distinct detail (sky, fog, plain walls, a repetitive facade?)")
            raise CaptureError("camera %s: only %d target(s) with enough detail in the head's picture: %s. Nothing "
                               "was captured; capture in daylight or give targets" % (camera, len(picked), why),
                               cgi="jpg/image.cgi", host=self.client.host)
        return picked

    def _pixels(self, camera, count, given):
        """The pixels to try for a head: the `given` ones alone; else the picked targets and, once those are all
        tried, the next best half as far apart (looked for only then). A head with little detail (a few buildings
        in a field of trees, vehicles masked) may have only five or six targets a quarter of the picture apart,
        and one or two refused points then failed it."""
        if given:
            yield from given
            return
        picked = self.targets(camera, count)
        yield from picked
        closer = matching.pick_targets(self.heads[camera][0], count, self.radius_fine, spread=SPREAD / 2.0)
        yield from (pixel for pixel in closer if pixel not in picked)

    # -- one point --------------------------------------------------------------------------------------------

    def _wide(self, head, x, y, pan, tilt):
        if not self.bounds["MinTilt"] <= tilt <= self.bounds["MaxTilt"]:
            raise TargetError("it looks at tilt %.1f, beyond the PTZ's limits %s..%s"
                              % (tilt, self.bounds["MinTilt"], self.bounds["MaxTilt"]))
        self.servo.go(pan, tilt, self.bounds["MinZoom"])
        return matching.locate(head, x, y, self.ptz_picture(), self.radius_coarse)

    def _search(self, head, camera, x, y):
        """The first point of a unit: the mount's pan offset is unknown, so look around at the pixel's tilt."""
        tilt = project(x, y, nominal(camera, 0.0))[1]
        reasons = []
        for step in range(int(round(360.0 / SEARCH_STEP))):
            try:
                return self._wide(head, x, y, wrap180(step * SEARCH_STEP), tilt)
            except TargetError as exc:
                reasons.append(str(exc))
        raise TargetError("not found in a search over pan (%s)" % reasons[-1])

    def _approach(self, head, camera, x, y):
        """A match of the target in a PTZ picture taken near it, at whatever zoom got there first."""
        guess = self.knowledge.guess(camera, x, y)
        if guess is None:
            return self._search(head, camera, x, y)
        pan, tilt = guess
        try:
            return self._wide(head, x, y, pan, tilt)
        except TargetError:
            return self._search(head, camera, x, y)

    def point(self, camera, x, y):
        """Servo the PTZ onto head pixel (x, y); the point {x, y, pan, tilt, score} (TargetError if it cannot)."""
        head = self.heads[camera][0]
        self.measure(camera)
        return self.centre(head, x, y, self._approach(head, camera, x, y))

    # -- one head ---------------------------------------------------------------------------------------------

    def head(self, camera, count, budget, given=None):
        """`count` points of a head (all `given` pixels, if given) that agree with the fit of the others within
        `budget` degrees. A few spare points are captured, so that those that fit worst can be left out; a point
        beyond the budget (near content, whose parallax bends the mapping) is refused and replaced, by closer targets
        once the well-spread ones are all tried."""
        pixels = self._pixels(camera, count * 3, given)
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
                except TargetError as exc:
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

    def _refuse(self, camera, pixel, reason):
        self.refused.append({"camera": camera, "x": pixel[0], "y": pixel[1], "reason": reason})

    def _failure(self, camera, points, what):
        reasons = "; ".join("x %s, y %s: %s" % (r["x"], r["y"], r["reason"])
                            for r in self.refused if r["camera"] == camera)
        return CaptureError("camera %s: %s (%s). No point set was written" % (camera, what, reasons or "no other target to try"),
                            cgi="com/ptz.cgi", host=self.servo.ptz.host)


def _partial(result, heads, failed, cameras, params, ptz):
    """A capture that left heads out fails when it has none (or require_all); else a warning names each."""
    if failed and (not heads or params["require_all"]):
        raise CaptureError("%s: %s" % (
            "no head was captured" if not heads else "require_all: %d of %d heads were not captured"
            % (len(failed), len(cameras)), "; ".join(f["reasons"][0] for f in failed)),
            cgi="com/ptz.cgi", host=ptz.host)
    for head in failed:
        result.setdefault("warnings", []).append("camera %s was not captured: %s" % (head["camera"], head["reasons"][0]))


def run(client, params, check_mode):
    cameras = params["cameras"]
    given = {}
    for target in params.get("targets") or []:
        given.setdefault(target["camera"], []).append((target["x"], target["y"]))
    result = {"changed": False, "heads": [], "refused": []}
    with connect(client, params) as ptz:
        bounds = limits(ptz, "MinZoom", "MaxZoom", "MinTilt", "MaxTilt")
        check_resolutions(client, ptz, params, cameras)
        servo = Servo(ptz, picture_size("ptz_resolution", params["ptz_resolution"]))
        home = servo.where
        capture = Capture(client, servo, bounds, params)
        with reporting(result):
            capture.head_pictures(cameras)
            if check_mode:
                result["targets"], result["failed_heads"] = [], []
                for camera in cameras:
                    try:
                        pixels = given.get(camera) or capture.targets(camera, params["points"])
                    except CaptureError as exc:
                        result["failed_heads"].append({"camera": camera, "reasons": [exc.words]})
                        continue
                    result["targets"].append({"camera": camera, "pixels": [{"x": x, "y": y} for x, y in pixels]})
                _partial(result, result["targets"], result["failed_heads"], cameras, params, ptz)
                return result
            heads, failed = [], []
            try:
                taken, unmatchable = servo.in_use(params["ptz_idle"]), None
                if not taken:
                    try:
                        unmatchable = capture.unmatchable()
                    except PtzMovedError as exc:  # taken while its picture at rest was taken
                        taken = "PTZ in use: %s" % exc.words
                for camera in cameras:
                    if taken or (unmatchable and not capture.heads[camera][1]):
                        failed.append({"camera": camera, "reasons": [taken or unmatchable]})
                        continue
                    try:
                        heads.append({"camera": camera, "points": capture.head(
                            camera, params["points"], params["fit_budget"], given.get(camera))})
                    except CaptureError as exc:
                        failed.append({"camera": camera, "reasons": [exc.words]})
                    except PtzMovedError as exc:
                        taken = "PTZ in use: %s" % exc.words
                        failed.append({"camera": camera, "reasons": [taken]})
            finally:
                result.update(refused=capture.refused, moves=servo.moves, snapshots=servo.snapshots,
                              failed_heads=failed)
                unput = put_back_on_the_way_out(servo, home, result, sys.exc_info()[1] is not None)
                if unput is not None:
                    result["put_back_error"] = str(unput)
            result["heads"] = heads
            _partial(result, heads, failed, cameras, params, ptz)
        given_count = {camera: len(pixels) for camera, pixels in given.items()}
        short = ["camera %s: %d of %d" % (h["camera"], len(h["points"]), given_count.get(h["camera"], params["points"]))
                 for h in result["heads"] if len(h["points"]) < given_count.get(h["camera"], params["points"])]
        if short:
            result.setdefault("warnings", []).append("fewer points than asked (%s): the other targets could not be "
                                                     "matched with confidence; see refused" % ", ".join(short))
        points = sum(len(h["points"]) for h in result["heads"])
        result["moves_per_point"] = round(servo.moves / points, 2) if points else None
    return result
