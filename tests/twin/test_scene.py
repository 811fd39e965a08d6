"""The twin's world and renderer (tests/emulator/scene.py, render.py): geometry, parallax, detail, hazards."""

from __future__ import annotations

import math

import cv2
import numpy as np

from tests.emulator.render import burn_overlay, expose, jpeg, pinhole_rays, render_view, unjpeg
from tests.emulator.scene import BRICK, HIT_GROUND, HIT_SKY, PLAIN, WINDOWS, Scene, direction, pan_tilt

cv2.setNumThreads(1)
HEADS = np.array([0.0, 0.0, 8.0])
PTZ = np.array([0.0, 0.0, 7.75])
W, H = 320, 180


def grey(img):
    return cv2.cvtColor(expose(img), cv2.COLOR_RGB2GRAY).astype(np.float32)


def lap_var(g, mask=None):
    lap = cv2.Laplacian(g, cv2.CV_32F)
    return float(lap[mask].var() if mask is not None else lap.var())


def view(scene, origin, target_or_dir, hfov, width=W, height=H, night=False):
    """Render a pinhole view at full resolution looking at a world point (3,) or along (pan, tilt)."""
    if len(target_or_dir) == 3:
        pan, tilt = pan_tilt(np.asarray(target_or_dir) - origin)
    else:
        pan, tilt = target_or_dir
    return render_view(scene, origin, pan, tilt, 0.0, hfov, width, height, night=night, scale=1.0)


def match_offset(template, image):
    """(dx, dy) of the template's best match from the image centre, in pixels."""
    res = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
    _min, peak, _minloc, loc = cv2.minMaxLoc(res)
    th, tw = template.shape
    return loc[0] + tw / 2 - image.shape[1] / 2, loc[1] + th / 2 - image.shape[0] / 2, peak


def visible(scene, name_filter, min_dist=0.0, max_dist=1e9):
    """(index, aim point) of a structure seen unobstructed at its bounding centre from the heads."""
    for i, obj in enumerate(scene.structures):
        if not name_filter(obj) or not min_dist <= obj["distance"] <= max_dist:
            continue
        point = np.array(obj["bound_centre"])
        d = point - HEADS
        _t, what = scene.hit(HEADS, (d / np.linalg.norm(d))[None, :])
        if what[0] == i:
            return i, point
    return None


def first_visible(material, seed=1):
    """(scene, (index, aim point)) of the first unit with a building of that material 20..80 m away in view."""
    for index in range(10):
        scene = Scene.generate(seed, index)
        found = visible(scene, lambda o: o["material"] == material, 20.0, 80.0)
        if found:
            return scene, found
    raise AssertionError(f"no unit shows a building of material {material}")


def test_deterministic_per_seed_and_index():
    a, b = Scene.generate(7, 3), Scene.generate(7, 3)
    assert a.structures == b.structures
    dirs, fp = pinhole_rays(45, -20, 0, 110, 64, 36)
    img = a.radiance(HEADS, dirs, fp)
    assert np.array_equal(img, b.radiance(HEADS, dirs, fp))
    assert img.dtype == np.float32 and img.shape == (64 * 36, 3) and 0 <= img.min() and img.max() <= 1
    for other in (Scene.generate(7, 4), Scene.generate(8, 3)):
        assert other.structures != a.structures
        assert np.abs(other.radiance(HEADS, dirs, fp) - img).mean() > 0.02


