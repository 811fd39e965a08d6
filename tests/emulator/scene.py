"""The world around a unit, and what a ray from a camera centre sees in it: a pure library (numpy, cv2).

Everything is defined in world coordinates (metres; x east, y north, z up; the ground is z = 0; the
heads' optical centre is (0, 0, H), the PTZ's (0, 0, H - 0.25)), so cameras at different centres see
consistent, parallax-correct images. Nothing here is calibrated against a real site: the layout, the
colours and the textures are invented, chosen to be hard for an image matcher (real depth, detail at
every scale, low-texture and repetitive areas).

The world of unit `index` under `seed` (`Scene.generate(seed, index, depth_scale)`; every horizontal
position and horizontal size below is multiplied by `depth_scale`, heights are not):

- Ground, z = 0, infinite: grass, gravel and asphalt zones (a two-octave field of 40 m and 20 m
  wavelength picks them), two straight roads 7 m wide passing 10..40 m from the mount (asphalt, dashed
  centre line 0.15 m wide with 3 m dashes every 9 m, solid edge lines at +-3.2 m) and a parking lot
  (20..35 m away, 30 x 16 m, stall lines every 2.5 m: repetitive).
- Near objects: an equipment cabinet 1.2 m wide, 0.6 m deep, 1.6 m high, 4..8 m away, its front face
  square to the mount (a horizontal ray at its azimuth hits it at distance - 0.3 m), with ventilation
  slats; a mast (radius 0.12 m, 6.5 m high) 5..8 m away carrying a sign plate (0.8 x 0.8 m at
  2.5..3.3 m, a printed block pattern).
- Buildings: one or two in each of twelve 30 degree sectors, 15..250 m away (log-uniform), 8..40 m wide,
  6..25 m deep (both times min(1, max(0.35, distance / 80 m)): near ones are sheds), 3..22 m high, any
  orientation; walls plain (painted concrete: almost no texture),
  with windows (a grid of 2.4..3.6 m columns and 3.2 m floors: repetitive) or brick (0.225 x 0.075 m
  bricks with mortar joints); roofs gravel. At least one building of each kind.
- Fences: four segments 12..60 m away, 15..50 m long, 2 m high, opaque (chain-link drawn on a panel:
  posts every 2.5 m, a top rail, a 6 cm wire diamond mesh: repetitive).
- Trees: 24, 9..200 m away, trunk (radius 0.2 m, 2.5..4 m) under an ellipsoid canopy (radius 1.5..4 m),
  strongly textured (noise in the plane of the canopy's dominant normal axis). Light poles: 8, 10..150 m
  away, radius 0.1 m, 7..10 m high, with a lamp head.
- Sky: a smooth gradient from horizon to zenith with soft clouds on a plane 1500 m up (low texture),
  and a distant haze (radiance tends to the horizon colour over 2.5 km).
- Light: a sun at a random azimuth, 30..60 degrees up; Lambert shading plus ambient; no cast shadows.

Texture: every surface carries multi-octave value noise in its own surface coordinates (metres), 12
octaves of wavelength 64 m / 2.5^k (64 m down to 2.7 mm), with a per-material amplitude spectrum
(octave amplitude falling by 0.90..0.95 per octave: at the PTZ's tele end the finest octaves still carry
a good part of the contrast, as natural surfaces do); octave k of a pixel is
faded out where its wavelength is under 4 times the pixel's footprint on the surface (the ray's angular
footprint times distance, divided by the cosine of incidence, clamped to 0.02) and dropped under 2
times, so detail finer than a pixel is filtered out and coarser detail is there at every zoom. The
patterns (windows, bricks, mesh, markings, slats) are box-filtered analytically by the same footprint.
The noise table (1024 x 1024 float32, 4 MB) is shared by every scene and built on first use; each
scene only rotates and shifts it per octave. A Scene holds its object table (about 100 objects, a few
kilobytes) and nothing else: memory per scene is bounded by that; a render's temporaries scale with
the number of rays (about 0.6 kB per ray at peak).

Night (`night=True`): the look of an IR-illuminated image: grey, low contrast, the illuminator's fall
off with distance, fine detail lost (the footprint is taken four times larger), a dark flat sky.
Other looks (`look="dusk"` or `"ir"`, the site's: see `site.py`) shade the same albedo otherwise.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

BLOCK = 128
TABLE = 1024
TEXELS_PER_WAVE = 4.0
LAMBDA0 = 64.0
OCTAVES = 12
RATIO = 2.5
EPS = 1e-6
LIT_WINDOWS = 0.35  # the share of windows lit from inside after dark (the site's dusk)

GROUND, PLAIN, WINDOWS, BRICK, ROOF, FENCE, CABINET, SIGN, POLE, TRUNK, CANOPY, LAMP = range(12)
MATERIAL_NAMES = ("ground", "plain", "windows", "brick", "roof", "fence", "cabinet", "sign", "pole", "trunk",
                  "canopy", "lamp")
BOX, CYLINDER, ELLIPSOID = range(3)
HIT_GROUND = -1
HIT_SKY = -2

# Noise amplitude (standard deviation of the log albedo over all octaves) and spectral slope per material.
_AMPLITUDE = np.array([0.35, 0.02, 0.08, 0.12, 0.25, 0.10, 0.08, 0.03, 0.04, 0.35, 0.50, 0.03])
_SLOPE = np.array([0.93, 0.90, 0.90, 0.92, 0.92, 0.90, 0.90, 0.90, 0.90, 0.95, 0.95, 0.90])
_BASE = np.array([
    [0.20, 0.24, 0.12], [0.55, 0.53, 0.50], [0.50, 0.46, 0.42], [0.45, 0.22, 0.15], [0.30, 0.30, 0.30],
    [0.35, 0.37, 0.36], [0.30, 0.36, 0.30], [0.80, 0.80, 0.75], [0.45, 0.45, 0.47], [0.25, 0.17, 0.10],
    [0.10, 0.22, 0.07], [0.60, 0.60, 0.55]])
HORIZON = np.array([0.72, 0.77, 0.83])
ZENITH = np.array([0.30, 0.45, 0.78])
_TABLE_CACHE: list = []


def _weights() -> np.ndarray:
    k = np.arange(OCTAVES)
    w = _SLOPE[:, None] ** k[None, :]
    w /= np.sqrt((w * w).sum(axis=1, keepdims=True))
    return (w * _AMPLITUDE[:, None]).astype(np.float32)


_W = _weights()


def noise_table() -> np.ndarray:
    """The shared periodic noise table: white noise low-passed (Gaussian, sigma 1.4 texels), unit std."""
    if not _TABLE_CACHE:
        rng = np.random.default_rng(0x0DE7A11)
        white = rng.standard_normal((TABLE, TABLE))
        f = np.fft.fftfreq(TABLE)
        gauss = np.exp(-0.5 * (2 * np.pi * 1.4) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
        smooth = np.real(np.fft.ifft2(np.fft.fft2(white) * gauss))
        smooth /= smooth.std()
        _TABLE_CACHE.append(smooth.astype(np.float32))
    return _TABLE_CACHE[0]


def direction(pan, tilt) -> np.ndarray:
    """Unit vector(s) of (pan, tilt) in degrees: (sin(pan)cos(tilt), cos(pan)cos(tilt), sin(tilt))."""
    p, t = np.radians(pan), np.radians(tilt)
    return np.stack([np.sin(p) * np.cos(t), np.cos(p) * np.cos(t), np.sin(t)], axis=-1)


def pan_tilt(vector) -> tuple[float, float]:
    """(pan, tilt) in degrees of a direction (need not be unit length)."""
    x, y, z = (float(c) for c in vector)
    return math.degrees(math.atan2(x, y)), math.degrees(math.atan2(z, math.hypot(x, y)))


def _integral(x, a, b):
    f = np.floor(x)
    return f * (b - a) + np.clip(x - f, a, b) - a


def pulse(x, width, a, b):
    """Box-filtered periodic pulse: 1 where frac(x) lies in [a, b), filtered over `width` (period units)."""
    w = np.maximum(width, 1e-4)
    return (_integral(x + 0.5 * w, a, b) - _integral(x - 0.5 * w, a, b)) / w


def stripe(s, half, width):
    """Box-filtered single stripe |s| < half, filter width `width` (same units)."""
    w = np.maximum(width, 1e-4)
    return np.clip((half - np.abs(s)) / w + 0.5, 0.0, 1.0)


def resolved(size, width):
    """1 where a feature of `size` spans 4 filter widths or more, 0 at 2 or fewer (fades hashed detail)."""
    return np.clip(size / (2.0 * np.maximum(width, 1e-9)) - 1.0, 0.0, 1.0)


def _site():
    """The site's looks: imported late, as `site` imports this module's materials and colours (a cycle)."""
    from . import site
    return site


def _hash01(i, j, salt):
    """Deterministic pseudo-random 0..1 per integer cell (i, j)."""
    h = (i.astype(np.int64) * 73856093) ^ (j.astype(np.int64) * 19349663) ^ (salt * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    return ((h ^ (h >> 16)) & 0xFFFF) / 65535.0


class Scene:
    """One unit's world; see the module docstring. Construction only draws the object table (cheap)."""

    def __init__(self, seed: int, index: int, depth_scale: float, objects: list[dict], params: dict):
        self.seed, self.index, self.depth_scale = seed, index, depth_scale
        self.structures = objects
        self.sun = params["sun"]
        self.roads = params["roads"]
        self.parking = params["parking"]
        self._octave = params["octave"]
        n = len(objects)
        self._kind = np.array([o["kind"] for o in objects], dtype=np.int8)
        self._mat = np.array([o["material"] for o in objects], dtype=np.int8)
        self._centre = np.array([o["centre"] for o in objects], dtype=float).reshape(n, 3)
        self._size = np.array([o["size"] for o in objects], dtype=float).reshape(n, 3)
        self._rot = np.array([(math.cos(o["yaw"]), math.sin(o["yaw"])) for o in objects]).reshape(n, 2)
        self._colour = np.array([o["colour"] for o in objects], dtype=float).reshape(n, 3)
        self._extra = np.array([o.get("pattern", 3.0) for o in objects], dtype=float)
        self._radius = np.array([o["bound"] for o in objects], dtype=float)
        self._bcentre = np.array([o["bound_centre"] for o in objects], dtype=float).reshape(n, 3)
        f32 = np.float32
        self._cx, self._cy, self._cz = (self._centre[:, k].astype(f32) for k in range(3))
        self._sx, self._sy, self._sz = (self._size[:, k].astype(f32) for k in range(3))
        self._cos, self._sin = self._rot[:, 0].astype(f32), self._rot[:, 1].astype(f32)
        self._colour32 = self._colour.astype(f32)
        self._uoff = np.mod(np.arange(n) * 7.31, 64.0).astype(f32)
        self._building = np.isin(self._mat, (PLAIN, WINDOWS, BRICK))
        lamps = self._mat == LAMP  # where the lit lamps shine from at dusk: under the middle of each head
        self._lights = np.stack([self._cx[lamps], self._cy[lamps], self._cz[lamps] - 0.05], axis=1).astype(float)

    # ----------------------------------------------------------------------------------------- building
    @classmethod
    def generate(cls, seed: int, index: int, depth_scale: float = 1.0) -> Scene:
        """The world of unit `index` (0-based) under `seed`: deterministic per (seed, index).

        Cheap (a few milliseconds: about 90 objects drawn from one numpy Generator); the only heavy
        table, the noise table, is shared by all scenes and built on the first render. A scene keeps
        about 90 kB (its object table); nothing is cached per scene between renders.
        """
        rng = np.random.default_rng([abs(int(seed)) & 0xFFFFFFFF, abs(int(index)), 0x5CE9E])
        ds = float(depth_scale)
        objects: list[dict] = []

        def add_box(material, az, dist, half_x, half_y, z0, z1, yaw, colour, pattern=3.0, name=""):
            cx, cy = dist * math.sin(math.radians(az)), dist * math.cos(math.radians(az))
            objects.append({
                "name": name or MATERIAL_NAMES[material], "kind": BOX, "material": material,
                "centre": (cx, cy, z0), "size": (half_x, half_y, z1), "yaw": yaw, "colour": colour,
                "pattern": pattern, "azimuth": az, "distance": dist,
                "bound_centre": (cx, cy, 0.5 * (z0 + z1)),
                "bound": math.sqrt(half_x ** 2 + half_y ** 2 + (0.5 * (z1 - z0)) ** 2)})

        def add_cylinder(material, az, dist, radius, z0, z1, colour, name=""):
            cx, cy = dist * math.sin(math.radians(az)), dist * math.cos(math.radians(az))
            objects.append({
                "name": name or MATERIAL_NAMES[material], "kind": CYLINDER, "material": material,
                "centre": (cx, cy, z0), "size": (radius, radius, z1), "yaw": 0.0, "colour": colour,
                "azimuth": az, "distance": dist, "bound_centre": (cx, cy, 0.5 * (z0 + z1)),
                "bound": math.hypot(radius, 0.5 * (z1 - z0))})

        def add_ellipsoid(material, az, dist, radius_h, cz, radius_v, colour, name=""):
            cx, cy = dist * math.sin(math.radians(az)), dist * math.cos(math.radians(az))
            objects.append({
                "name": name or MATERIAL_NAMES[material], "kind": ELLIPSOID, "material": material,
                "centre": (cx, cy, cz), "size": (radius_h, radius_h, radius_v), "yaw": 0.0, "colour": colour,
                "azimuth": az, "distance": dist, "bound_centre": (cx, cy, cz), "bound": max(radius_h, radius_v)})

        def tint(material, spread=0.15):
            col = np.clip(_BASE[material] * (1.0 + spread * rng.standard_normal(3)), 0.02, 0.95)
            return tuple(float(c) for c in col)

        def radial_yaw(az):
            # local x axis (cos yaw, sin yaw) along the radial direction (sin az, cos az)
            return math.atan2(math.cos(math.radians(az)), math.sin(math.radians(az)))

        # near objects
        az_c = float(rng.uniform(0, 360))
        add_box(CABINET, az_c, float(rng.uniform(4, 8)) * ds, 0.3 * ds, 0.6 * ds, 0.0, 1.6, radial_yaw(az_c),
                tint(CABINET), name="cabinet")
        az_m = az_c + float(rng.uniform(90, 270))
        dist_m = float(rng.uniform(5, 8)) * ds
        add_cylinder(POLE, az_m, dist_m, 0.12 * ds, 0.0, 6.5, tint(POLE, 0.05), name="mast")
        add_box(SIGN, az_m, dist_m - 0.15 * ds, 0.02 * ds, 0.4 * ds, 2.5, 3.3, radial_yaw(az_m), tint(SIGN, 0.05),
                pattern=float(rng.integers(1, 1 << 20)), name="sign")
        # buildings: one or two per 30 degree sector; the first three are plain, windows, brick
        kinds = [PLAIN, WINDOWS, BRICK]
        rng.shuffle(kinds)
        sectors = list(range(12))
        rng.shuffle(sectors)
        count = 0
        for sector in sectors:
            for _j in range(int(rng.integers(1, 3))):
                dist = math.exp(rng.uniform(math.log(15), math.log(250)))
                shrink = min(1.0, max(0.35, dist / 80.0))
                half_x, half_y = float(rng.uniform(4, 20)) * shrink, float(rng.uniform(3, 12.5)) * shrink
                dist = max(dist, math.hypot(half_x, half_y) + 4)
                material = kinds[count] if count < 3 else int(rng.choice([PLAIN, WINDOWS, WINDOWS, BRICK]))
                height = float(rng.uniform(3, 22))
                az = 30.0 * sector + float(rng.uniform(0, 30))
                add_box(material, az, dist * ds, half_x * ds, half_y * ds, 0.0, height, float(rng.uniform(0, np.pi)),
                        tint(material), pattern=float(rng.uniform(2.4, 3.6)) * ds, name=f"building-{count}")
                count += 1
        # fences
        for i in range(4):
            az = float(rng.uniform(0, 360))
            half = float(rng.uniform(7.5, 25))
            add_box(FENCE, az, float(rng.uniform(12, 60)) * ds, 0.02 * ds, half * ds, 0.0, 2.0,
                    radial_yaw(az) + float(rng.uniform(-0.6, 0.6)), tint(FENCE, 0.05), name=f"fence-{i}")
        # trees and poles
        for i in range(24):
            az = float(rng.uniform(0, 360))
            dist = math.exp(rng.uniform(math.log(9), math.log(200))) * ds
            trunk = float(rng.uniform(2.5, 4.0))
            crown = float(rng.uniform(1.5, 4.0))
            add_cylinder(TRUNK, az, dist, 0.2 * ds, 0.0, trunk + 0.5 * crown, tint(TRUNK), name=f"trunk-{i}")
            add_ellipsoid(CANOPY, az, dist, crown * ds, trunk + 0.7 * crown, crown, tint(CANOPY), name=f"tree-{i}")
        for i in range(8):
            az = float(rng.uniform(0, 360))
            dist = math.exp(rng.uniform(math.log(10), math.log(150))) * ds
            height = float(rng.uniform(7, 10))
            add_cylinder(POLE, az, dist, 0.1 * ds, 0.0, height, tint(POLE, 0.05), name=f"pole-{i}")
            add_box(LAMP, az, dist - 0.4 * ds, 0.4 * ds, 0.15 * ds, height - 0.2, height + 0.05,
                    radial_yaw(az), tint(LAMP, 0.05), name=f"lamp-{i}")
        roads = []
        for i in range(2):
            angle = float(rng.uniform(0, np.pi)) + i * np.pi / 2
            offset = float(rng.uniform(10, 40)) * ds
            nx, ny = math.cos(angle), math.sin(angle)
            roads.append((nx, ny, offset, 3.5 * ds))
        az_p = math.radians(float(rng.uniform(0, 360)))
        dist_p = float(rng.uniform(20, 35)) * ds
        parking = (dist_p * math.sin(az_p), dist_p * math.cos(az_p), 15.0 * ds, 8.0 * ds, 2.5 * ds)
        sun_az, sun_el = math.radians(rng.uniform(0, 360)), math.radians(rng.uniform(30, 60))
        sun = np.array([math.sin(sun_az) * math.cos(sun_el), math.cos(sun_az) * math.cos(sun_el), math.sin(sun_el)])
        octave = rng.uniform(0, 1, (OCTAVES, 3)) * (TABLE, TABLE, 2 * np.pi)
        objects.sort(key=lambda o: math.hypot(o["bound_centre"][0], o["bound_centre"][1]) - o["bound"])
        return cls(seed, index, ds, objects, {"sun": sun, "roads": roads, "parking": parking, "octave": octave})

    def find(self, name: str) -> int:
        """Index in `structures` of the object called `name` (cabinet, mast, sign, building-0, ...)."""
        for i, obj in enumerate(self.structures):
            if obj["name"] == name:
                return i
        raise KeyError(name)

    # ----------------------------------------------------------------------------------------- tracing
    def trace(self, origin, dirs) -> np.ndarray:
        """Distance along each unit ray to the first surface, inf for sky."""
        return self.hit(origin, dirs)[0]

    def hit(self, origin, dirs) -> tuple[np.ndarray, np.ndarray]:
        """(distance, what): `what` is the index into `structures`, HIT_GROUND (-1) or HIT_SKY (-2)."""
        t, pid, _face = self._trace(np.asarray(origin, dtype=float), np.asarray(dirs, dtype=float))
        return t, pid

    def _trace(self, o, d):
        n = len(d)
        t = np.full(n, np.inf)
        pid = np.full(n, HIT_SKY, dtype=np.int32)
        face = np.zeros(n, dtype=np.int8)
        if n == 0:
            return t, pid, face
        down = d[:, 2] < -EPS
        if o[2] > 0:
            t[down] = -o[2] / d[down, 2]
            pid[down] = HIT_GROUND
        nb = -(-n // BLOCK)
        pad = nb * BLOCK - n
        d32 = d.astype(np.float32)
        dp = d32 if pad == 0 else np.concatenate([d32, np.repeat(d32[-1:], pad, axis=0)])
        mean = np.stack([dp[:, k].reshape(nb, BLOCK).sum(axis=1, dtype=float) for k in range(3)], axis=1)
        mean /= np.maximum(np.linalg.norm(mean, axis=1), 1e-12)[:, None]
        dots = dp[:, 0].reshape(nb, BLOCK) * mean[:, 0:1].astype(np.float32)
        dots += dp[:, 1].reshape(nb, BLOCK) * mean[:, 1:2].astype(np.float32)
        dots += dp[:, 2].reshape(nb, BLOCK) * mean[:, 2:3].astype(np.float32)
        cos_a = np.clip(dots.min(axis=1).astype(float) - 1e-6, -1.0, 1.0)
        sin_a = np.sqrt(1.0 - cos_a ** 2)
        rel = self._bcentre - o[None, :]
        dist = np.linalg.norm(rel, axis=1)
        chat = rel / np.maximum(dist, 1e-12)[:, None]
        ratio = np.clip(self._radius * 1.001 / np.maximum(dist, 1e-12), 0.0, 1.0)
        cos_b, sin_b = np.sqrt(1.0 - ratio ** 2), ratio
        cos_ab = cos_a[:, None] * cos_b[None, :] - sin_a[:, None] * sin_b[None, :]
        overlap = ((mean @ chat.T) >= cos_ab) | (cos_a[:, None] < -cos_b[None, :]) | (ratio[None, :] >= 1.0)
        lane = np.arange(BLOCK)
        for i in np.nonzero(overlap.any(axis=0))[0]:
            blocks = np.nonzero(overlap[:, i])[0]
            idx = (blocks[:, None] * BLOCK + lane[None, :]).ravel()
            if pad:
                idx = idx[idx < n]
            near = dist[i] - self._radius[i]
            idx = idx[t[idx] > near]
            if idx.size == 0:
                continue
            ti, fi = self._intersect(i, o, d32[idx])
            better = ti < t[idx]
            sel = idx[better]
            t[sel], pid[sel], face[sel] = ti[better], i, fi[better]
        return t, pid, face

    def _intersect(self, i, o, d):
        kind = self._kind[i]
        cx, cy, z0 = (float(c) for c in self._centre[i])
        ax, ay, z1 = (float(c) for c in self._size[i])
        px, py, oz = float(o[0]) - cx, float(o[1]) - cy, float(o[2])
        o = (px + cx, py + cy, oz)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if kind == BOX:
                c, s = (float(x) for x in self._rot[i])
                lox, loy = c * px + s * py, -s * px + c * py
                ldx, ldy = c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]
                tn, tf, axis = None, None, None
                for k, (lo, ld, lo_b, hi_b) in enumerate(((lox, ldx, -ax, ax), (loy, ldy, -ay, ay),
                                                          (o[2], d[:, 2], z0, z1))):
                    inv = 1.0 / ld
                    ta, tb = (lo_b - lo) * inv, (hi_b - lo) * inv
                    lo_t, hi_t = np.fmin(ta, tb), np.fmax(ta, tb)
                    if tn is None:
                        tn, tf, axis = lo_t, hi_t, np.zeros(len(d), dtype=np.int8)
                    else:
                        axis = np.where(lo_t > tn, np.int8(k), axis)
                        tn, tf = np.maximum(tn, lo_t), np.minimum(tf, hi_t)
                ok = (tn <= tf) & (tn > EPS)
                return np.where(ok, tn, np.inf), axis
            if kind == CYLINDER:
                a = d[:, 0] ** 2 + d[:, 1] ** 2
                b = px * d[:, 0] + py * d[:, 1]
                cc = px * px + py * py - ax * ax
                disc = b * b - a * cc
                ts = (-b - np.sqrt(disc)) / a
                zs = o[2] + ts * d[:, 2]
                side = (disc >= 0) & (ts > EPS) & (zs >= z0) & (zs <= z1)
                tcap = (z1 - o[2]) / d[:, 2]
                cxp, cyp = px + tcap * d[:, 0], py + tcap * d[:, 1]
                cap = (tcap > EPS) & (cxp * cxp + cyp * cyp <= ax * ax) & (o[2] > z1)
                tt = np.where(side, ts, np.inf)
                tt = np.where(cap & (tcap < tt), tcap, tt)
                return tt, np.where(cap & (tcap <= tt), np.int8(2), np.int8(0))
            qx, qy, qz = px / ax, py / ay, (o[2] - z0) / z1
            ex, ey, ez = d[:, 0] / ax, d[:, 1] / ay, d[:, 2] / z1
            a = ex * ex + ey * ey + ez * ez
            b = qx * ex + qy * ey + qz * ez
            cc = qx * qx + qy * qy + qz * qz - 1.0
            disc = b * b - a * cc
            ts = (-b - np.sqrt(disc)) / a
            ok = (disc >= 0) & (ts > EPS)
            return np.where(ok, ts, np.inf), np.zeros(len(d), dtype=np.int8)

    # ----------------------------------------------------------------------------------------- shading
    def radiance(self, origin, dirs, footprint, night: bool = False, look: str = "") -> np.ndarray:
        """Linear RGB (N, 3) float32 in 0..1 seen along each unit ray; footprint: pixel angle (rad).
        `look`: "dusk" or "ir" (`site.surface_look`, `site.sky_look`; lit lamps above 1), unless `night`."""
        look = "" if night else look
        o = np.asarray(origin, dtype=float)
        d = np.asarray(dirs, dtype=float)
        n = len(d)
        blur = 4.0 if night else 2.0 if look == "ir" else 1.0
        fp = np.broadcast_to(np.asarray(footprint, dtype=float), (n,)) * blur
        out = np.empty((n, 3), dtype=np.float32)
        if n == 0:
            return out
        t, pid, face = self._trace(o, d)
        sky = pid == HIT_SKY
        if sky.any():
            out[sky] = self._sky(d[sky], fp[sky], night) if not look else _site().sky_look(look, d[sky])
        surf = np.nonzero(~sky)[0]
        if surf.size == n:
            out[:] = self._surface(o, d, t, pid, face, fp, night, look)
        elif surf.size:
            out[surf] = self._surface(o, d[surf], t[surf], pid[surf], face[surf], fp[surf], night, look)
        return out

    def _sky(self, d, fp, night):
        if night:
            return np.broadcast_to(np.float32(0.03) + np.float32(0.01) * d[:, 2:3].astype(np.float32), (len(d), 3))
        el = np.clip(d[:, 2], 0.0, 1.0)
        mix = np.sqrt(el)[:, None]
        col = HORIZON[None, :] * (1 - mix) + ZENITH[None, :] * mix
        up = np.maximum(d[:, 2], 0.02)
        dist = 1500.0 / up
        u, v = d[:, 0] * dist, d[:, 1] * dist
        cloud = np.zeros(len(d), dtype=np.float32)
        for k, lam in enumerate((1600.0, 800.0, 400.0)):
            fw = fp * dist / up
            fade = np.clip(np.log2(lam / np.maximum(fw, 1e-9)) - 1.0, 0.0, 1.0).astype(np.float32)
            cloud += fade * (0.6 ** k) * self._sample(u, v, lam, k)
        cover = np.clip((cloud - 0.3) * 0.8, 0.0, 0.8)[:, None] * np.clip(d[:, 2:3] * 8, 0, 1)
        return (col * (1 - cover) + 0.92 * cover).astype(np.float32)

    def _sample(self, u, v, lam, k, scratch=None):
        """Noise octave k (wavelength lam, metres) at float32 surface coordinates u, v; unit std.

        float32 is precise enough: an octave is only sampled where its wavelength is over twice the
        footprint, so the texel coordinate stays under about 2/footprint (1e5 at the PTZ's tele end).
        `scratch`: optional float32 buffers (maps, tmp) of at least 2 * ceil(len/1024) * 1024 values.
        """
        ox, oy, rot = self._octave[k]
        scale = TEXELS_PER_WAVE / lam
        c, s = np.float32(math.cos(rot) * scale), np.float32(math.sin(rot) * scale)
        m = len(u)
        rows = -(-m // 1024)
        if scratch is None:
            scratch = (np.empty(rows * 2048, np.float32), np.empty(rows * 1024, np.float32))
        maps = scratch[0][:rows * 2048].reshape(rows * 1024, 2)
        tmp = scratch[1][:m]
        tx, ty = maps[:m, 0], maps[:m, 1]
        np.multiply(u, c, out=tx)
        np.multiply(v, s, out=tmp)
        tx -= tmp
        tx += np.float32(ox)
        np.multiply(u, s, out=ty)
        np.multiply(v, c, out=tmp)
        ty += tmp
        ty += np.float32(oy)
        for col in (tx, ty):
            np.multiply(col, np.float32(1.0 / TABLE), out=tmp)
            np.floor(tmp, out=tmp)
            tmp *= np.float32(TABLE)
            col -= tmp
        maps[m:] = 0.0
        val = cv2.remap(noise_table(), maps.reshape(rows, 1024, 2), None, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_WRAP)
        return val.ravel()[:m]

    def _fbm(self, u, v, fw, mat):
        n = len(u)
        acc = np.zeros(n, dtype=np.float32)
        lfw = np.log2(np.maximum(fw, np.float32(1e-9)))
        lo, hi = float(lfw.min()), float(lfw.max())
        rows = -(-n // 1024)
        scratch = (np.empty(rows * 2048, np.float32), np.empty(rows * 1024, np.float32))
        amp = _W[:, 0][mat]
        slope = _SLOPE.astype(np.float32)[mat]
        for k in range(OCTAVES):
            lam = LAMBDA0 / RATIO ** k
            if k:
                amp *= slope
            top = math.log2(lam) - 1.0
            if top - lo <= 0.0:
                break
            if top - hi >= 1.0:
                acc += amp * self._sample(u, v, lam, k, scratch)
                continue
            w = np.float32(top) - lfw
            np.clip(w, 0.0, 1.0, out=w)
            w *= amp
            act = np.nonzero(w > 1e-4)[0]
            if act.size == n:
                acc += w * self._sample(u, v, lam, k, scratch)
            elif act.size:
                acc[act] += w[act] * self._sample(u[act], v[act], lam, k, scratch)
        return acc

    def _surface(self, o, d, t, pid, face, fp, night, look=""):
        m = len(t)
        f32 = np.float32
        t32 = t.astype(f32)
        dx, dy, dz = (d[:, k].astype(f32) for k in range(3))
        px0 = f32(o[0]) + t32 * dx
        py0 = f32(o[1]) + t32 * dy
        pz0 = f32(o[2]) + t32 * dz
        nx, ny, nz = np.zeros(m, f32), np.zeros(m, f32), np.ones(m, f32)
        u, v = px0.copy(), py0.copy()
        mat = np.zeros(m, dtype=np.int8)
        colour = np.empty((m, 3), dtype=f32)
        colour[:] = _BASE[GROUND]
        obj_idx = np.nonzero(pid >= 0)[0]
        local = None
        if obj_idx.size:
            obj = slice(None) if obj_idx.size == m else obj_idx  # every ray on an object: no gathers
            i = pid[obj]
            kind, fo = self._kind[i], face[obj]
            mat[obj] = self._mat[i]
            colour[obj] = self._colour32[i]
            uu = np.empty(obj_idx.size, dtype=f32)
            vv = np.empty(obj_idx.size, dtype=f32)
            onx, ony, onz = (np.zeros(obj_idx.size, f32) for _k in range(3))
            for kd in (BOX, CYLINDER, ELLIPSOID):
                sub = np.nonzero(kind == kd)[0]
                if sub.size == 0:
                    continue
                if sub.size == len(i):
                    sub, rays = slice(None), obj
                else:
                    rays = obj_idx[sub]
                j = i[sub]
                qx, qy, pz = px0[rays], py0[rays], pz0[rays]
                px, py = qx - self._cx[j], qy - self._cy[j]
                fs = fo[sub]
                if kd == BOX:
                    c, s = self._cos[j], self._sin[j]
                    lx, ly = c * px + s * py, c * py - s * px
                    xf, yf, top = fs == 0, fs == 1, fs == 2
                    sx, sy = np.sign(lx), np.sign(ly)
                    onx[sub] = np.where(xf, sx * c, np.where(yf, -sy * s, f32(0.0)))
                    ony[sub] = np.where(xf, sx * s, np.where(yf, sy * c, f32(0.0)))
                    onz[sub] = top
                    uu[sub] = np.where(xf, ly + self._sy[j], np.where(yf, lx + self._sx[j], lx))
                    vv[sub] = np.where(top, ly, pz)
                elif kd == CYLINDER:
                    rad = np.maximum(np.hypot(px, py), f32(1e-6))
                    cap = fs == 2
                    onx[sub] = np.where(cap, f32(0.0), px / rad)
                    ony[sub] = np.where(cap, f32(0.0), py / rad)
                    onz[sub] = cap
                    uu[sub] = np.where(cap, px, np.arctan2(py, px) * self._sx[j])
                    vv[sub] = np.where(cap, py, pz)
                else:
                    ex, ey = px / self._sx[j] ** 2, py / self._sy[j] ** 2
                    ez = (pz - self._cz[j]) / self._sz[j] ** 2
                    en = np.sqrt(ex * ex + ey * ey + ez * ez)
                    ex, ey, ez = ex / en, ey / en, ez / en
                    onx[sub], ony[sub], onz[sub] = ex, ey, ez
                    # the plane of the dominant normal axis (no stretched streaks on the sides)
                    flat, side_x = np.abs(ez) > f32(0.6), np.abs(ex) > np.abs(ey)
                    uu[sub] = np.where(flat | ~side_x, qx, qy)
                    vv[sub] = np.where(flat, qy, pz)
            roof = (fo == 2) & self._building[i]
            if roof.any():
                mat[obj_idx[roof]] = ROOF
                colour[obj_idx[roof]] = _BASE[ROOF]
            nx[obj], ny[obj], nz[obj] = onx, ony, onz
            offset = self._uoff[i]
            u[obj], v[obj] = uu + offset, vv + f32(0.7) * offset
            local = (obj_idx, i, uu, vv, self._sz[i])
        cos_inc = np.maximum(np.abs(nx * dx + ny * dy + nz * dz), f32(0.02))
        fw = (fp * t).astype(f32) / cos_inc
        noise = self._fbm(u, v, fw, mat)
        albedo = colour * np.exp(noise)[:, None]
        ground = np.nonzero(pid == HIT_GROUND)[0]
        if ground.size:
            albedo[ground] = self._ground(px0[ground], py0[ground], fw[ground], albedo[ground])
        lit = None
        if local is not None:
            lit = self._patterns(albedo, mat, fw, local)
        if look:
            return _site().surface_look(look, albedo, mat, t, cos_inc, (nx, ny, nz), self.sun,
                                        points=(px0, py0, pz0), lights=self._lights, lit=lit)
        if night:
            luma = albedo @ np.array([0.3, 0.55, 0.15], dtype=f32)
            luma = f32(0.35) + f32(0.3) * (luma - f32(0.35))
            ir = 1.0 / (1.0 + (t.astype(f32) / f32(120.0)) ** 2)
            val = f32(0.04) + f32(0.6) * luma * ir * (f32(0.8) + f32(0.2) * cos_inc)
            return np.repeat(val[:, None], 3, axis=1)
        sun = self.sun.astype(f32)
        light = f32(0.35) + f32(0.65) * np.maximum(nx * sun[0] + ny * sun[1] + nz * sun[2], f32(0.0))
        rgb = np.clip(albedo * light[:, None], 0.0, 1.0)
        haze = (1.0 - np.exp(-t.astype(f32) / f32(2500.0)))[:, None]
        return rgb * (1 - haze) + HORIZON.astype(f32)[None, :] * haze

    def _ground(self, x, y, fw, albedo):
        f32 = np.float32
        zone = self._sample(x, y, 40.0, 0) + f32(0.5) * self._sample(x, y, 20.0, 1)
        gravel = np.array([0.42, 0.40, 0.36], dtype=f32)
        asphalt = np.array([0.16, 0.16, 0.17], dtype=f32)
        white = np.array([0.85, 0.85, 0.82], dtype=f32)
        g = np.clip((zone + f32(0.2)) * f32(3.0), 0.0, 1.0)[:, None]
        a = np.clip((-zone - f32(0.9)) * f32(3.0), 0.0, 1.0)[:, None]
        tex = albedo / _BASE[GROUND].astype(f32)[None, :]
        mix = _BASE[GROUND].astype(f32)[None, :] * g + gravel * (1 - g)
        mix = mix * (1 - a) + asphalt * a
        col = tex * mix
        for nx, ny, offset, half in self.roads:
            s = x * f32(nx) + y * f32(ny) - f32(offset)
            k = np.nonzero(np.abs(s) < half + fw)[0]
            if k.size == 0:
                continue
            sk, fk, xk, yk = s[k], fw[k], x[k], y[k]
            along = yk * f32(nx) - xk * f32(ny)
            road = stripe(sk, half, fk)[:, None]
            ck = col[k] * (1 - road) + asphalt * np.sqrt(tex[k]) * road
            mark = stripe(sk, 0.075, fk) * pulse(along / 9.0, fk / 9.0, 0.0, 1.0 / 3.0)
            mark = mark + stripe(np.abs(sk) - 3.2 * half / 3.5, 0.075, fk)
            mark = np.clip(mark, 0.0, 1.0)[:, None] * road
            col[k] = ck * (1 - mark) + white * mark
        cx, cy, hx, hy, pitch = self.parking
        lx, ly = x - f32(cx), y - f32(cy)
        k = np.nonzero((np.abs(lx) < hx + fw) & (np.abs(ly) < hy + fw))[0]
        if k.size:
            lxk, lyk, fk = lx[k], ly[k], fw[k]
            lot = (stripe(lxk, hx, fk) * stripe(lyk, hy, fk))[:, None]
            ck = col[k] * (1 - lot) + asphalt * np.sqrt(tex[k]) * lot
            across = stripe(np.abs(lyk) - hy * 0.5, hy * 0.45, fk)
            lines = pulse(lxk / pitch + 0.5, fk / pitch, 0.0, 0.12 / pitch) * across
            lines = lines[:, None] * lot
            col[k] = ck * (1 - lines) + white * lines
        return col

    def _patterns(self, albedo, mat, fw, local):
        """Draws the patterns into albedo; returns (N,) the part of each ray on a window whose room is lit
        after dark (about LIT_WINDOWS of them; their average where a window is under a pixel), or None."""
        obj, i, uu, vv, size = local
        m_obj = mat[obj]
        fwo = fw[obj]
        lit = None
        sel = m_obj == WINDOWS
        if sel.any():
            period = self._extra[i[sel]]
            floor_h = 3.2
            uw, vw, f = uu[sel], vv[sel], fwo[sel]
            mask = pulse(uw / period, f / period, 0.2, 0.8) * pulse(vw / floor_h, f / floor_h, 0.3, 0.75)
            mask = mask * (vw > 1.0) * (vw < size[sel] - 0.5)
            frame = pulse(uw / period, f / period, 0.48, 0.52) * mask
            shade = 0.75 + (0.5 * _hash01(np.floor(uw / period), np.floor(vw / floor_h), i[sel]) - 0.25) * resolved(
                period, f)
            glass = np.array([0.10, 0.13, 0.17])[None, :] * (0.6 + 0.8 * shade[:, None])
            k = obj[sel]
            albedo[k] = albedo[k] * (1 - mask[:, None]) + glass * mask[:, None]
            albedo[k] = albedo[k] * (1 - frame[:, None]) + 0.7 * frame[:, None]
            on = _hash01(np.floor(uw / period), np.floor(vw / floor_h), i[sel] + 911) < LIT_WINDOWS
            res = resolved(np.minimum(period, floor_h), f)
            lit = np.zeros(len(mat), dtype=np.float32)
            lit[k] = mask * (1 - frame) * (on * res + LIT_WINDOWS * (1 - res))
        sel = m_obj == BRICK
        if sel.any():
            uw, vw, f = uu[sel], vv[sel], fwo[sel]
            row = np.floor(vw / 0.075)
            shift = np.where(np.mod(row, 2) == 1, 0.5, 0.0)
            brick = pulse(vw / 0.075, f / 0.075, 0.0, 0.85) * pulse(uw / 0.225 + shift, f / 0.225, 0.0, 0.95)
            tone = 1.0 + (0.4 * _hash01(np.floor(uw / 0.225 + shift), row, 7) - 0.2) * resolved(0.075, f)
            k = obj[sel]
            mortar = np.array([0.62, 0.60, 0.56])
            albedo[k] = albedo[k] * (tone * brick)[:, None] + mortar * (1 - brick)[:, None]
        sel = m_obj == FENCE
        if sel.any():
            uw, vw, f = uu[sel], vv[sel], fwo[sel]
            rising = pulse((uw + vw) / 0.06, f / 0.06, 0.0, 0.08)
            falling = pulse((uw - vw) / 0.06, f / 0.06, 0.0, 0.08)
            wire = 1 - (1 - rising) * (1 - falling)
            post = pulse(uw / 2.5, f / 2.5, 0.0, 0.03) + stripe(vw - 1.95, 0.04, f)
            metal = np.clip(wire * 0.8 + post, 0.0, 1.0)[:, None]
            k = obj[sel]
            backdrop = np.array([0.18, 0.21, 0.15])
            albedo[k] = albedo[k] * metal + backdrop * (1 - metal)
        sel = m_obj == CABINET
        if sel.any():
            uw, vw, f = uu[sel], vv[sel], fwo[sel]
            slats = pulse(vw / 0.03, f / 0.03, 0.0, 0.4) * stripe(vw - 1.3, 0.15, f)
            slats = slats * stripe(uw - 0.6 * self.depth_scale, 0.3, f)
            door = stripe(uw - 0.6 * self.depth_scale, 0.01, f)
            dark = np.clip(slats * 0.6 + door * 0.8, 0.0, 1.0)[:, None]
            k = obj[sel]
            albedo[k] = albedo[k] * (1 - dark) + 0.05 * dark
        sel = m_obj == SIGN
        if sel.any():
            uw, vw, f = uu[sel], vv[sel], fwo[sel]
            cell = 0.1 * self.depth_scale
            bits = _hash01(np.floor(uw / cell), np.floor(vw / 0.1), self._extra[i[sel]].astype(np.int64)) > 0.5
            ink = bits * pulse(uw / cell, f / cell, 0.1, 0.9) * pulse(vw / 0.1, f / 0.1, 0.1, 0.9)
            res = resolved(np.minimum(cell, 0.1), f)
            fine = (np.clip(ink * 0.9, 0.0, 1.0) * res + 0.29 * (1 - res))[:, None]
            k = obj[sel]
            albedo[k] = albedo[k] * (1 - fine) + np.array([0.08, 0.12, 0.35]) * fine
        return lit
