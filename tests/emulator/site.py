"""What a real site does to the pictures: the time of day, the mast's sway, traffic, looks and latency.

A pure library (numpy, cv2) used by `views` (pictures), `scene` (looks) and `imagecgi` (latency). It
knows nothing of `plugins/` and assumes nothing of the collection's estimators.

- **Clock** (`Site.seconds`): the time the world shows, `clock` hours at the moment it was set (at start,
  and at every settings request that carries `clock`), advancing with wall time. Sway and traffic are
  pure functions of this clock and the unit's seed, so a test that sets the clock sees the same world.
  The value and the moment it was set are one tuple, replaced at once (render threads read it). What moves
  (sway, vehicles, people) runs on the unwrapped time (`Site.elapsed`), so nothing jumps at midnight.
- **Sway** (`Site.sway`): the mast's top turns against the world, the Q6000-E and the PTZ together:
  a rotation about a seeded horizontal axis of A sin(2 pi s / `sway_period` + phase), a quarter-phase
  rotation about the perpendicular horizontal axis of 0.25..0.5 of that (the top traces an ellipse), and a
  slow yaw of 0.15 A at 0.61 times the rate; A is `sway` / sqrt(1 + 0.15^2), so the whole turn never exceeds
  `sway` degrees. A camera direction d (mount frame) points along R d in the world. Heads: the cached
  picture is warped (each pixel takes the colour of the rest-picture pixel whose ray is R times its own ray,
  found through the head's own rays; where that falls outside the picture, the nearest edge pixel: strips
  of up to about `sway` / field of view of the width repeat the edge); the PTZ: its rays are turned before
  tracing. The reported PTZ position does not show it; the truth ignores it.
- **Traffic** (`Site.actors`): boxes on the ground. Per road two lanes (+-1/4 of its width from the
  centre line), each with 8 vehicles about 50 m apart (looping over 400 m centred on the road's nearest
  point to the mount), each at its lane's speed of 5..15 m/s times 0.8..1.2 of its own (they close up,
  pass through one another now and then: no lane repeats rigidly); two sidewalks (1.5 m beyond the edge)
  with 2 people each walking at 1.4 m/s (looping over 160 m); parked vehicles in the lot's stalls, about
  60 % occupied, drawn anew per hour of the clock. Vehicles: a painted body 0.2..1.0 m and a glass cabin
  (windows and roof alike) up to 1.45 m, 3.8..5 m long, 1.8 m wide; people: legs, torso, head, 1.75 m.
  All horizontal sizes and positions follow `depth_scale`. Heads: the boxes' faces are projected through
  the head's own rays (Newton's method on a coarse grid of `head_rays`, whatever the lens) and filled over
  the cached picture, with the head's sensor noise drawn per frame (the clock's 1/30 s); a pixel is kept
  where the static world's distance along its ray is not shorter (occlusion by buildings, fences, trees).
  The PTZ: ray-box intersections within each box's projected bounding rectangle (boxes outside the view
  frustum skipped, those crossing the camera's plane clipped to it), each ray keeping its nearest box,
  against the static world's distance.
- **Looks**: `dusk` (both cameras: the sun set; a dim bluish light from the sky, more on what faces up, a
  faint afterglow where the sun went down; most of the picture in the bottom sixth of the 8-bit range, where
  quantisation and noise eat fine detail; a haze veiling with distance (500 m) and a floor that flattens the
  blacks; a dark sky glowing at the horizon; the lamp heads lit, bloomed, with pools of light under them;
  about a third of the windows lit from inside; 3 times the noise) and `ir` (the PTZ alone with
  `ptz_night`: grey, near infrared: vegetation bright, sky dark, the illuminator falling off with distance,
  the lamps bloomed, detail lost (footprint doubled), twice the noise). `night` stays the scene's own IR
  look for both.
- **Latency** (`ptz_frame`, `scene_time`): with `frame_latency` > 0 a snapshot shows the world as it was
  that long ago, the PTZ where it was then (`Motion.position_at`), smeared over a 1/30 s exposure when it
  moved then, and defocused for half a second after each zoom change (autofocus hunting).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from .optics import wrap180
from .scene import CANOPY, HORIZON, LAMP

SECONDS_PER_DAY = 86400.0
EXPOSURE = 1.0 / 30.0
FOCUS_SECONDS = 0.5
SWAY_YAW = 0.15  # the yaw part of the sway, relative to the main one
# looks
DUSK, IR = "dusk", "ir"
DUSK_HORIZON = np.array([0.075, 0.055, 0.045], dtype=np.float32)
DUSK_ZENITH = np.array([0.008, 0.011, 0.024], dtype=np.float32)
DUSK_TINT = np.array([0.85, 0.95, 1.2], dtype=np.float32)
DUSK_SKY_LIGHT = 0.022  # the dusk sky's light on an upward face (a vertical one gets 0.55 of it)
DUSK_AFTERGLOW = 0.006  # the glow where the sun set, on faces turned to it
DUSK_FLOOR = 0.003  # dark current, flare: the blackest black
DUSK_HAZE = 500.0  # metres over which the dusk haze veils
DUSK_VEIL = np.array([0.032, 0.026, 0.024], dtype=np.float32)  # what the haze tends to
LAMP_GLOW = np.array([3.0, 2.5, 1.6], dtype=np.float32)
WINDOW_GLOW = np.array([0.10, 0.075, 0.045], dtype=np.float32)  # a lit room seen through its window
LAMP_LIGHT = np.array([1.0, 0.8, 0.55], dtype=np.float32) * np.float32(10.0)  # intensity, times 1/m^2 below
NOISE_FACTOR = {DUSK: 3.0, IR: 2.0}
LUMA = np.array([0.3, 0.55, 0.15], dtype=np.float32)
# traffic (metres, before depth_scale)
LANE_VEHICLES, ROAD_LOOP, WALKERS, WALK_LOOP, WALK_SPEED = 8, 400.0, 2, 160.0, 1.4
SPEED_SPREAD = 0.2  # each vehicle's speed: its lane's times 1 +- this
PAINTS = ((0.80, 0.80, 0.78), (0.04, 0.04, 0.045), (0.50, 0.50, 0.52), (0.50, 0.05, 0.04), (0.05, 0.10, 0.40),
          (0.20, 0.20, 0.21), (0.60, 0.50, 0.20))
GLASS = (0.05, 0.07, 0.09)
CLOTHES = ((0.05, 0.05, 0.08), (0.40, 0.08, 0.06), (0.10, 0.25, 0.45), (0.55, 0.50, 0.10), (0.30, 0.30, 0.30))
SKIN = (0.45, 0.30, 0.22)
# a box's 8 corners (local x, y in -1/+1, z 0/1) and its faces (corner indices, outward local normal)
_CORNERS = np.array([(sx, sy, sz) for sz in (0, 1) for sy in (-1, 1) for sx in (-1, 1)], dtype=float)
_FACES = (((0, 1, 5, 4), (0, -1, 0)), ((2, 3, 7, 6), (0, 1, 0)), ((0, 2, 6, 4), (-1, 0, 0)),
          ((1, 3, 7, 5), (1, 0, 0)), ((4, 5, 7, 6), (0, 0, 1)))


# ------------------------------------------------------------------------------------------------ looks

def head_look(settings) -> str:
    """The heads' look: dusk or day (""); `night` is the scene's own and wins."""
    return DUSK if settings.dusk and not settings.night else ""


def ptz_look(settings) -> str:
    """The PTZ's look: its own IR with `ptz_night`, else dusk or day; `night` wins."""
    if settings.night:
        return ""
    return IR if settings.ptz_night else DUSK if settings.dusk else ""


