# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image drift check: where the PTZ lands through a head's saved calibration, against where its pixels look.

remote_calibration's drift_method=image: for each point of a head, the Q6000-E's click-to-center sends the
PTZ where the saved calibration says the pixel looks; the head's patch is found in the PTZ's picture and the
PTZ centred on it (ptz_run), and the difference is the drift. A head found moved can be captured anew
(recapture), from the points the check found. The PTZ is put back where it was on the way out, unless someone
else moved it meanwhile: then it is theirs.
"""

from __future__ import annotations

import base64
import math
import sys
from contextlib import contextmanager

from ansible_collections.vapix.q6000.plugins.module_utils.errors import PtzMovedError, TargetError
from ansible_collections.vapix.q6000.plugins.module_utils._image_options import BASELINE_PAIRS, picture_size
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import (
    angular_distance,
    worst_points_ranked,
    wrap180,
)
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import limits
from ansible_collections.vapix.q6000.plugins.module_utils.vision import capture, matching, ptz_run, rotation
from ansible_collections.vapix.q6000.plugins.module_utils.vision.ptz_run import (
    MIN_POINTS,
    Servo,
    check_resolutions,
    put_back_on_the_way_out,
)

LIBRARIES = capture.LIBRARIES  # the check matches pictures as the capture does
OLD_MIN_POINTS = 2  # points of a head that must be found for a mean offset against an old baseline


def correspondences(baseline):
    """A baseline as [[x, y, pan, tilt], ...], or None for the old shape (a mean offset {pan, tilt}) or none."""
    return [list(map(float, pair)) for pair in baseline] if isinstance(baseline, list) and baseline else None


def new_baseline(found):
    """The baseline a head keeps from the points the check found: at most BASELINE_PAIRS correspondences."""
    return [[p["x"], p["y"], round(p["pan"], 4), round(p["tilt"], 4)] for p in found[:BASELINE_PAIRS]]


class DriftCheck(capture.Capture):
    """One unit's image drift check: a capture that also measures how far the mount turned against the PTZ."""

    def drift(self, camera, points, baseline, tolerance):
        """The head's drift: each pixel of its baseline (or of its point set, without one) found again in the
        PTZ's pictures after a click to centre through its saved calibration, and the Q6000-E's rotation fitted to
        the pairs (the baseline's direction of a pixel, tonight's). Its status is drifted, ok or not_measured
        (with the reason in words: too few or too close pairs, a dark or infrared picture, too uncertain). A
        baseline of the old shape (a mean offset) is judged as it was measured: the mean offset's move from it.
        With it, the points found, as calibration_capture takes them, for a recapture and a new baseline."""
        pairs = correspondences(baseline)
        if pairs:
            against, pixels = "baseline", [{"x": x, "y": y, "pan": pan, "tilt": tilt} for x, y, pan, tilt in pairs]
        else:
            against, pixels = ("old baseline" if baseline else "point set"), points
        result, found = not_measured(tolerance, None, against), []
        head, grey = self.heads[camera]
        unusable = ptz_run.unusable(head.image, grey)
        if unusable:
            return _not_measured(result, "the head's picture is %s" % unusable), found
        measured, before, worst = self._measure(camera, pixels, result, found)
        if result["reason"]:
            return result, found
        if found:
            result["max"] = max(m["error"] for m in measured if m["error"] is not None)
            _error, x, y, picture, scale = worst
            thumbnail = matching.thumbnail(self.heads[camera][0], x, y, self.radius_fine, picture,
                                           self.radius_fine * scale)
            result["thumbnail"] = "data:image/jpeg;base64," + base64.b64encode(thumbnail).decode("ascii")
        if against == "old baseline":
            return _judged_on_the_mean(result, measured, baseline, tolerance), found
        try:
            turn = rotation.fit(before, [(p["pan"], p["tilt"]) for p in found])
        except rotation.RotationError as exc:
            missing = ["x %s, y %s: %s" % (m["x"], m["y"], m["reason"]) for m in measured if m["error"] is None]
            return _not_measured(result, "%d of the %d points found; %s%s" % (
                len(found), len(pixels), exc, " (%s)" % "; ".join(missing) if missing else "")), found
        result["status"], result["reason"] = rotation.judge(turn, tolerance)
        result.update(pairs=turn["pairs"], uncertainty=round(turn["uncertainty"], 3), moved=round(turn["angle"], 3),
                      rotation={axis: round(turn[axis], 3) for axis in ("yaw", "pitch", "roll", "angle")})
        result["flagged"] = result["status"] == "drifted"
        return result, found

    def ready(self, idle):
        """Why no head can be measured before any move (the PTZ in use, or its picture where it rests dark or
        infrared), or None. That picture also lets the first move's picture tell how late the PTZ's come."""
        busy = self.servo.in_use(idle)
        if busy is not None:
            return busy
        try:
            picture = self.servo.picture()
        except PtzMovedError as exc:
            return "PTZ in use: %s" % exc.words
        return self.ptz_unusable(picture)

    def _measure(self, camera, pixels, result, found):
        """Each pixel clicked to through the saved calibration and found again: the per-point results, the
        baseline directions of those found (in step with `found`, which it fills), and the worst point for the
        thumbnail. A dark or infrared PTZ picture stops the head as not measured (result["reason"])."""
        head = self.heads[camera][0]
        measured, before, worst = result["points"], [], None
        for point in pixels:
            if self.servo.where[2] != self.bounds["MinZoom"]:
                self.servo.go(self.servo.where[0], self.servo.where[1], self.bounds["MinZoom"])
            x, y = self.servo.overview_click(self.client, camera, point["x"], point["y"], self.size)
            landed = self.servo.where
            self.measure(camera)
            picture = self.ptz_picture()
            if not measured:
                unusable = self.ptz_unusable(picture)
                if unusable:
                    _not_measured(result, unusable)
                    return measured, before, worst
            try:
                match = self._landed(head, x, y, picture)
                true = self.centre(head, x, y, match)
            except TargetError as exc:
                measured.append({"x": point["x"], "y": point["y"], "pan": None, "tilt": None, "error": None,
                                 "reason": str(exc)})
                continue
            error = angular_distance(landed[0], landed[1], true["pan"], true["tilt"])
            measured.append({"x": point["x"], "y": point["y"], "pan": round(wrap180(true["pan"] - landed[0]), 3),
                             "tilt": round(true["tilt"] - landed[1], 3), "error": round(error, 3)})
            found.append(true)
            before.append((point["pan"], point["tilt"]))
            if worst is None or error > worst[0]:
                worst = (error, x, y, picture, match.scale)
        return measured, before, worst

    def _landed(self, head, x, y, picture):
        """The head pixel in the PTZ's picture where the check landed; a patch that fails to match (a few
        features, or a marginal mapping) gets one more try with a wider patch before the point is given up."""
        try:
            return matching.locate(head, x, y, picture, self.radius_coarse)
        except TargetError:
            return matching.locate(head, x, y, picture, self.radius_coarse * 1.6)

    def recapture(self, camera, found, count, budget):
        """New points for a head whose mount moved: the points the drift check found, when enough of them agree
        within `budget`; else a fresh capture, which starts from what they taught."""
        if len(found) >= MIN_POINTS and max(e for _i, e in worst_points_ranked(found)) <= budget:
            return found
        for point in found:
            self.knowledge.learn(camera, point)
        return self.head(camera, max(count, MIN_POINTS), budget)


