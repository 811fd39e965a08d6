# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PTZ run that drives and waits: the PTZ centred on head pixels, what its moves teach, and its put-back.

The head's patch around a pixel is found in the PTZ's picture (matching.locate) and the PTZ centres on it
with its own `center=` (or `areazoom=`, which zooms by a known factor), so no table of the PTZ's field of
view is needed. When the patch sits at the picture's centre, at a zoom where the PTZ sees finer than the
head, the PTZ's position is the point. Every move and picture is counted; if someone else moves the PTZ
meanwhile (a guard tour, an operator), the run stops and leaves it to them. Otherwise the PTZ is put back where it
was, zoom included.
"""

from __future__ import annotations

import math
import time

from ansible_collections.vapix.q6000.plugins.module_utils._image_options import check_streamed, picture_size
from ansible_collections.vapix.q6000.plugins.module_utils._interrupts import shielded
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import (
    NOMINAL,
    fit,
    nominal_head,
    project,
    wrap180,
)
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import (
    move,
    overview_click,
    position,
    put_back,
    same_position,
    settled_position,
)
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    PtzMovedError,
    PtzRestlessError,
    TargetError,
    UnexpectedAnswerError,
    VapixError,
)
from ansible_collections.vapix.q6000.plugins.module_utils.vision import matching

MIN_POINTS = 4  # a head with fewer usable points fails: Axis recommends at least four
FINE_SCALE = 3.5  # PTZ pixels per head pixel at which a point is taken: the PTZ sees finer than the head
CENTRED = 0.6  # PTZ pixels from the picture's centre within which the target is centred
CORRECTABLE = 25.0  # PTZ pixels within which the rest is turned into degrees instead of another move
MIN_STEP_PIXELS = 6.0  # PTZ pixels a click must go for the degrees per pixel to be learnt from it
MAX_MOVES = 4  # per point after the approach (one move, or the first point's search), the zoom included
OVERLAY_WAIT = 1.1  # seconds between a head's two pictures, so that a burned-in clock shows as a change
STEADY_TRIES = 8  # pictures after the first, at most, for two in a row to agree after a move
STEADY_WAIT = 0.12  # seconds between them
LATENCY_MAX = 2.0  # seconds a picture may lag behind the PTZ, at most
IDLE_POLL = 0.5  # seconds between the reads that tell an idle PTZ
DARK = 50  # mean grey level (of 255) under which a picture is too dark to match against a day picture
OWNED = 0.25  # degrees (pan, tilt; zoom steps: 1) within which the PTZ is still where the run left it


class Servo:
    """The PTZ as the capture drives it: every move and picture counted, and a check that nobody else moves it.

    `where` is where the run last left the PTZ at rest, and `pending` says that a command of the run's is on its
    way (sent, its rest not yet seen): the PTZ is the run's then, even away from `where` (an interrupted run
    still puts it back). Once the PTZ is found elsewhere with nothing pending, someone else has it and the run
    moves it no more (PtzMovedError, no put-back). A person's move in the instant between the run's check and its
    next command cannot be told from the run's own."""

    def __init__(self, ptz, size):
        self.ptz = ptz
        self.width, self.height = self.asked = size
        self.moves = self.snapshots = 0
        self.pending = False
        self.theirs = False  # found in use before the run's first move: never the run's
        self.unseen_move, self.large_move, self.moved_at = True, False, 0.0  # the last move, not yet pictured
        self.latency = None  # seconds its pictures lag behind it, once a large move showed it
        self.last_image = None
        self.jpeg = None  # the last picture as the PTZ sent it
        self.restless = None  # why the PTZ is someone else's from the start: it never came to rest
        try:
            self.where = settled_position(ptz)
        except PtzRestlessError as exc:
            self.where, self.theirs = position(ptz), True
            self.restless = "PTZ in use: %s before the run's first move; the run left it alone" % exc.words

    def in_use(self, seconds):
        """Why the PTZ is someone else's before the run's first move (it moved within `seconds`, read twice a
        second from where it rested when the run began), or None when it stayed idle. A run leaves a PTZ in use
        alone: a person following something on the site has it."""
        if self.restless:
            return self.restless
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(min(IDLE_POLL, max(0.0, deadline - time.monotonic())))
            now = position(self.ptz)
            if not same_position(now, self.where):
                self.theirs = True
                return ("PTZ in use: it moved from pan %.2f, tilt %.2f, zoom %d to pan %.2f, tilt %.2f, zoom %d "
                        "within the %s s it had to be idle (ptz_idle); the run left it alone"
                        % (self.where + now + (seconds,)))
        return None

    def _still(self):
        now = position(self.ptz)
        if not self.owns(now):
            self.theirs = True
            raise PtzMovedError("the PTZ was moved by someone else (from pan %.2f, tilt %.2f, zoom %d to pan %.2f, "
                                "tilt %.2f, zoom %d) while the run used it; stopped, and the PTZ left to them "
                                "(a guard tour or an operator: run again when it is free)" % (self.where + now),
                                cgi="com/ptz.cgi", host=self.ptz.host)

    def _elsewhere(self, message):
        """The run's command did not leave the PTZ where it should: someone else moved it meanwhile."""
        self.pending, self.theirs = False, True
        return PtzMovedError(message + "; stopped, and the PTZ left there (a guard tour or an operator: run again "
                             "when it is free)", cgi="com/ptz.cgi", host=self.ptz.host)

    def go(self, pan, tilt, zoom):
        self._still()
        self.pending = True
        landed = move(self.ptz, pan, tilt, zoom, before=self.where)
        self.moves += 1
        self._moved(large=True)
        if abs(wrap180(landed[0] - pan)) > OWNED or abs(landed[1] - tilt) > OWNED:
            raise self._elsewhere("the PTZ came to rest at pan %.2f, tilt %.2f, not at pan %.2f, tilt %.2f where it "
                                  "was sent (someone else moved it, or the target is beyond its limits)"
                                  % (landed[0], landed[1], pan, tilt))
        self.where, self.pending = landed, False

    def owns(self, now):
        """Whether the PTZ, read at `now`, is still where the run left it."""
        return (not self.theirs and abs(wrap180(now[0] - self.where[0])) <= OWNED
                and abs(now[1] - self.where[1]) <= OWNED and abs(now[2] - self.where[2]) <= 1)

    def click(self, u, v, zoom_factor=None):
        """Centre the PTZ on pixel (u, v) of its picture (OpenCV coordinates), zooming by `zoom_factor`.

        In whole pixels of the picture as streamed: VAPIX types center= as integers in the client's video stream,
        and firmware that holds to it refuses fractions and sizes it does not stream. The half pixel this loses is
        what the centring turns into degrees afterwards. The offset from the centre actually clicked, in pixels."""
        self._still()
        px, py = self.clicked(u, v)
        args = {"imagewidth": str(self.width), "imageheight": str(self.height)}
        if zoom_factor is None:
            args["center"] = "%d,%d" % (px, py)
        else:
            args["areazoom"] = "%d,%d,%d" % (px, py, round(zoom_factor * 100))
        before, commanded = self.where, time.monotonic()
        self.pending = True
        self.ptz.ptz(args, write=True)
        landed = settled_position(self.ptz, before=before, commanded=commanded)
        self.moves += 1
        self._moved(large=False)
        if zoom_factor is None and abs(landed[2] - before[2]) > 1:
            raise self._elsewhere("the PTZ's zoom went from %d to %d on a click that keeps it"
                                  % (before[2], landed[2]))
        self.where, self.pending = landed, False
        return px - self.width / 2.0, py - self.height / 2.0

    def clicked(self, u, v):
        """The whole pixel (VAPIX's X, Y: 0..width, 0..height) a click on OpenCV pixel (u, v) sends."""
        return (min(self.width, max(0, round(min(max(u, -0.5), self.width - 0.5) + 0.5))),
                min(self.height, max(0, round(min(max(v, -0.5), self.height - 0.5) + 0.5))))

    def overview_click(self, client, camera, x, y, size):
        """ptz.overview_click, counted and watched like the PTZ's own moves; the pixel actually clicked."""
        self._still()
        self.pending = True
        clicked, self.where = overview_click(client, self.ptz, camera, x, y, size, self.where)
        self.pending = False
        self.moves += 1
        self._moved(large=True)
        return clicked

    def picture(self):
        """The PTZ's picture of where it rests. After a move, pictures are taken until two in a row show the same
        view, sharp alike: a camera's pictures come a moment late (the encoder's pipeline), and blurred while its
        focus hunts after a zoom, so the first after a move may show it on the way."""
        self._still()
        if self.unseen_move and self.large_move and self.latency is None and self.last_image is not None:
            image = self._first_new_view()
        else:
            if self.unseen_move and self.latency:
                time.sleep(max(0.0, self.latency - (time.monotonic() - self.moved_at)))
            image = self._snapshot()
        tries = STEADY_TRIES if self.unseen_move else 0
        while tries:
            time.sleep(STEADY_WAIT)
            again = self._snapshot()
            if matching.same_view(image, again):
                break
            image, tries = again, tries - 1
        self.unseen_move, self.last_image = False, image
        self._still()
        return image

    def _moved(self, large):
        self.unseen_move, self.large_move, self.moved_at = True, large, time.monotonic()

    def _first_new_view(self):
        """After the run's first large move, pictures until one shows a view other than before the move: how
        long that took after the PTZ came to rest is how late its pictures come (a delay, which two pictures in a
        row that agree cannot reveal: both may show the old view). Later pictures wait that long after a move."""
        while True:
            asked = time.monotonic()
            image = self._snapshot()
            if not matching.same_view(image, self.last_image) or asked - self.moved_at > LATENCY_MAX:
                self.latency = min(LATENCY_MAX, max(0.0, asked - self.moved_at))
                return image
            time.sleep(STEADY_WAIT / 2)

    def _snapshot(self):
        self.jpeg = self.ptz.snapshot({"resolution": "%dx%d" % self.asked})
        image = _decoded(self.jpeg, self.ptz.host)
        if image.shape != (self.height, self.width):
            if self.snapshots:
                raise UnexpectedAnswerError("the PTZ's snapshot is %dx%d, where the earlier ones were %dx%d"
                                            % (image.shape[1], image.shape[0], self.width, self.height),
                                            cgi="jpg/image.cgi", host=self.ptz.host)
            # A unit may answer at another size than asked: its pixels are the picture's, not the request's.
            self.height, self.width = image.shape
        self.snapshots += 1
        return image


