"""The physical model of one unit: four fixed heads, the mount, and the calibration fit.

Pure functions on floats, kept apart from HTTP so the geometry can be tested directly and so the
twin's answers (52, 51, selecttarget's hint, center) all come from one projection.
All angles are in degrees.

A head's lens (`lens`) turns a normalized pixel (x, y) of the image into a ray, in one of two families
(the `head_lens` setting). `radial`: barrel distortion of one term, undistorted pinhole coordinates
r_u = r_d (1 + LENS_K1 r_d^2), r in half image widths; with the nominal 110 degree pinhole field of view a
head covers about 116 degrees across. `fisheye`: equidistant with two small terms,
r_d = f theta (1 + FISHEYE_K1 theta^2 + FISHEYE_K2 theta^4) (theta the angle off the axis, radians), f such
that the edge pixel (1, 0) sits at theta = fov / 2: a head covers exactly its field of view across. A lens of
another family than a one-term radial model is what a calibration tool that assumes one meets on a real
wide-angle head. The firmware knows its own lens, as a real one does: the fit, 51/52 and click-to-center all
go through `project` with the lens family, so they work on ray directions and correct points save; a saved
fit (`Fit`) keeps the family it was fitted through, so click-to-center applies the lens the calibration saw.

A knock (`Physics.knock`) turns the heads together against the PTZ about the PTZ's axes: yaw about the
vertical (pan grows), then pitch about the horizontal axis towards pan 90 (positive raises what lies at pan
0), then roll about the horizontal axis towards pan 0 (positive lowers what lies at pan 90). Any such turn of
a head is again a head with some (offset, tilt, roll), so the firmware's per-head fit still describes it
exactly; the 52 rule (`match_error`) allows for the mount's actual lean (`lean_angle`, 0 unknocked) until two
points pin the head's pose.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

NBR_OF_HEADS = 4
ASPECT = 9.0 / 16.0
NOMINAL_TILT = 20.0
NOMINAL_ROLL = 0.0
NOMINAL_FOV = 110.0
MATCH_LIMIT = 10.0
FIT_LIMIT = 0.5
MIN_POINTS = 3
LENS_K1 = 0.12
FISHEYE_K1 = 0.03
FISHEYE_K2 = -0.005
LENS_FAMILIES = ("radial", "fisheye")
MAX_KNOCK_LEAN = 10.0


def wrap180(angle: float) -> float:
    """Map an angle onto [-180, 180): the PTZ's pan is endless but reported in that range."""
    wrapped = math.fmod(angle + 180.0, 360.0)
    if wrapped < 0.0:
        wrapped += 360.0
    return wrapped - 180.0


def nominal_azimuth(camera: int) -> float:
    return 90.0 * (camera - 1)


def fisheye_focal(fov: float) -> float:
    """The fisheye's f (half image widths per radian): the edge pixel (1, 0) at theta = fov / 2."""
    edge = math.radians(fov) / 2.0
    return 1.0 / (edge * (1.0 + FISHEYE_K1 * edge ** 2 + FISHEYE_K2 * edge ** 4))


def fisheye_theta(rd, focal: float):
    """The angle off the axis (radians) of distorted radius rd: Newton on the lens equation, from rd / f.
    Plain arithmetic, so `views.head_rays` runs the same steps on arrays."""
    theta = rd / focal
    for _step in range(4):
        t2 = theta * theta
        theta = theta - (focal * theta * (1.0 + FISHEYE_K1 * t2 + FISHEYE_K2 * t2 * t2) - rd) / (
            focal * (1.0 + 3.0 * FISHEYE_K1 * t2 + 5.0 * FISHEYE_K2 * t2 * t2))
    return theta


def lens(x: float, y: float, fov: float, family: str = "radial") -> tuple[float, float]:
    """Camera-plane coordinates (right, up; the axis at distance 1) of the ray of normalized pixel (x, y).
    ValueError for a family outside `LENS_FAMILIES`."""
    if family not in LENS_FAMILIES:
        raise ValueError(f"unknown lens family {family!r}")
    v = y * ASPECT
    if family == "fisheye":
        rd = math.hypot(x, v)
        focal = fisheye_focal(fov)
        scale = math.tan(fisheye_theta(rd, focal)) / rd if rd > 0.0 else 1.0 / focal
        return x * scale, v * scale
    scale = (1.0 + LENS_K1 * (x * x + v * v)) * math.tan(math.radians(fov) / 2.0)
    return x * scale, v * scale