def noise_factor(look: str) -> float:
    return NOISE_FACTOR.get(look, 1.0)


def sky_look(look: str, d) -> np.ndarray:
    """Linear RGB (N, 3) of the sky along unit rays d under a look."""
    z = np.asarray(d[:, 2], dtype=np.float32)
    if look == IR:
        return np.repeat((np.float32(0.015) + np.float32(0.01) * np.clip(z, 0, 1))[:, None], 3, axis=1)
    mix = np.sqrt(np.clip(z, 0.0, 1.0))[:, None]
    return DUSK_HORIZON[None, :] * (1 - mix) + DUSK_ZENITH[None, :] * mix


def surface_look(look: str, albedo, mat, t, cos_inc, normal, sun, points=None, lights=None, lit=None) -> np.ndarray:
    """Linear RGB (N, 3) of surface points under a look: albedo (N, 3), material (N,) or None, distance,
    |cos| of incidence, normal (nx, ny, nz), sun direction. At dusk `points` (x, y, z) of the surface and
    `lights` (L, 3), the lit lamps, add pools of lamp light, and `lit` (N,) the lit windows' glow."""
    f32 = np.float32
    t32 = np.asarray(t, dtype=f32)
    if look == IR:
        luma = albedo @ LUMA
        green = albedo[:, 1] - np.maximum(albedo[:, 0], albedo[:, 2])
        veg = np.clip(f32(4.0) * green / np.maximum(albedo[:, 1], f32(1e-3)), 0.0, 1.0)
        if mat is not None:
            veg = np.where(mat == CANOPY, f32(1.0), veg)
        nir = luma * (1 - veg) + f32(2.6) * luma * veg
        nir = f32(0.3) + f32(0.6) * (nir - f32(0.3))
        fall = 1.0 / (1.0 + (t32 / f32(150.0)) ** 2)
        val = f32(0.02) + f32(0.75) * nir * fall * (f32(0.8) + f32(0.2) * cos_inc)
        out = np.repeat(val[:, None], 3, axis=1)
        if mat is not None:
            out[mat == LAMP] = f32(3.0)
        return out
    # dusk: the sun below the horizon; the sky's dim light (more on what faces up), an afterglow where it
    # set, the lamps' pools; a haze veiling with distance; a floor that flattens the blacks
    nx, ny, nz = (np.asarray(c, dtype=f32) for c in normal)
    glow = np.array([sun[0], sun[1], 0.15], dtype=float)
    glow /= np.linalg.norm(glow)
    afterglow = np.maximum(nx * f32(glow[0]) + ny * f32(glow[1]) + nz * f32(glow[2]), f32(0.0))
    ambient = f32(DUSK_SKY_LIGHT) * (f32(0.55) + f32(0.45) * nz) + f32(DUSK_AFTERGLOW) * afterglow
    light = ambient[:, None] * DUSK_TINT[None, :]
    if points is not None and lights is not None and len(lights):
        light = light + lamp_pools(points, (nx, ny, nz), lights)[:, None] * LAMP_LIGHT[None, :]
    rgb = f32(DUSK_FLOOR) + albedo * light
    if lit is not None:
        rgb = rgb + lit[:, None] * WINDOW_GLOW[None, :]
    haze = (1.0 - np.exp(-t32 / f32(DUSK_HAZE)))[:, None]
    out = (rgb * (1 - haze) + DUSK_VEIL[None, :] * haze).astype(f32)
    if mat is not None:
        out[mat == LAMP] = LAMP_GLOW
    return out