def _decoded(jpeg, host):
    """A snapshot as a grey image; one that does not decode is the device's fault, not the target's."""
    try:
        return matching.decode(jpeg)
    except TargetError as exc:
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
            nominal_pan = project(point["x"], point["y"], nominal(camera, 0.0))[0]
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
            return project(x, y, nominal(camera, self.mount))
        return None


def nominal(camera, mount):
    return (wrap180(90.0 * (camera - 1) + mount),) + NOMINAL[1:]


def check_resolutions(client, ptz, params, cameras):
    """The resolutions asked, refused before any snapshot when a device does not stream them."""
    check_streamed(ptz, "ptz_resolution", params["ptz_resolution"], [0])
    check_streamed(client, "resolution", params["resolution"], [camera - 1 for camera in cameras])


class PtzRun:
    """One unit's image work: the heads' pictures, the PTZ, and what its moves taught on the way."""

    def __init__(self, client, servo, bounds, params):
        self.client, self.servo, self.bounds = client, servo, bounds
        self.asked = picture_size("resolution", params["resolution"])
        self._sized(*self.asked)
        self.knowledge = Knowledge()
        self.heads = {}
        self.measuring, self.paired = None, None  # the head being measured; its picture beside the PTZ's last

    def _sized(self, width, height):
        """The heads' picture size, and the patch radii that go with it."""
        self.size = (width, height)
        self.radius_coarse = max(24, int(round(0.104 * width)))
        self.radius_fine = max(16, int(round(0.052 * width)))

    # -- the heads' pictures ----------------------------------------------------------------------------------

    def head_pictures(self, cameras):
        """Two pictures of each head a moment apart: what changed between them (a clock) is never matched."""
        resolution = "%dx%d" % self.asked
        first, taken = {}, time.monotonic()
        for camera in cameras:
            first[camera] = self.client.snapshot({"camera": str(camera), "resolution": resolution})
        time.sleep(max(0.0, OVERLAY_WAIT - (time.monotonic() - taken)))
        for camera in cameras:
            jpeg = self.client.snapshot({"camera": str(camera), "resolution": resolution})
            image, grey = _decoded(jpeg, self.client.host), matching.is_grey(jpeg)
            if image.shape != (self.size[1], self.size[0]):
                if self.heads:
                    raise UnexpectedAnswerError("the snapshot of camera %s is %dx%d, where the other heads' are %dx%d"
                                                % (camera, image.shape[1], image.shape[0], self.size[0], self.size[1]),
                                                cgi="jpg/image.cgi", host=self.client.host)
                # A unit may answer at another size than asked: its pixels are the picture's, not the request's.
                self._sized(image.shape[1], image.shape[0])
            earlier = _decoded(first[camera], self.client.host)
            if earlier.shape != image.shape:
                raise UnexpectedAnswerError("two snapshots of camera %s at %s came in different sizes (%s, %s)"
                                            % (camera, resolution, earlier.shape[::-1], image.shape[::-1]),
                                            cgi="jpg/image.cgi", host=self.client.host)
            mask = matching.changed_mask(earlier, image)
            self.heads[camera] = (matching.HeadPicture(image, mask), grey)

    # -- centring the PTZ on a head pixel ---------------------------------------------------------------------

    def _centre_offset(self, match):
        return match.u - (self.servo.width / 2.0 - 0.5), match.v - (self.servo.height / 2.0 - 0.5)

    def centre(self, head, x, y, match):
        """From a match of head pixel (x, y) in the PTZ's picture, zoom in and centre the PTZ on it; the point."""
        start = self.servo.moves
        size = (self.servo.width, self.servo.height)
        factor = 1.0
        if match.scale < FINE_SCALE / 1.5:
            factor = min(30.0, max(1.0, FINE_SCALE / match.scale))
            expected = matching.recentred(match.mapping, match.u, match.v, *size, factor=factor)
            wide = self.servo.where
            offset = self.servo.click(match.u, match.v, factor)
            self.knowledge.learn_step(wide, self.servo.where, offset)
            match = matching.follow(head, x, y, self.ptz_picture(), self.radius_fine, expected)
        while True:
            du, dv = self._centre_offset(match)
            if math.hypot(du, dv) <= CENTRED or self.servo.clicked(match.u, match.v) == (size[0] / 2, size[1] / 2):
                break  # centred, or as near as a click in whole pixels gets
            step = self.knowledge.step(math.hypot(du, dv))
            if step is not None:
                # A few pixels off: the PTZ's own degrees per pixel (learnt from its moves) say where it looks.
                pan, tilt = self.servo.where[0], self.servo.where[1]
                degrees = step / factor
                return self._point(head, x, y, pan + du * degrees / max(0.1, math.cos(math.radians(tilt))),
                                   tilt - dv * degrees, match)
            if self.servo.moves - start >= MAX_MOVES:
                raise TargetError("not centred after %d moves (%.1f pixels off)"
                                  % (MAX_MOVES, math.hypot(du, dv)))
            expected = matching.recentred(match.mapping, match.u, match.v, *size)
            before = self.servo.where
            offset = self.servo.click(match.u, match.v)
            self.knowledge.learn_step(before, self.servo.where, offset, factor)
            match = matching.follow(head, x, y, self.ptz_picture(), self.radius_fine, expected)
        return self._point(head, x, y, self.servo.where[0], self.servo.where[1], match)

    def measure(self, camera):
        """The PTZ's pictures from now on are of head `camera`'s points (see ptz_picture)."""
        self.measuring, self.paired = camera, None

    def ptz_unusable(self, picture, dark=True):
        """Why the PTZ's `picture` (its last) cannot be matched against a head's day picture, in words, or None;
        with `dark` false, only when it is grey (a state of the camera, not of where it looks)."""
        why = unusable(picture if dark else None, matching.is_grey(self.servo.jpeg))
        return why and "the PTZ's picture is %s" % why

    def ptz_picture(self):
        """The PTZ's picture and, right after it, one of the head being measured: the two show the site as it was
        at one moment, however the mast sways (see _steady)."""
        picture = self.servo.picture()
        if self.measuring is not None:
            self.paired = self.client.snapshot({"camera": str(self.measuring), "resolution": "%dx%d" % self.asked})
        return picture

    def _point(self, head, x, y, pan, tilt, match):
        pan, tilt = self._steady(head, x, y, pan, tilt)
        return {"x": x, "y": y, "pan": round(wrap180(pan), 4), "tilt": round(tilt, 4),
                "score": round(max(0.0, match.correlation), 3)}

    def _steady(self, head, x, y, pan, tilt):
        """The direction of head pixel (x, y) from where the PTZ found its content. A swaying mast turns both
        cameras against the site at once, so the PTZ found the content where it was at its last picture; the head's
        picture taken right after says how far that content had moved from (x, y) since the head's reference
        picture, and the head's nominal degrees per pixel take that move back out."""
        if self.paired is None:
            return pan, tilt
        u, v = matching.to_pixel(x, y, *self.size)
        moved = matching.moved(head.image, _decoded(self.paired, self.client.host), u, v, self.radius_coarse)
        if moved is None or math.hypot(*moved) > self.radius_fine / 4.0:
            return pan, tilt  # no shift, or more than a mast sways: a vehicle or a repeat, not the site moving
        lens = nominal(self.measuring, 0.0)
        before = project(x, y, lens)
        after = project(*matching.to_normal(u + moved[0], v + moved[1], *self.size), lens)
        return pan - wrap180(after[0] - before[0]), tilt - (after[1] - before[1])