def project(offset: float, tilt: float, roll: float, fov: float, x: float, y: float,
            family: str = "radial") -> tuple[float, float]:
    """Pan/tilt of normalized pixel (x right, y up) of a head whose centre looks at pan `offset`.

    The pixel goes through the lens (of that family), then the ray, rolled about the forward axis, tilted
    down, is expressed as pan/tilt of the shared vertical axis.
    """
    r, u = lens(x, y, fov, family)
    f = 1.0
    rr, tt = math.radians(roll), math.radians(tilt)
    r1 = r * math.cos(rr) - u * math.sin(rr)
    u1 = r * math.sin(rr) + u * math.cos(rr)
    f1 = f
    r2 = r1
    u2 = u1 * math.cos(tt) - f1 * math.sin(tt)
    f2 = u1 * math.sin(tt) + f1 * math.cos(tt)
    pan = wrap180(offset + math.degrees(math.atan2(r2, f2)))
    return pan, math.degrees(math.atan2(u2, math.hypot(r2, f2)))


def lean(pan: float, tilt: float, pitch: float, roll: float) -> tuple[float, float]:
    """A direction after the mount's pitch, then roll, about the PTZ's horizontal axes (see the docstring)."""
    p, t = math.radians(pan), math.radians(tilt)
    x, y, z = math.sin(p) * math.cos(t), math.cos(p) * math.cos(t), math.sin(t)
    a, b = math.radians(pitch), math.radians(roll)
    y, z = y * math.cos(a) - z * math.sin(a), y * math.sin(a) + z * math.cos(a)
    x, z = x * math.cos(b) + z * math.sin(b), z * math.cos(b) - x * math.sin(b)
    return math.degrees(math.atan2(x, y)), math.degrees(math.atan2(z, math.hypot(x, y)))


def lean_angle(pitch: float, roll: float) -> float:
    """The angle of the mount's lean: of the turn made of its pitch, then its roll (about perpendicular
    axes, so cos(angle / 2) = cos(pitch / 2) cos(roll / 2)). No direction moves by more; 0 unknocked."""
    half = math.cos(math.radians(pitch) / 2.0) * math.cos(math.radians(roll) / 2.0)
    return math.degrees(2.0 * math.acos(min(1.0, half)))


def angular_distance(pan1: float, tilt1: float, pan2: float, tilt2: float) -> float:
    """Great-circle angle between two pan/tilt directions (haversine, stable for small angles)."""
    p1, t1, p2, t2 = map(math.radians, (pan1, tilt1, pan2, tilt2))
    h = math.sin((t2 - t1) / 2.0) ** 2 + math.cos(t1) * math.cos(t2) * math.sin((p2 - p1) / 2.0) ** 2
    return math.degrees(2.0 * math.asin(min(1.0, math.sqrt(h))))


def circular_mean(angles: list[float]) -> float:
    """Mean of angles that may straddle +-180, where an arithmetic mean would be wrong."""
    s = sum(math.sin(math.radians(a)) for a in angles)
    c = sum(math.cos(math.radians(a)) for a in angles)
    return math.degrees(math.atan2(s, c))


@dataclass(frozen=True)
class Head:
    """True optics of one head in the heads' own frame (azimuth excludes the mount offset)."""

    azimuth: float
    tilt: float
    roll: float
    fov: float


@dataclass(frozen=True)
class Point:
    """One calibration pair: normalized pixel and the PTZ pan/tilt matched to it."""

    x: float
    y: float
    pan: float
    tilt: float


@dataclass(frozen=True)
class Fit:
    """A head's stored calibration: where its centre looks (PTZ frame), tilt, roll, field of view, and the
    lens family it was fitted through (which `direction` applies, whatever the unit's lens is now)."""

    offset: float
    tilt: float
    roll: float
    fov: float
    residual: float = 0.0
    family: str = "radial"

    def direction(self, x: float, y: float) -> tuple[float, float]:
        return project(self.offset, self.tilt, self.roll, self.fov, x, y, self.family)

    def to_json(self) -> dict:
        return {"offset": self.offset, "tilt": self.tilt, "roll": self.roll, "fov": self.fov,
                "residual": self.residual, "family": self.family}

    @classmethod
    def from_json(cls, data: dict) -> Fit:
        """A saved fit; one saved before fits kept their family was fitted through the radial lens."""
        family = data.get("family", "radial")
        if family not in LENS_FAMILIES:
            raise ValueError(f"unknown lens family {family!r}")
        return cls(float(data["offset"]), float(data["tilt"]), float(data["roll"]), float(data["fov"]),
                   float(data.get("residual", 0.0)), family)


