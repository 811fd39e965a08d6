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
import sys
from contextlib import contextmanager

from ansible_collections.vapix.q6000.plugins.module_utils.errors import CaptureError, TargetError
from ansible_collections.vapix.q6000.plugins.module_utils._image_options import picture_size
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import (
    angular_distance,
    worst_points_ranked,
    wrap180,
)
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import limits
from ansible_collections.vapix.q6000.plugins.module_utils.vision import capture, matching
from ansible_collections.vapix.q6000.plugins.module_utils.vision.ptz_run import (
    MIN_POINTS,
    Servo,
    check_resolutions,
    put_back_on_the_way_out,
)

LIBRARIES = capture.LIBRARIES  # the check matches pictures as the capture does
DRIFT_MIN_POINTS = 2  # points of a head that must be found for its drift to be measured


class DriftCheck(capture.Capture):
    """One unit's image drift check: a capture that also measures how far the PTZ lands from the heads' pixels."""

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
            except TargetError as exc:
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
            raise CaptureError("camera %s: the drift could not be measured: %d of the %d points were found "
                               "in the PTZ's pictures (%s)" % (camera, len(good), len(points), reasons),
                               cgi="jpg/image.cgi", host=self.servo.ptz.host)
        _error, x, y, picture, scale = worst
        thumbnail = matching.thumbnail(head, x, y, self.radius_fine, picture, self.radius_fine * scale)
        return {"points": measured, "found": found,
                "pan": round(sum(m["pan"] for m in good) / len(good), 3),
                "tilt": round(sum(m["tilt"] for m in good) / len(good), 3),
                "thumbnail": "data:image/jpeg;base64," + base64.b64encode(thumbnail).decode("ascii")}

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
