"""Cameras and photometry on top of `scene`: pinhole rays, a view renderer, exposure, JPEG, an overlay.

Pixel convention: pixel (px, py) of a W x H image has normalized x = 2(px + 0.5)/W - 1 and
y = 1 - 2(py + 0.5)/H; its ray is (x tan(hfov/2), y tan(hfov/2) H/W, 1) in camera coordinates (right,
up, forward), rolled about forward by `roll`, tilted up by `tilt`, turned clockwise by `pan` (degrees).

`render_view` renders at `scale` times the resolution (0.5 by default: a real PTZ image is slightly
soft) with the footprint of the rendered pixel, and upscales with cv2.resize (bilinear).
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def camera_basis(pan: float, tilt: float, roll: float = 0.0) -> np.ndarray:
    """3x3 matrix whose columns are the camera's right, up and forward axes in world coordinates."""
    p, t, r = math.radians(pan), math.radians(tilt), math.radians(roll)
    forward = np.array([math.sin(p) * math.cos(t), math.cos(p) * math.cos(t), math.sin(t)])
    right0 = np.array([math.cos(p), -math.sin(p), 0.0])
    up0 = np.cross(right0, forward)
    right = math.cos(r) * right0 + math.sin(r) * up0
    up = -math.sin(r) * right0 + math.cos(r) * up0
    return np.stack([right, up, forward], axis=1)


def pinhole_rays(pan: float, tilt: float, roll: float, hfov: float, width: int, height: int):
    """(dirs (H*W, 3) unit vectors, row-major; footprint (H*W,) radians) of a pinhole camera.

    The footprint is the angular size of the pixel along its ray (the tangential one, p cos(theta)).
    """
    half = math.tan(math.radians(hfov) / 2.0)
    xs = (2.0 * (np.arange(width) + 0.5) / width - 1.0) * half
    ys = (1.0 - 2.0 * (np.arange(height) + 0.5) / height) * half * height / width
    cam = np.empty((height, width, 3))
    cam[:, :, 0] = xs[None, :]
    cam[:, :, 1] = ys[:, None]
    cam[:, :, 2] = 1.0
    cam = cam.reshape(-1, 3)
    norm = np.linalg.norm(cam, axis=1)
    dirs = (cam / norm[:, None]) @ camera_basis(pan, tilt, roll).T
    footprint = (2.0 * half / width) / norm
    return dirs, footprint


def render_view(scene, origin, pan: float, tilt: float, roll: float, hfov: float, width: int, height: int,
                night: bool = False, scale: float = 0.5) -> np.ndarray:
    """Linear RGB (height, width, 3) float32 of a pinhole view, rendered at `scale` and upscaled."""
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    dirs, footprint = pinhole_rays(pan, tilt, roll, hfov, w, h)
    img = scene.radiance(origin, dirs, footprint, night=night).reshape(h, w, 3)
    if (w, h) != (width, height):
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    return img


def expose(radiance, gain: float = 1.0, gamma: float = 2.2, white_balance=(1.0, 1.0, 1.0), noise_sigma: float = 0.0,
           rng=None) -> np.ndarray:
    """uint8 RGB image: radiance times gain and white balance, plus Gaussian noise (sigma in linear full-scale
    units, applied when rng is given), clipped, gamma-encoded (v ** (1/gamma))."""
    v = np.asarray(radiance, dtype=np.float32) * (np.float32(gain) * np.asarray(white_balance, dtype=np.float32))
    if rng is not None and noise_sigma > 0:
        v = v + rng.standard_normal(v.shape, dtype=np.float32) * np.float32(noise_sigma)
    v = np.clip(v, 0.0, 1.0) ** np.float32(1.0 / gamma)
    return (v * 255.0 + 0.5).astype(np.uint8)


def jpeg(image, quality: int = 85) -> bytes:
    """JPEG bytes of an RGB uint8 image."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def unjpeg(data: bytes) -> np.ndarray:
    """RGB uint8 image of JPEG bytes."""
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def burn_overlay(image, text: str, origin=(16, 16)) -> np.ndarray:
    """A copy of the RGB image with `text` (a date/time, say) in a black box whose top-left is `origin`."""
    out = np.ascontiguousarray(image).copy()
    scale = max(0.4, out.shape[1] / 1920.0)
    thick = max(1, round(2 * scale))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = int(origin[0]), int(origin[1])
    pad = max(2, round(6 * scale))
    cv2.rectangle(out, (x, y), (x + tw + 2 * pad, y + th + base + 2 * pad), (0, 0, 0), thickness=-1)
    cv2.putText(out, text, (x + pad, y + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                cv2.LINE_AA)
    return out