@dataclass
class Physics:
    """True heads and mount of one unit: `mount` is its yaw offset (the factory's plus knocks), `mount_pitch`
    and `mount_roll` its lean from knocks (0 at the factory)."""

    heads: tuple[Head, ...]
    mount: float
    mount_pitch: float = 0.0
    mount_roll: float = 0.0

    @classmethod
    def generate(cls, seed: str | int, index: int) -> Physics:
        rng = random.Random(f"optics:{seed}:{index}")
        heads = tuple(
            Head(azimuth=nominal_azimuth(n) + rng.uniform(-1.0, 1.0),
                 tilt=NOMINAL_TILT + rng.uniform(-1.0, 1.0),
                 roll=rng.uniform(-0.5, 0.5),
                 fov=NOMINAL_FOV + rng.uniform(-2.0, 2.0))
            for n in range(1, NBR_OF_HEADS + 1)
        )
        return cls(heads=heads, mount=rng.uniform(-60.0, 60.0))

    def truth(self, camera: int, x: float, y: float, family: str = "radial") -> tuple[float, float]:
        """Direction (PTZ frame) of the ray of a head's pixel through a lens of that family: where the PTZ
        would look if it sat in the heads' optical centre (no parallax; `views.World.truths` adds it)."""
        head = self.heads[camera - 1]
        pan, tilt = project(head.azimuth + self.mount, head.tilt, head.roll, head.fov, x, y, family)
        return lean(pan, tilt, self.mount_pitch, self.mount_roll)

    def knock(self, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> None:
        """Add a knock to the mount, each component to its own (the turn is built from the sums)."""
        self.mount = wrap180(self.mount + yaw)
        self.mount_pitch += pitch
        self.mount_roll += roll

    @property
    def mount_lean(self) -> float:
        """The angle of the mount's lean from knocks (`lean_angle`): what the 52 rule allows for."""
        return lean_angle(self.mount_pitch, self.mount_roll)

    def mount_json(self) -> dict:
        return {"yaw": self.mount, "pitch": self.mount_pitch, "roll": self.mount_roll}


def nominal(camera: int, x: float, y: float, mount: float = 0.0, family: str = "radial") -> tuple[float, float]:
    """Where the device's factory knowledge (no calibration) puts pixel (x, y) of a head."""
    return project(nominal_azimuth(camera) + mount, NOMINAL_TILT, NOMINAL_ROLL, NOMINAL_FOV, x, y, family)


def estimate_mount(camera: int, points: list[Point], family: str = "radial") -> float:
    """Mount offset implied by matched points: mean wrapped pan residual against nominal knowledge."""
    return circular_mean([wrap180(p.pan - nominal(camera, p.x, p.y, family=family)[0]) for p in points])


def lean_allowance(lean: float, first_tilt: float, expected_tilt: float) -> float:
    """What a lean of `lean` degrees can add to the second point's distance from its nominal direction.

    The lean moves the point's own ray by at most `lean`, and the first point's as much, which turns the
    mount offset estimated from it by at most the widest pan of a cap of that radius at its tilt,
    asin(sin lean / cos tilt); that turn moves the expected direction, at its tilt, along its circle of
    latitude. 0 for an unknocked mount.
    """
    if lean <= 0.0:
        return 0.0
    spread = math.sin(math.radians(lean)) / max(math.cos(math.radians(first_tilt)), 1e-12)
    if spread >= 1.0:
        return 180.0
    turn = math.asin(spread)
    chord = 2.0 * math.asin(min(1.0, math.cos(math.radians(expected_tilt)) * math.sin(turn / 2.0)))
    return lean + math.degrees(chord)


def match_error(camera: int, x: float, y: float, pan: float, tilt: float, points: list[Point],
                family: str = "radial", lean: float = 0.0) -> float:
    """How far (degrees) a proposed pair is from where nominal knowledge expects the pixel.

    The mount may have been knocked: turned about the vertical by any angle, and leaning by `lean` (its
    `Physics.mount_lean`; 0 for an unknocked unit, so no allowance). Before any point only tilt can be
    judged, less the lean (no direction's tilt changes by more). From one point on the mount offset is
    estimated (nominal knowledge, yaw only); with one point, less `lean_allowance`. A leaning mount also gets,
    from two points on, the head's pose (offset, tilt, roll, with the nominal field of view) fitted to them,
    which any knock leaves exact: the nearer of the two judgements counts, so an unknocked unit is judged
    exactly as before knocks could lean it.
    """
    if not points:
        return max(0.0, abs(tilt - nominal(camera, x, y, family=family)[1]) - lean)
    expected = nominal(camera, x, y, estimate_mount(camera, points, family), family)
    error = angular_distance(pan, tilt, *expected)
    if lean == 0.0:
        return error
    if len(points) == 1:
        return max(0.0, error - lean_allowance(lean, points[0].tilt, expected[1]))
    return min(error, angular_distance(pan, tilt, *fit(camera, points, family, free=3).direction(x, y)))


def _residuals(params: list[float], points: list[Point], family: str = "radial") -> list[float]:
    offset, tilt, roll, fov = params
    out = []
    for p in points:
        pan_hat, tilt_hat = project(offset, tilt, roll, fov, p.x, p.y, family)
        out.append(wrap180(pan_hat - p.pan) * math.cos(math.radians(p.tilt)))
        out.append(tilt_hat - p.tilt)
    return out


def _cost(residuals: list[float]) -> float:
    return sum(r * r for r in residuals)


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None for a singular system."""
    n = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-15:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= factor * a[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


def _plausible(params: list[float]) -> bool:
    return 1.0 < params[3] < 179.0 and -89.0 < params[1] < 89.0


def fit(camera: int, points: list[Point], family: str = "radial", free: int = 4, iterations: int = 200) -> Fit:
    """Levenberg-Marquardt fit of (pan offset, tilt, roll, fov) to the points' angular residuals, through
    a lens of that family; only the first `free` of them move (the others stay nominal).

    Pan residuals are wrapped and scaled by cos(tilt), so every residual is an angle on the sphere. It
    starts from nominal knowledge turned by the mount offset and lowered by the tilt the points imply (a
    knocked head may lean well away from the nominal tilt).
    """
    if not points:
        raise ValueError("no points")
    lower = sum(nominal(camera, p.x, p.y, family=family)[1] - p.tilt for p in points) / len(points)
    params = [nominal_azimuth(camera) + estimate_mount(camera, points, family), NOMINAL_TILT + lower,
              NOMINAL_ROLL, NOMINAL_FOV]
    res = _residuals(params, points, family)
    cost = _cost(res)
    damping = 1e-3
    for _iteration in range(iterations):
        step = 1e-6
        columns = []
        for k in range(free):
            shifted = params[:]
            shifted[k] += step
            columns.append([(b - a) / step for a, b in zip(res, _residuals(shifted, points, family))])
        jtj = [[sum(ci * cj for ci, cj in zip(columns[i], columns[j])) for j in range(free)] for i in range(free)]
        jtr = [sum(c * r for c, r in zip(columns[i], res)) for i in range(free)]
        improved = converged = False
        while damping < 1e12:
            damped = [[jtj[i][j] + (damping * max(jtj[i][i], 1e-9) if i == j else 0.0) for j in range(free)]
                      for i in range(free)]
            delta = _solve(damped, [-g for g in jtr])
            if delta is not None:
                candidate = [p + d for p, d in zip(params, delta)] + params[free:]
                if _plausible(candidate):
                    cand_res = _residuals(candidate, points, family)
                    cand_cost = _cost(cand_res)
                    if cand_cost < cost:
                        converged = max(abs(d) for d in delta) < 1e-9 or cost - cand_cost < 1e-16
                        params, res, cost = candidate, cand_res, cand_cost
                        damping = max(damping / 10.0, 1e-12)
                        improved = True
                        break
            damping *= 10.0
        if not improved or converged:
            break
    worst = max(math.hypot(res[2 * i], res[2 * i + 1]) for i in range(len(points)))
    return Fit(offset=wrap180(params[0]), tilt=params[1], roll=params[2], fov=params[3], residual=worst,
               family=family)


def predict(camera: int, x: float, y: float, points: list[Point], family: str = "radial") -> tuple[float, float]:
    """selecttarget's hint: a fit once there are enough points, nominal knowledge plus mount before."""
    if len(points) >= MIN_POINTS:
        return fit(camera, points, family).direction(x, y)
    return nominal(camera, x, y, estimate_mount(camera, points, family), family)