def lamp_pools(points, normal, lights) -> np.ndarray:
    """(N,) light of lamps shining down from `lights` (L, 3) on surface points (x, y, z) with normals:
    cos(face) cos(lamp's axis) / r^2, summed (the lamp heads' faces themselves are lit otherwise)."""
    f32 = np.float32
    px, py, pz = (np.asarray(c, dtype=f32) for c in points)
    nx, ny, nz = normal
    total = np.zeros(len(px), dtype=f32)
    for lx, ly, lz in np.asarray(lights, dtype=float):
        dx, dy, dz = f32(lx) - px, f32(ly) - py, f32(lz) - pz
        r2 = dx * dx + dy * dy + dz * dz + f32(0.25)
        face = np.maximum(nx * dx + ny * dy + nz * dz, f32(0.0))
        total += face * np.maximum(dz, f32(0.0)) / (r2 * r2)
    return total


def actor_radiance(look: str, night: bool, albedo, normal, view, t, sun) -> np.ndarray:
    """Linear RGB (N, 3) of actors' faces (no material): view are the unit rays that see them."""
    f32 = np.float32
    albedo = np.asarray(albedo, dtype=f32)
    n = np.asarray(normal, dtype=f32)
    cos_inc = np.maximum(np.abs((n * np.asarray(view, dtype=f32)).sum(axis=1)), f32(0.02))
    t = np.asarray(t, dtype=f32)
    if night:  # the scene's own IR look (scene._surface)
        luma = f32(0.35) + f32(0.3) * (albedo @ LUMA - f32(0.35))
        val = f32(0.04) + f32(0.6) * luma / (1.0 + (t / f32(120.0)) ** 2) * (f32(0.8) + f32(0.2) * cos_inc)
        return np.repeat(val[:, None], 3, axis=1)
    if look:
        return surface_look(look, albedo, None, t, cos_inc, (n[:, 0], n[:, 1], n[:, 2]), sun)
    light = f32(0.35) + f32(0.65) * np.maximum(n @ np.asarray(sun, dtype=f32), f32(0.0))
    haze = (1.0 - np.exp(-t / f32(2500.0)))[:, None]
    return np.clip(albedo * light[:, None], 0, 1) * (1 - haze) + HORIZON.astype(f32)[None, :] * haze


def bloom(radiance: np.ndarray, look: str) -> np.ndarray:
    """Linear (H, W, 3) with the glare of what is brighter than full scale (lit lamps) spread around it."""
    if look not in (DUSK, IR):
        return radiance
    excess = np.maximum(radiance - np.float32(1.0), np.float32(0.0))
    if not excess.any():
        return radiance
    h, w = radiance.shape[:2]
    sigma = max(1.0, w / 500.0)
    near = cv2.GaussianBlur(excess, (0, 0), sigma)
    small = cv2.resize(excess, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    far = cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma), (w, h), interpolation=cv2.INTER_LINEAR)
    return radiance + np.float32(0.8) * near + np.float32(0.6) * far


# ------------------------------------------------------------------------------------------------ latency

@dataclass(frozen=True)
class Frame:
    """What a PTZ picture shows: the world at monotonic time `when`, smeared over `smear` (pan, tilt
    degrees travelled in the exposure), defocused by `defocus` (0..1)."""

    when: float
    smear: tuple[float, float] = (0.0, 0.0)
    defocus: float = 0.0


def scene_time(settings, now: float | None = None) -> float:
    """The monotonic time a snapshot taken now shows (now minus `frame_latency`)."""
    now = time.monotonic() if now is None else now
    return now - max(0.0, float(settings.frame_latency))