def not_measured(tolerance, reason, against=None):
    """A head's image drift result with nothing measured (yet): status not_measured, and why."""
    return {"method": "image", "status": "not_measured", "flagged": False, "tolerance": tolerance, "max": None,
            "points": [], "pairs": 0, "reason": reason, "rotation": None, "uncertainty": None, "moved": None,
            "against": against, "thumbnail": None}


def _not_measured(result, reason):
    result.update(status="not_measured", flagged=False, reason=reason)
    return result


def _judged_on_the_mean(result, measured, baseline, tolerance):
    """A baseline of the old shape, the head's mean offset, judged as it was measured: the move of tonight's mean
    offset from it. The check then keeps the new shape of baseline."""
    good = [m for m in measured if m["error"] is not None]
    if len(good) < min(OLD_MIN_POINTS, len(measured)) or not good:
        return _not_measured(result, "%d of the %d points found: too few for the mean offset its old baseline "
                                     "compares" % (len(good), len(measured)))
    pan = sum(m["pan"] for m in good) / len(good)
    tilt = sum(m["tilt"] for m in good) / len(good)
    moved = math.hypot(wrap180(pan - baseline["pan"]), tilt - baseline["tilt"])
    result.update(pairs=len(good), moved=round(moved, 3), status="drifted" if moved > tolerance else "ok")
    result["flagged"] = result["status"] == "drifted"
    return result


@contextmanager
def image_work(client, ptz, params, cameras):
    """A DriftCheck of `cameras` (their pictures taken) for remote_calibration's image drift check; the PTZ is
    put back where it was on the way out, whatever happens, unless someone else moved it meanwhile."""
    check_resolutions(client, ptz, params, cameras)
    servo = Servo(ptz, picture_size("ptz_resolution", params["ptz_resolution"]))
    home = servo.where
    try:
        check = DriftCheck(client, servo, limits(ptz, "MinZoom", "MaxZoom", "MinTilt", "MaxTilt"), params)
        check.head_pictures(cameras)
        yield check
    finally:
        left = {}
        unput = put_back_on_the_way_out(servo, home, left, sys.exc_info()[1] is not None)
        if unput is not None:
            left.setdefault("warnings", []).append("the PTZ could not be put back: %s" % unput)
        client.warnings.extend(left.get("warnings", []))
