"""What the cameras of one unit see: head and PTZ pictures, and the truth with parallax.

This binds the physical model (`optics`: heads, lens, mount; `ptz`: zoom curve) to the world (`scene`)
and the renderer (`render`).

Frames: the PTZ's pan/tilt frame is the world's (pan 0 looks north, +y; pan grows clockwise; tilt up).
A head pixel's ray points along `Physics.truth` (its azimuth plus the mount offset, its tilt, roll,
field of view and lens of the `head_lens` family, then the mount's lean), from the heads' optical centre
`HEAD_CENTRE`. The PTZ looks from `PTZ_CENTRE`, `PTZ_DROP` lower. A knock turns the heads against the
world and the PTZ: head pictures change, the PTZ's picture at a given pan/tilt does not.

Photometry differs between the two cameras as it does between two real sensors: gain, gamma, white
balance (per head a little), sensor noise (`noise`, the linear standard deviation at full scale; the
PTZ's smaller pixels get 1.5 times that) and JPEG artefacts. Head pictures are static, so each is
rendered once and cached (its noise is drawn once per cached frame); the date/time overlay is burned in
per snapshot at `OVERLAY_ORIGIN`. PTZ pictures are rendered per snapshot where the PTZ is at that
moment, with fresh noise.
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from .optics import ASPECT, LENS_K1, Physics, fisheye_focal, fisheye_theta
from .ptz import LIMITS
from .render import burn_overlay, camera_basis, expose, jpeg, pinhole_rays
from .scene import HIT_SKY, Scene, direction, pan_tilt
from . import site as site_

MOUNT_HEIGHT = 8.0
PTZ_DROP = 0.25
HEAD_CENTRE = np.array([0.0, 0.0, MOUNT_HEIGHT])
PTZ_CENTRE = np.array([0.0, 0.0, MOUNT_HEIGHT - PTZ_DROP])
HEAD_RENDER_SCALE = 0.5
PTZ_RENDER_SCALE = 0.5
OVERLAY_ORIGIN = (16, 16)
HEAD_CACHE_BYTES = 256 * 2 ** 20
PTZ_GAIN, PTZ_GAMMA, PTZ_WHITE_BALANCE, PTZ_NOISE_FACTOR = 1.15, 2.0, (1.06, 1.0, 0.92), 1.5
HEAD_GAMMA = 2.2

cv2.setNumThreads(1)
RENDERERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")


def _seed_number(seed: str | int) -> int:
    return int.from_bytes(hashlib.sha256(f"scene:{seed}".encode()).digest()[:4], "big")


def head_rays(physics: Physics, camera: int, width: int, height: int, family: str = "radial"):
    """(dirs (H*W, 3), footprint (H*W,) radians) of a head's pixel centres, through its lens (of that
    family) and the knocked mount.

    The same arithmetic as `optics.Physics.truth`, on arrays (a test holds the two together).
    """
    head = physics.heads[camera - 1]
    x = 2.0 * (np.arange(width) + 0.5) / width - 1.0
    y = 1.0 - 2.0 * (np.arange(height) + 0.5) / height
    xx, yy = np.meshgrid(x, y)
    vv = yy * ASPECT
    if family == "fisheye":
        rd = np.hypot(xx, vv)
        scale = np.tan(fisheye_theta(rd, fisheye_focal(head.fov))) / np.maximum(rd, 1e-12)
    else:
        scale = (1.0 + LENS_K1 * (xx * xx + vv * vv)) * math.tan(math.radians(head.fov) / 2.0)
    r, u = xx * scale, vv * scale
    rr, tt = math.radians(head.roll), math.radians(head.tilt)
    r1 = r * math.cos(rr) - u * math.sin(rr)
    u1 = r * math.sin(rr) + u * math.cos(rr)
    u2 = u1 * math.cos(tt) - math.sin(tt)
    f2 = u1 * math.sin(tt) + math.cos(tt)
    o = math.radians(head.azimuth + physics.mount)
    east, north = r1 * math.cos(o) + f2 * math.sin(o), -r1 * math.sin(o) + f2 * math.cos(o)
    a, b = math.radians(physics.mount_pitch), math.radians(physics.mount_roll)
    north, up = north * math.cos(a) - u2 * math.sin(a), north * math.sin(a) + u2 * math.cos(a)
    east, up = east * math.cos(b) + up * math.sin(b), up * math.cos(b) - east * math.sin(b)
    dirs = np.stack([east, north, up], axis=-1)
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    across = np.linalg.norm(np.diff(dirs, axis=1), axis=-1)
    down = np.linalg.norm(np.diff(dirs, axis=0), axis=-1)
    footprint = np.maximum(np.pad(across, ((0, 0), (0, 1)), mode="edge"), np.pad(down, ((0, 1), (0, 0)), mode="edge"))
    return dirs.reshape(-1, 3), footprint.reshape(-1)


class HeadCache:
    """Rendered head pictures of the whole fleet, least recently used first out, bounded in bytes."""

    def __init__(self, limit: int = HEAD_CACHE_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self._images: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
            return image

    def put(self, key, image) -> None:
        with self._lock:
            if key in self._images:
                return
            self._images[key] = image
            self.size += image.nbytes
            while self.size > self.limit and len(self._images) > 1:
                _key, old = self._images.popitem(last=False)
                self.size -= old.nbytes


HEAD_CACHE = HeadCache()


class World:
    """One unit's scene and cameras. The scene is drawn on first use (a few milliseconds) and again
    only when the depth scale changes, so a large fleet starts without building any."""

    def __init__(self, seed: str | int, index: int, physics: Physics, settings) -> None:
        self.seed = _seed_number(seed)
        self.index = index
        self.physics = physics
        self.settings = settings
        self._scene: Scene | None = None
        self._lock = threading.Lock()
        rng = np.random.default_rng([self.seed, index, 0xC0108])
        self.head_gain = tuple(float(g) for g in rng.uniform(0.9, 1.1, 4))
        self.head_white_balance = tuple(tuple(float(c) for c in rng.uniform(0.95, 1.05, 3)) for _head in range(4))
        self._frames = 0
        self.site = site_.Site(self.seed, index, settings)

    @property
    def scene(self) -> Scene:
        with self._lock:
            scale = float(self.settings.depth_scale)
            if self._scene is None or self._scene.depth_scale != scale:
                self._scene = Scene.generate(self.seed, self.index, scale)
            return self._scene

    # -- truth ------------------------------------------------------------------------------

    def truths(self, camera: int, pixels) -> list[dict]:
        """Per normalized pixel (x, y) of a head: `pan`, `tilt`, the PTZ pan/tilt that centres the world
        point the pixel sees (parallax included); `depth`, that point's distance from the heads (None
        for the sky); `ray_pan`, `ray_tilt`, the direction of the pixel's ray (what the PTZ would need
        if it sat in the heads' centre: the truth of a point infinitely far)."""
        family = self.settings.head_lens
        rays = np.array([direction(*self.physics.truth(camera, x, y, family)) for x, y in pixels]).reshape(-1, 3)
        distance, what = self.scene.hit(HEAD_CENTRE, rays)
        out = []
        for (x, y), ray, t, kind in zip(pixels, rays, distance, what):
            ray_pan, ray_tilt = pan_tilt(ray)
            if kind == HIT_SKY or not math.isfinite(t):
                pan, tilt, depth = ray_pan, ray_tilt, None
            else:
                pan, tilt = pan_tilt(HEAD_CENTRE + float(t) * ray - PTZ_CENTRE)
                depth = float(t)
            out.append({"x": x, "y": y, "pan": pan, "tilt": tilt, "depth": depth, "ray_pan": ray_pan,
                        "ray_tilt": ray_tilt})
        return out

    # -- pictures ---------------------------------------------------------------------------

    def _look(self) -> tuple[bool, float]:
        return bool(self.settings.night), float(self.settings.noise)

    def head_image(self, camera: int, width: int, height: int, physics: Physics | None = None,
                   family: str | None = None) -> np.ndarray:
        """RGB uint8 picture of a head (no overlay), from the cache when the unit was not knocked since.
        `physics`, `family`: the mount and lens to render (default: a copy of the unit's now, taken once,
        so the cache key and the render agree even when a knock or a lens change comes in between)."""
        physics = copy.copy(self.physics) if physics is None else physics
        family = self.settings.head_lens if family is None else family
        night, noise = self._look()
        look = site_.head_look(self.settings)
        noise *= site_.noise_factor(look)
        scene = self.scene
        key = (self.seed, self.index, camera, physics.mount, physics.mount_pitch, physics.mount_roll,
               family, width, height, scene.depth_scale, night, noise, look)
        image = HEAD_CACHE.get(key)
        if image is not None:
            return image
        w, h = max(1, round(width * HEAD_RENDER_SCALE)), max(1, round(height * HEAD_RENDER_SCALE))
        dirs, footprint = head_rays(physics, camera, w, h, family)
        radiance = scene.radiance(HEAD_CENTRE, dirs, footprint, night=night, look=look).reshape(h, w, 3)
        radiance = site_.bloom(radiance, look)
        if (w, h) != (width, height):
            radiance = cv2.resize(radiance, (width, height), interpolation=cv2.INTER_LINEAR)
        rng = np.random.default_rng([self.seed, self.index, camera, int(abs(physics.mount) * 1e6)])
        image = expose(radiance, gain=self.head_gain[camera - 1], gamma=HEAD_GAMMA,
                       white_balance=(1.0, 1.0, 1.0) if night else self.head_white_balance[camera - 1],
                       noise_sigma=noise, rng=rng)
        HEAD_CACHE.put(key, image)
        return image

    def head_frame(self, camera: int, width: int, height: int, when: float | None = None) -> np.ndarray:
        """The cached head picture as the site makes it at monotonic time `when` (default now): traffic
        drawn in through the head's own rays (with the head's sensor noise), then turned by the mast's sway
        (`site`). The mount and the lens are read once, here, for the cached picture and the site's work."""
        physics, family = copy.copy(self.physics), self.settings.head_lens
        image = self.head_image(camera, width, height, physics, family)
        when = time.monotonic() if when is None else when
        rotation = self.site.sway(when)
        scene = self.scene
        boxes = self.site.actors(scene, when)
        if rotation is None and len(boxes) == 0:
            return image
        projector = site_.Projector(lambda w, h: head_rays(physics, camera, w, h, family)[0], width, height)
        if len(boxes):
            night, look = bool(self.settings.night), site_.head_look(self.settings)
            gain, white = self.head_gain[camera - 1], (1.0, 1.0, 1.0) if night else self.head_white_balance[camera - 1]
            noise = float(self.settings.noise) * site_.noise_factor(look)

            def colour(albedo, normal, view, distance):
                rad = site_.actor_radiance(look, night, albedo, normal, view, distance, scene.sun)
                return expose(rad, gain=gain, gamma=HEAD_GAMMA, white_balance=white)

            grain = None
            if noise > 0:
                frame = int(math.floor(self.site.elapsed(when) * 30.0)) % 2 ** 32  # a frame of 30 per second
                grain = _grain(np.random.default_rng([self.seed, self.index, camera, 0x6A1, frame]), gain, white,
                               noise)
            image = site_.draw_heads_traffic(image, boxes, scene, HEAD_CENTRE, projector, colour, grain)
        if rotation is not None:
            maps = projector.sway_maps(rotation)
            image = cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return image

    def head_snapshot(self, camera: int | None, width: int, height: int, quality: int,
                      size: tuple[int, int] | None = None, when: float | None = None) -> bytes:
        """JPEG of one head (camera 1..4) or of the quad view (None), with the date/time overlay; rendered
        at width x height and, when `size` is given, scaled to that size (`snapshot_size`). `when`: the
        monotonic time the picture shows (`frame_latency`; default now), also in the overlay."""
        when = time.monotonic() if when is None else when
        if camera is None:
            hw, hh = width // 2, height // 2
            image = np.zeros((height, width, 3), dtype=np.uint8)
            for n in range(4):
                row, col = divmod(n, 2)
                tile = cv2.resize(self.head_frame(n + 1, width, height, when), (hw, hh),
                                  interpolation=cv2.INTER_AREA)
                image[row * hh:(row + 1) * hh, col * hw:(col + 1) * hw] = tile
        else:
            image = self.head_frame(camera, width, height, when)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - (time.monotonic() - when)))
        return jpeg(burn_overlay(scaled(image, size), stamp, OVERLAY_ORIGIN), quality)

    def ptz_image(self, pan: float, tilt: float, zoom: float, width: int, height: int,
                  frame: site_.Frame | None = None) -> np.ndarray:
        """RGB uint8 picture of the PTZ at pan/tilt/zoom, with fresh sensor noise. `frame`: the time it shows,
        its motion smear and defocus (`site.ptz_frame`; default: now, sharp). The mast's sway turns its rays;
        the traffic is traced in."""
        night, noise = self._look()
        look = site_.ptz_look(self.settings)
        noise *= site_.noise_factor(look)
        when = frame.when if frame is not None else time.monotonic()
        hfov = LIMITS.field_angle(zoom)
        w, h = max(1, round(width * PTZ_RENDER_SCALE)), max(1, round(height * PTZ_RENDER_SCALE))
        dirs, footprint = pinhole_rays(pan, tilt, 0.0, hfov, w, h)
        basis = camera_basis(pan, tilt)
        rotation = self.site.sway(when)
        if rotation is not None:
            dirs, basis = dirs @ rotation.T, rotation @ basis
        radiance = self.scene.radiance(PTZ_CENTRE, dirs, footprint, night=night, look=look)
        traffic = site_.ptz_traffic(self.site.actors(self.scene, when), self.scene, PTZ_CENTRE, dirs, basis, hfov,
                                    w, h, look, night)
        if traffic is not None:
            radiance[traffic["index"]] = traffic["radiance"]
        radiance = site_.bloom(radiance.reshape(h, w, 3), look)
        radiance = site_.smear_and_focus(radiance, frame, tilt, hfov)
        if (w, h) != (width, height):
            radiance = cv2.resize(radiance, (width, height), interpolation=cv2.INTER_LINEAR)
        self._frames += 1
        rng = np.random.default_rng([self.seed, self.index, 0x7072, self._frames])
        grey = night or look == site_.IR
        return expose(radiance, gain=1.0 if grey else PTZ_GAIN, gamma=PTZ_GAMMA,
                      white_balance=(1.0, 1.0, 1.0) if grey else PTZ_WHITE_BALANCE,
                      noise_sigma=noise * PTZ_NOISE_FACTOR, rng=rng)

    def ptz_snapshot(self, pan: float, tilt: float, zoom: float, width: int, height: int, quality: int,
                     size: tuple[int, int] | None = None, frame: site_.Frame | None = None) -> bytes:
        return jpeg(scaled(self.ptz_image(pan, tilt, zoom, width, height, frame), size), quality)


def _grain(rng, gain: float, white, noise: float):
    """Sensor noise for pixels exposed without it (uint8 (N, 3) to uint8 (N, 3)): back to linear, the noise
    added as `expose` adds it, exposed again."""
    scale = np.float32(gain) * np.asarray(white, dtype=np.float32)

    def grain(pixels):
        linear = (pixels.astype(np.float32) / np.float32(255.0)) ** np.float32(HEAD_GAMMA) / scale
        return expose(linear, gain=gain, gamma=HEAD_GAMMA, white_balance=white, noise_sigma=noise, rng=rng)
    return grain


def scaled(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """The same picture at `size` (width, height), or unchanged when size is None or its own."""
    if size is None or size == (image.shape[1], image.shape[0]):
        return image
    shrink = size[0] * size[1] < image.shape[0] * image.shape[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