def unusable(image, grey):
    """Why a picture cannot be matched against a day picture (grey: night mode, infrared; too dark, unless `image`
    is None), or None."""
    if grey:
        return "grey (night mode, infrared)"
    if image is not None and float(image.mean()) < DARK:
        return "too dark (mean grey level %.0f of 255)" % image.mean()
    return None


def _as_dict(where):
    return {"pan": where[0], "tilt": where[1], "zoom": where[2]}


def put_back_home(servo, home, result):
    """The PTZ back where it was, zoom included, when it is still the run's (where the run left it, or a command
    of the run's on its way): once someone else moved it, it is theirs, and it stays where they put it. The
    position it was read at, or rests at after the put-back, goes into the result."""
    now = position(servo.ptz)
    if not (servo.pending or servo.owns(now)):
        result["ptz"] = _as_dict(now)
        result.setdefault("warnings", []).append(
            "the PTZ was moved by someone else during the run: left where they put it, not put back")
        return
    put_back(servo.ptz, home)
    result["ptz"] = _as_dict(settled_position(servo.ptz, before=now, commanded=time.monotonic()))


def put_back_on_the_way_out(servo, home, result, failing):
    """put_back_home as a run ends, shielded from interrupts. A put-back that fails is raised when the run itself
    succeeded, and returned when another failure (`failing`) already stopped the run: that failure stays the
    task's message, and the caller says this one beside it."""
    try:
        with shielded():
            put_back_home(servo, home, result)
    except VapixError as exc:
        if not failing:
            raise
        return exc
    return None