def test_trace_ground_structures_sky_and_depth_scale():
    scene = Scene.generate(3, 1)
    assert math.isclose(scene.trace(HEADS, np.array([[0.0, 0.0, -1.0]]))[0], 8.0, rel_tol=1e-6)
    depth, what = scene.hit(HEADS, direction(np.arange(0.0, 360.0, 5.0), np.full(72, -30.0)))
    ground = what == HIT_GROUND
    assert ground.mean() > 0.5
    np.testing.assert_allclose(depth[ground], 16.0, rtol=1e-6)
    assert (depth[~ground] < 16.0).all()
    sky = direction(np.linspace(0, 350, 36), np.full(36, 70.0))
    assert np.isinf(scene.trace(HEADS, sky)).all()
    # the cabinet's front face is square to the mount: a horizontal ray at its azimuth hits it at distance - 0.3
    for depth_scale in (1.0, 0.5, 2.0):
        sc = Scene.generate(3, 1, depth_scale)
        cab = sc.structures[sc.find("cabinet")]
        depth = sc.trace((0.0, 0.0, 0.8), direction(cab["azimuth"], 0.0)[None, :])[0]
        assert math.isclose(depth, cab["distance"] - 0.3 * depth_scale, rel_tol=1e-5)
        assert 4 * depth_scale <= cab["distance"] <= 8 * depth_scale
    # horizontal rays at a fixed height: every hit distance doubles with depth_scale 2
    ring = direction(np.linspace(0, 359, 720), np.zeros(720))
    near, far = Scene.generate(3, 1).trace((0, 0, 1.0), ring), Scene.generate(3, 1, 2.0).trace((0, 0, 1.0), ring)
    hits = np.isfinite(near)
    assert hits.mean() > 0.5 and np.array_equal(hits, np.isfinite(far))
    np.testing.assert_allclose(far[hits], 2 * near[hits], rtol=1e-4)