def ptz_frame(motion, settings, now: float | None = None):
    """(pan, tilt, zoom, Frame) of a PTZ snapshot taken now."""
    now = time.monotonic() if now is None else now
    latency = float(settings.frame_latency)
    if latency <= 0:
        pan, tilt = motion.position()
        return pan, tilt, motion.zoom, Frame(now)
    when = now - latency
    pan, tilt = motion.position_at(when)
    pan0, tilt0 = motion.position_at(when - EXPOSURE)
    age = when - motion.zoom_changed_at(when)
    defocus = 0.0
    if 0.0 <= age < FOCUS_SECONDS:  # hunting: in and out of focus, settling
        defocus = (1.0 - age / FOCUS_SECONDS) * (0.6 + 0.4 * abs(math.cos(2.0 * math.pi * age / 0.2)))
    return pan, tilt, motion.zoom_at(when), Frame(when, (wrap180(pan - pan0), tilt - tilt0), defocus)


def smear_and_focus(radiance: np.ndarray, frame: Frame | None, tilt: float, hfov: float) -> np.ndarray:
    """Linear (H, W, 3) blurred along the PTZ's motion in the exposure and by autofocus hunting."""
    if frame is None:
        return radiance
    h, w = radiance.shape[:2]
    focal = (w / 2.0) / math.tan(math.radians(hfov) / 2.0)
    dx = math.radians(frame.smear[0]) * math.cos(math.radians(tilt)) * focal
    dy = math.radians(frame.smear[1]) * focal
    length = math.hypot(dx, dy)
    if length > 0.75:
        scale = min(1.0, w / length)
        dx, dy = dx * scale, dy * scale
        steps = int(min(32, max(3, length / 2)))
        acc = np.zeros_like(radiance)
        for k in range(steps):
            f = k / (steps - 1) - 0.5
            shift = np.float32([[1, 0, f * dx], [0, 1, f * dy]])
            acc += cv2.warpAffine(radiance, shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        radiance = acc / np.float32(steps)
    if frame.defocus > 0.01:
        radiance = cv2.GaussianBlur(radiance, (0, 0), max(0.5, frame.defocus * 0.012 * w))
    return radiance


# ------------------------------------------------------------------------------------------------ the site

def _rotation(vector) -> np.ndarray:
    rot, _jac = cv2.Rodrigues(np.asarray(vector, dtype=np.float64).reshape(3, 1))
    return rot


class Site:
    """One unit's clock, sway and traffic (see the module docstring)."""

    def __init__(self, seed: int, index: int, settings) -> None:
        self.seed, self.index, self.settings = int(seed), int(index), settings
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, index, 0x5173])
        self._axis = float(rng.uniform(0, 2 * math.pi))
        self._phase = float(rng.uniform(0, 2 * math.pi))
        self._ellipse = float(rng.uniform(0.25, 0.5))
        self._yaw_phase = float(rng.uniform(0, 2 * math.pi))
        # (hours shown, monotonic time it was set): one tuple, replaced in one assignment, so a render
        # thread never reads the value of one setting with the time of another
        self._anchor = (12.0, 0.0)
        self.set_clock()

    # -- the clock ----------------------------------------------------------------------------
    def set_clock(self, now: float | None = None) -> None:
        """The clock shows `settings.clock` now (called at start and when a request sets it)."""
        self._anchor = (float(self.settings.clock), time.monotonic() if now is None else now)

    def elapsed(self, when: float | None = None) -> float:
        """Seconds since the midnight before the clock was last set, at monotonic time `when` (default: now),
        not wrapped at the next midnight: what moves continuously (sway, vehicles) runs on this."""
        value, set_at = self._anchor
        if float(self.settings.clock) != value:  # changed without a settings request
            self.set_clock()
            value, set_at = self._anchor
        when = time.monotonic() if when is None else when
        return value * 3600.0 + (when - set_at)

    def seconds(self, when: float | None = None) -> float:
        """Seconds since midnight the world shows at monotonic time `when` (default: now)."""
        return self.elapsed(when) % SECONDS_PER_DAY

    def hours(self, when: float | None = None) -> float:
        return self.seconds(when) / 3600.0

    # -- sway ---------------------------------------------------------------------------------
    def sway(self, when: float | None = None) -> np.ndarray | None:
        """3x3 rotation of the mast's top at `when` (camera direction d looks along R d), None at rest. Its
        angle never exceeds `sway`: |(sin, e cos, YAW sin')| <= sqrt(1 + YAW^2), so each part is scaled by
        the inverse of that."""
        amplitude = math.radians(float(self.settings.sway)) / math.sqrt(1.0 + SWAY_YAW ** 2)
        if amplitude <= 0:
            return None
        s = self.elapsed(when)  # unwrapped: no jump at midnight
        omega = 2.0 * math.pi / float(self.settings.sway_period)
        a1 = amplitude * math.sin(omega * s + self._phase)
        a2 = amplitude * self._ellipse * math.cos(omega * s + self._phase)
        yaw = SWAY_YAW * amplitude * math.sin(0.61 * omega * s + self._yaw_phase)
        c, n = math.cos(self._axis), math.sin(self._axis)
        return _rotation((a1 * c - a2 * n, a1 * n + a2 * c, yaw))

    # -- traffic ------------------------------------------------------------------------------
    def actors(self, scene, when: float | None = None) -> np.ndarray:
        """(M, 10) boxes (cx, cy, yaw, half length, half width, z0, z1, r, g, b) of the traffic at `when`,
        empty without `traffic`."""
        if not self.settings.traffic:
            return np.zeros((0, 10))
        s = self.elapsed(when)  # what moves runs on unwrapped time (no jump at midnight)
        ds = float(scene.depth_scale)
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, self.index, 0x7AFF])
        boxes: list[tuple] = []
        for nx, ny, offset, half in scene.roads:
            ax, ay = -ny, nx
            for side in (-1.0, 1.0):
                speed = float(rng.uniform(5.0, 15.0)) * side  # the lane's
                loop = ROAD_LOOP * ds
                lane = side * half / 2.0
                yaw = math.atan2(ay * side, ax * side)
                for k in range(LANE_VEHICLES):
                    u0 = (k + float(rng.uniform(-0.3, 0.3))) * loop / LANE_VEHICLES
                    own = speed * float(rng.uniform(1.0 - SPEED_SPREAD, 1.0 + SPEED_SPREAD))
                    u = (u0 + own * s) % loop - loop / 2.0
                    length = float(rng.uniform(3.8, 5.0))
                    paint = PAINTS[int(rng.integers(len(PAINTS)))]
                    x, y = nx * (offset + lane) + ax * u, ny * (offset + lane) + ay * u
                    boxes += _vehicle(x, y, yaw, length, ds, paint)
            for side in (-1.0, 1.0):
                walk = side * (half + 1.5 * ds)
                for _k in range(WALKERS):
                    loop = WALK_LOOP * ds
                    sense = 1.0 if rng.uniform() < 0.5 else -1.0
                    u = (float(rng.uniform(0, loop)) + sense * WALK_SPEED * s) % loop - loop / 2.0
                    clothes = CLOTHES[int(rng.integers(len(CLOTHES)))]
                    x, y = nx * (offset + walk) + ax * u, ny * (offset + walk) + ay * u
                    boxes += _person(x, y, math.atan2(ay * sense, ax * sense), ds, clothes)
        hour = int((s % SECONDS_PER_DAY) // 3600.0)
        cx, cy, hx, hy, pitch = scene.parking
        park = np.random.default_rng([self.seed & 0xFFFFFFFF, self.index, 0x9A4C, hour])
        stalls = int((hx - pitch / 2.0) // pitch)
        for row in (-1.0, 1.0):
            for m in range(-stalls, stalls + 1):
                taken, jitter = park.uniform() < 0.6, park.uniform(-0.15, 0.15, 2) * ds
                length, paint = float(park.uniform(3.8, 5.0)), PAINTS[int(park.integers(len(PAINTS)))]
                turn = float(park.uniform(-0.06, 0.06)) + (0.0 if park.uniform() < 0.5 else math.pi)
                if taken:
                    boxes += _vehicle(cx + m * pitch + jitter[0], cy + row * hy / 2.0 + jitter[1],
                                      math.pi / 2.0 + turn, length, ds, paint)
        return np.array(boxes, dtype=float).reshape(-1, 10)


def _vehicle(x, y, yaw, length, ds, paint) -> list[tuple]:
    c, s = math.cos(yaw), math.sin(yaw)
    back = -0.08 * length * ds  # the cabin sits a little behind the middle
    return [(x, y, yaw, 0.5 * length * ds, 0.9 * ds, 0.2, 1.0, *paint),
            (x + c * back, y + s * back, yaw, 0.28 * length * ds, 0.8 * ds, 1.0, 1.45, *GLASS)]


def _person(x, y, yaw, ds, clothes) -> list[tuple]:
    return [(x, y, yaw, 0.12 * ds, 0.17 * ds, 0.0, 0.85, 0.06, 0.06, 0.08),
            (x, y, yaw, 0.14 * ds, 0.22 * ds, 0.85, 1.5, *clothes),
            (x, y, yaw, 0.1 * ds, 0.1 * ds, 1.5, 1.75, *SKIN)]


def box_corners(boxes: np.ndarray) -> np.ndarray:
    """(M, 8, 3) world corners of boxes (rows as `Site.actors`)."""
    c, s = np.cos(boxes[:, 2])[:, None], np.sin(boxes[:, 2])[:, None]
    lx, ly = _CORNERS[None, :, 0] * boxes[:, 3:4], _CORNERS[None, :, 1] * boxes[:, 4:5]
    z = boxes[:, 5:6] + _CORNERS[None, :, 2] * (boxes[:, 6:7] - boxes[:, 5:6])
    return np.stack([boxes[:, 0:1] + c * lx - s * ly, boxes[:, 1:2] + s * lx + c * ly, z], axis=-1)


def trace_box(box, origin, dirs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One box (a row as `Site.actors`) against rays `dirs` (K, 3) from `origin`: (hit (K,) bool, distance
    (K,) along each ray to the box's near face, +inf where it misses, normal (hit.sum(), 3) of the face hit)."""
    o = np.asarray(origin, dtype=float)
    d = np.asarray(dirs, dtype=float)
    cx, cy, yaw, hx, hy, z0, z1 = (float(v) for v in box[:7])
    c, s = math.cos(yaw), math.sin(yaw)
    px, py = o[0] - cx, o[1] - cy
    lo = (c * px + s * py, -s * px + c * py, o[2])
    ld = (c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2])
    bounds = ((-hx, hx), (-hy, hy), (z0, z1))
    tn = np.full(len(d), -np.inf)
    tf = np.full(len(d), np.inf)
    axis = np.zeros(len(d), dtype=np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(3):
            inv = 1.0 / ld[k]
            ta, tb = (bounds[k][0] - lo[k]) * inv, (bounds[k][1] - lo[k]) * inv
            near, far = np.fmin(ta, tb), np.fmax(ta, tb)
            axis = np.where(near > tn, np.int8(k), axis)
            tn, tf = np.maximum(tn, near), np.minimum(tf, far)
    hit = (tn <= tf) & (tn > 1e-6)
    k = axis[hit]
    sign = -np.sign(np.where(k == 0, ld[0][hit], np.where(k == 1, ld[1][hit], ld[2][hit])))
    normal = np.stack([np.where(k == 0, c, np.where(k == 1, -s, 0.0)) * sign,
                       np.where(k == 0, s, np.where(k == 1, c, 0.0)) * sign,
                       np.where(k == 2, 1.0, 0.0) * sign], axis=1)
    return hit, np.where(hit, tn, np.inf), normal


def _nearest(b, hit, dist, normal, index, t, which, normals) -> None:
    """Where box b's hits (rays `index`) are nearer than the nearest so far (t), b becomes the nearest."""
    rays = index[hit]
    nearer = dist[hit] < t[rays]
    rays = rays[nearer]
    t[rays], which[rays], normals[rays] = dist[hit][nearer], b, normal[nearer]


def trace_boxes(boxes: np.ndarray, origin, dirs, t, which, normal) -> None:
    """Ray-box intersections of `dirs` (K, 3) from `origin`: where a box is nearer than t, updates t (K,),
    which (K,) (box row) and normal (K, 3) in place; each ray ends with its nearest box."""
    index = np.arange(len(dirs))
    for b in range(len(boxes)):
        _nearest(b, *trace_box(boxes[b], origin, dirs), index, t, which, normal)


# a box's 12 edges (corner pairs differing in one local coordinate)
_EDGES = tuple((i, i | bit) for bit in (1, 2, 4) for i in range(8) if not i & bit)
NEAR = 0.05  # metres: the PTZ's near plane (what is closer is not traced)


def _window(cam: np.ndarray, half: float, vhalf: float, width: int, height: int):
    """(i0, i1, j0, j1) pixel rectangle covering a box with corners `cam` (8, 3: right, up, forward) in a
    pinhole picture of half-extents (half, vhalf) at distance 1, or None when it is outside the view frustum
    or wholly behind the near plane. A box crossing the near plane is clipped to it first."""
    x, y, z = cam[:, 0], cam[:, 1], cam[:, 2]
    if ((z <= NEAR).all() or (x > half * z).all() or (x < -half * z).all() or (y > vhalf * z).all()
            or (y < -vhalf * z).all()):
        return None
    front = cam[z > NEAR]
    if len(front) < 8:  # the parts of the edges in front of the near plane
        cut = [cam[a] + (NEAR - z[a]) / (z[b] - z[a]) * (cam[b] - cam[a])
               for a, b in _EDGES if (z[a] > NEAR) != (z[b] > NEAR)]
        front = np.vstack([front, np.array(cut).reshape(-1, 3)])
    limit = 4.0 * (width + height)
    px = np.clip((front[:, 0] / front[:, 2] / half + 1.0) * width / 2.0 - 0.5, -limit, limit)
    py = np.clip((1.0 - front[:, 1] / front[:, 2] / vhalf) * height / 2.0 - 0.5, -limit, limit)
    i0, i1 = max(0, int(math.floor(px.min())) - 1), min(width, int(math.ceil(px.max())) + 2)
    j0, j1 = max(0, int(math.floor(py.min())) - 1), min(height, int(math.ceil(py.max())) + 2)
    if i0 >= i1 or j0 >= j1:
        return None
    return i0, i1, j0, j1


def ptz_boxes(boxes: np.ndarray, origin, dirs, basis, hfov, width, height):
    """(t (H*W,), which (H*W,), normal (H*W, 3)): the nearest box along each of a PTZ picture's rays (which -1
    and t inf where none). `dirs` (H*W, 3) are the picture's rays (sway included) and `basis` the matching
    camera axes (columns right, up, forward in the world): each box is traced only within its projected
    bounding rectangle (clipped to the near plane; none outside the view frustum)."""
    o = np.asarray(origin, dtype=float)
    half = math.tan(math.radians(hfov) / 2.0)
    cam = (box_corners(boxes) - o) @ basis  # (M, 8, 3): right, up, forward
    t = np.full(len(dirs), np.inf)
    which = np.full(len(dirs), -1, dtype=np.int32)
    normal = np.zeros((len(dirs), 3))
    cols = np.arange(width)
    for b in range(len(boxes)):
        window = _window(cam[b], half, half * height / width, width, height)
        if window is None:
            continue
        i0, i1, j0, j1 = window
        idx = (np.arange(j0, j1)[:, None] * width + cols[None, i0:i1]).ravel()
        _nearest(b, *trace_box(boxes[b], o, dirs[idx]), idx, t, which, normal)
    return t, which, normal


def ptz_traffic(boxes: np.ndarray, scene, origin, dirs, basis, hfov, width, height, look, night) -> dict | None:
    """Where traffic covers a PTZ picture: {"index": ray indices, "radiance": (K, 3)} or None (`ptz_boxes`,
    then hidden where the static world is nearer)."""
    if len(boxes) == 0:
        return None
    o = np.asarray(origin, dtype=float)
    t, which, normal = ptz_boxes(boxes, o, dirs, basis, hfov, width, height)
    sel = np.nonzero(which >= 0)[0]
    if sel.size == 0:
        return None
    static = scene.hit(o, dirs[sel])[0]
    keep = t[sel] < static
    sel = sel[keep]
    if sel.size == 0:
        return None
    albedo = boxes[which[sel], 7:10]
    return {"index": sel, "radiance": actor_radiance(look, night, albedo, normal[sel], dirs[sel], t[sel],
                                                     scene.sun)}


# ------------------------------------------------------------------------------------------------ heads

class Projector:
    """World directions to pixels of a head picture (width x height, pixel centres at integers), through
    the head's own rays: `rays(w, h)` gives the unit rays (h*w, 3) of a w x h picture's pixel centres,
    whatever the lens. Newton's method on the bilinear interpolation of a coarse grid of them."""

    def __init__(self, rays, width: int, height: int, grid: tuple[int, int] = (48, 27)) -> None:
        self.gw, self.gh = grid
        self.g = np.asarray(rays(self.gw, self.gh), dtype=float).reshape(self.gh, self.gw, 3)
        self.width, self.height = width, height
        self.sx, self.sy = width / self.gw, height / self.gh

    def _eval(self, gx, gy):
        i = np.clip(np.floor(gx), 0, self.gw - 2).astype(int)
        j = np.clip(np.floor(gy), 0, self.gh - 2).astype(int)
        fx, fy = (gx - i)[:, None], (gy - j)[:, None]
        g00, g01, g10, g11 = self.g[j, i], self.g[j, i + 1], self.g[j + 1, i], self.g[j + 1, i + 1]
        top, bottom = g00 + fx * (g01 - g00), g10 + fx * (g11 - g10)
        return top + fy * (bottom - top), (1 - fy) * (g01 - g00) + fy * (g11 - g10), bottom - top

    def rays_at(self, px, py) -> np.ndarray:
        """Unit rays (N, 3) of picture points (px, py)."""
        r = self._eval((np.asarray(px, float) + 0.5) / self.sx - 0.5, (np.asarray(py, float) + 0.5) / self.sy - 0.5)[0]
        return r / np.linalg.norm(r, axis=1, keepdims=True)

    def pixels(self, targets, guess=None):
        """(px, py, ok) of world directions (N, 3); `guess`: grid coordinates (gx, gy) to start from."""
        t = np.asarray(targets, dtype=float)
        t = t / np.linalg.norm(t, axis=1, keepdims=True)
        if guess is None:
            nearest = np.argmax(t @ self.g.reshape(-1, 3).T, axis=1)
            gy, gx = (v.astype(float) for v in np.divmod(nearest, self.gw))
        else:
            gx, gy = (np.array(v, dtype=float) for v in guess)
        for _k in range(6):
            r, dx, dy = self._eval(gx, gy)
            e = t - r
            a11, a12, a22 = (dx * dx).sum(1), (dx * dy).sum(1), (dy * dy).sum(1)
            b1, b2 = (dx * e).sum(1), (dy * e).sum(1)
            det = np.maximum(a11 * a22 - a12 * a12, 1e-18)
            gx = gx + np.clip((a22 * b1 - a12 * b2) / det, -4, 4)
            gy = gy + np.clip((a11 * b2 - a12 * b1) / det, -4, 4)
        r = self._eval(gx, gy)[0]
        ok = (np.linalg.norm(t - r, axis=1) < 2e-3) & (gx > -0.5 * self.gw) & (gx < 1.5 * self.gw)
        ok &= (gy > -0.5 * self.gh) & (gy < 1.5 * self.gh)
        return (gx + 0.5) * self.sx - 0.5, (gy + 0.5) * self.sy - 0.5, ok

    def sway_maps(self, rotation: np.ndarray):
        """cv2.remap maps of the picture seen with the mount turned by `rotation`."""
        gy, gx = np.mgrid[0:self.gh, 0:self.gw].astype(float)
        gx, gy = gx.ravel(), gy.ravel()
        px, py, _ok = self.pixels(self.g.reshape(-1, 3) @ rotation.T, guess=(gx, gy))
        ddx = (px - ((gx + 0.5) * self.sx - 0.5)).reshape(self.gh, self.gw).astype(np.float32)
        ddy = (py - ((gy + 0.5) * self.sy - 0.5)).reshape(self.gh, self.gw).astype(np.float32)
        size = (self.width, self.height)
        ddx = cv2.resize(ddx, size, interpolation=cv2.INTER_LINEAR)
        ddy = cv2.resize(ddy, size, interpolation=cv2.INTER_LINEAR)
        ddx += np.arange(self.width, dtype=np.float32)[None, :]
        ddy += np.arange(self.height, dtype=np.float32)[:, None]
        return cv2.convertMaps(ddx, ddy, cv2.CV_16SC2)


def draw_heads_traffic(image: np.ndarray, boxes: np.ndarray, scene, origin, projector: Projector, colour,
                       grain=None) -> np.ndarray:
    """A copy of a head picture with the traffic's visible faces filled in. `colour(albedo, normal, view,
    distance)` gives the uint8 RGB (N, 3) of faces as this camera exposes them; `grain(pixels)` (uint8 (N, 3)
    to uint8 (N, 3)) adds the camera's sensor noise to the pixels drawn, which are flat fills otherwise."""
    if len(boxes) == 0:
        return image
    o = np.asarray(origin, dtype=float)
    h, w = image.shape[:2]
    corners = box_corners(boxes)
    rel = corners - o
    dist = np.linalg.norm(rel, axis=-1)
    px, py, ok = projector.pixels(rel.reshape(-1, 3))
    px, py, ok = px.reshape(-1, 8), py.reshape(-1, 8), ok.reshape(-1, 8)
    layer = image.copy()
    depth = np.zeros((h, w), dtype=np.float32)
    drawn = False
    for b in np.argsort(-dist.min(axis=1)):
        if not ok[b].all() or px[b].max() < 0 or px[b].min() > w or py[b].max() < 0 or py[b].min() > h:
            continue
        c, s = math.cos(boxes[b, 2]), math.sin(boxes[b, 2])
        faces, normals, views = [], [], []
        for index, (lx, ly, lz) in _FACES:
            n = np.array([c * lx - s * ly, s * lx + c * ly, lz])
            centre = rel[b, list(index)].mean(axis=0)
            if n @ centre >= 0:
                continue
            faces.append(index)
            normals.append(n)
            views.append(centre / np.linalg.norm(centre))
        if not faces:
            continue
        rgb = colour(np.repeat(boxes[b:b + 1, 7:10], len(faces), axis=0), np.array(normals), np.array(views),
                     np.full(len(faces), dist[b].mean()))
        for index, col in zip(faces, rgb):
            poly = np.round(np.stack([px[b, list(index)], py[b, list(index)]], axis=1) * 16).astype(np.int32)
            cv2.fillPoly(layer, [poly], tuple(int(v) for v in col), lineType=cv2.LINE_AA, shift=4)
            cv2.fillPoly(depth, [poly], float(dist[b].min()), lineType=cv2.LINE_8, shift=4)
            drawn = True
    if not drawn:
        return image
    small = depth[::2, ::2]
    ys, xs = np.nonzero(small > 0)
    hidden = None
    if ys.size:
        static = scene.hit(o, projector.rays_at(xs * 2.0, ys * 2.0))[0]
        hidden = np.zeros(small.shape, dtype=np.uint8)
        hidden[ys, xs] = static < small[ys, xs] - 0.05
        if hidden.any():
            hidden = cv2.resize(hidden, (w, h), interpolation=cv2.INTER_NEAREST)
            hidden = cv2.dilate(hidden, np.ones((3, 3), np.uint8)).astype(bool)
            layer[hidden] = image[hidden]
        else:
            hidden = None
    if grain is not None:
        drawn_at = depth > 0
        if hidden is not None:
            drawn_at &= ~hidden
        layer[drawn_at] = grain(layer[drawn_at])
    return layer