def _parallax_case(scene, point, hfov):
    """Heads' view at the point; the PTZ aimed at the traced world point, and at the same direction."""
    pan, tilt = pan_tilt(point - HEADS)
    depth = scene.trace(HEADS, direction(pan, tilt)[None, :])[0]
    world = HEADS + depth * direction(pan, tilt)
    heads = grey(view(scene, HEADS, (pan, tilt), hfov))
    corrected = grey(view(scene, PTZ, world, hfov))
    naive = grey(view(scene, PTZ, (pan, tilt), hfov))
    tpl = heads[H // 2 - 24:H // 2 + 24, W // 2 - 24:W // 2 + 24]
    pixel = hfov / W
    truth = np.degrees(np.arccos(np.clip(np.dot((world - PTZ) / np.linalg.norm(world - PTZ),
                                                direction(pan, tilt)), -1, 1))) / pixel
    return depth, match_offset(tpl, corrected), match_offset(tpl, naive), truth


def test_parallax_near_object_and_far_structure():
    scene = Scene.generate(1, 0)
    cab = scene.structures[scene.find("cabinet")]
    face = np.array(cab["bound_centre"]) - 0.3 * direction(cab["azimuth"], 0.0)
    face[2] = 0.8  # below the ventilation slats (their 3 cm period is a repetitive trap of its own)
    depth, (cx, cy, peak), (nx, ny, _p), truth = _parallax_case(scene, face, 16.0)
    assert math.isclose(depth, np.linalg.norm(face - HEADS), rel_tol=1e-4)
    assert peak > 0.8 and math.hypot(cx, cy) <= 1.5
    # the PTZ is lower: the near patch appears higher in its image, by about atan(0.25/d) (here about 20 pixels)
    assert truth > 15 and ny < 0 and abs(math.hypot(nx, ny) - truth) < 2.0
    found = None
    for index in range(8):
        found = visible(Scene.generate(1, index), lambda o: o["material"] in (WINDOWS, BRICK), 120.0)
        if found:
            scene = Scene.generate(1, index)
            break
    assert found
    depth, (cx, cy, peak), (nx, ny, _p), truth = _parallax_case(scene, found[1], 16.0)
    assert depth > 100 and peak > 0.8 and math.hypot(cx, cy) <= 1.5
    assert truth < 3 and math.hypot(nx, ny) < 3.5


def test_detail_at_every_zoom_without_aliasing():
    scene = Scene.generate(2, 0)
    target = np.array([25.0, 30.0, 0.0])
    pan, tilt = pan_tilt(target - PTZ)
    for hfov in (62.0, 2.2):
        dirs, fp = pinhole_rays(pan, tilt, 0, hfov, W, H)
        detailed = grey(scene.radiance(PTZ, dirs, fp).reshape(H, W, 3))
        flat = grey(scene.radiance(PTZ, dirs, 1.0).reshape(H, W, 3))
        smooth = np.abs(cv2.Laplacian(flat, cv2.CV_32F)) < 2.0  # away from the outlines of objects
        assert smooth.mean() > 0.5
        assert lap_var(detailed, smooth) > 4 * lap_var(flat, smooth) + 1.0, hfov
    wide = grey(view(scene, PTZ, target, 20.0))
    tele = grey(view(scene, PTZ, target, 2.5))
    small = cv2.resize(tele[2:178], (40, 22), interpolation=cv2.INTER_AREA)
    crop = wide[H // 2 - 11:H // 2 + 11, W // 2 - 20:W // 2 + 20]
    corr = np.corrcoef(small.ravel(), crop.ravel())[0, 1]
    assert corr > 0.85 and lap_var(tele) > 1.0


def test_hazards_low_texture_repetition_night():
    scene = Scene.generate(1, 0)
    ground = grey(view(scene, HEADS, (90.0, -35.0), 40.0))
    dirs, _fp = pinhole_rays(90.0, 40.0, 0, 60.0, W, H)
    _t, what = scene.hit(HEADS, dirs)
    sky_mask = cv2.erode((what == HIT_SKY).reshape(H, W).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert sky_mask.mean() > 0.3
    sky = grey(view(scene, HEADS, (90.0, 40.0), 60.0))
    assert lap_var(sky, sky_mask) < 0.1 * lap_var(ground)
    plain, repetitive = first_visible(PLAIN), first_visible(WINDOWS)
    sc, (i, point) = plain
    hfov = math.degrees(0.5 * min(sc.structures[i]["size"][:2]) / np.linalg.norm(point - HEADS))
    wall = grey(view(sc, HEADS, point, hfov))
    assert lap_var(wall) < 0.2 * lap_var(ground)
    sc, (i, point) = repetitive
    dist = np.linalg.norm(point - HEADS)
    facade = grey(view(sc, HEADS, point, math.degrees(12.0 / dist), 160, 160))
    dirs, _fp = pinhole_rays(*pan_tilt(point - HEADS), 0, math.degrees(12.0 / dist), 160, 160)
    assert (sc.hit(HEADS, dirs)[1] == i).mean() > 0.6
    res = cv2.matchTemplate(facade, facade[50:110, 50:110], cv2.TM_CCOEFF_NORMED)
    res[40:61, 40:61] = -1
    assert res.max() > 0.6
    day, night = view(scene, HEADS, (90.0, -25.0), 60.0), view(scene, HEADS, (90.0, -25.0), 60.0, night=True)
    assert grey(night).std() < 0.6 * grey(day).std()
    n8 = night.reshape(-1, 3)
    assert np.allclose(n8[:, 0], n8[:, 1]) and np.allclose(n8[:, 1], n8[:, 2])


def test_photometry_helpers():
    scene = Scene.generate(1, 0)
    img = view(scene, HEADS, (0.0, -20.0), 110.0, 64, 36)
    out = expose(img, gain=1.2, gamma=2.2, white_balance=(1.0, 0.95, 1.05), noise_sigma=0.01,
                 rng=np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == (36, 64, 3)
    assert np.array_equal(expose(img), expose(img))
    back = unjpeg(jpeg(out, 90))
    assert back.shape == out.shape and np.abs(back.astype(int) - out).mean() < 12
    big = expose(view(scene, HEADS, (0.0, -20.0), 110.0, 320, 180))
    stamped = burn_overlay(big, "2026-12-01 22:00:00", (8, 8))
    assert not np.array_equal(stamped[8:30, 8:120], big[8:30, 8:120])
    assert np.array_equal(stamped[100:, :], big[100:, :])
    assert scene.hit(HEADS, np.array([[0.0, 0.0, -1.0]]))[1][0] == HIT_GROUND
