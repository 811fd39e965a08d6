"""What the cameras see (tests/emulator/views.py) agrees with the geometry: snapshots over VAPIX, matched by
image, scored against the twin's truth; snapshot shapes, roles and errors; the world's switches."""

from __future__ import annotations

import math
import threading
import time

import cv2
import numpy as np
import pytest

from tests.emulator import views
from tests.emulator.device import Settings
from tests.emulator.optics import Physics, angular_distance
from tests.emulator.ptz import LIMITS
from tests.emulator.render import camera_basis, unjpeg
from tests.emulator.scene import direction
from tests.emulator.views import OVERLAY_ORIGIN, PTZ_DROP, World, head_rays
from tests.twin.helpers import PARAM, PTZ, start_twin, stop_twin

IMAGE = "/axis-cgi/jpg/image.cgi"
W, H = 1920, 1080
HALF = 32  # half size of the head patch that is looked for in the PTZ's picture
# Head pixels: how far the PTZ's centre may be from the head pixel's spot. Matching a 64-pixel patch of soft
# texture between two cameras of different resolution, blur and photometry is good to about 2 pixels (about
# 0.15 degrees at a head's centre); the parallax of near content is 10 pixels and more.
MATCH_BUDGET = 2.5
GRID = [(x / 10.0, y / 10.0) for y in range(6, -8, -2) for x in range(-6, 7, 2)]
DENSE = [(x / 20.0, y / 20.0) for y in range(13, -15, -2) for x in range(-13, 14, 2)]

cv2.setNumThreads(1)


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    twin = start_twin(tmp_path_factory, units=2)
    yield twin
    stop_twin(twin)


def grey(data: bytes) -> np.ndarray:
    return cv2.cvtColor(unjpeg(data), cv2.COLOR_RGB2GRAY).astype(np.float32)


def snapshot(device, endpoint="q6000", **args) -> bytes:
    response = device.call(IMAGE, args, account="viewer" if endpoint == "q6000" else "ptz", endpoint=endpoint)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg", response.text[:200]
    return response.content


def aim(device, pan, tilt, zoom=1):
    assert device.call(PTZ, {"pan": repr(pan), "tilt": repr(tilt), "zoom": str(zoom)},
                       endpoint="ptz").status_code == 204


def ptz_pixel(pan0, tilt0, hfov, pan, tilt):
    """Continuous pixel (edge convention) where direction (pan, tilt) appears in the PTZ's W x H picture."""
    cam = camera_basis(pan0, tilt0).T @ direction(pan, tilt)
    focal = W / 2.0 / math.tan(math.radians(hfov) / 2.0)
    return np.array([W / 2.0 + focal * cam[0] / cam[2], H / 2.0 - focal * cam[1] / cam[2]])


def normalized(px, py):
    return 2.0 * px / W - 1.0, 1.0 - 2.0 * py / H


def spot_offset(twin, device, camera, head, px, py, pan0, tilt0):
    """How far (in head pixels) from the PTZ picture's centre the head's patch around (px, py) is found,
    the PTZ aimed at (pan0, tilt0) at zoom 1.

    The PTZ's picture is warped, about its centre, into the head's pixel grid with the local linear map the
    truth gives (the truths of three neighbouring pixels projected into the PTZ's picture), then the head's
    patch is looked for by normalized cross-correlation.
    """
    step = 8.0
    pixels = [normalized(px, py), normalized(px + step, py), normalized(px, py + step)]
    truths = twin.truths(device.host, camera, pixels)
    hfov = LIMITS.field_angle(1)
    points = [ptz_pixel(pan0, tilt0, hfov, t["pan"], t["tilt"]) for t in truths]
    jacobian = np.stack([(points[1] - points[0]) / step, (points[2] - points[0]) / step], axis=1)
    aim(device, pan0, tilt0)
    ptz = grey(snapshot(device, "ptz"))
    size = 4 * HALF
    centre = np.array([W / 2.0, H / 2.0]) - jacobian @ np.array([size, size])
    warp = np.hstack([jacobian, centre[:, None]]).astype(np.float64)
    window = cv2.warpAffine(ptz, warp, (2 * size, 2 * size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    cx, cy = int(round(px)), int(round(py))
    patch = head[cy - HALF:cy + HALF, cx - HALF:cx + HALF]
    score = cv2.matchTemplate(window, patch, cv2.TM_CCOEFF_NORMED)
    _low, peak, _lowloc, (x, y) = cv2.minMaxLoc(score)
    return np.array([x + subpixel(score[y, x - 1:x + 2]) + HALF - size + (cx - px),
                     y + subpixel(score[y - 1:y + 2, x]) + HALF - size + (cy - py)]), peak


def subpixel(values):
    """Offset of a peak from the middle of three samples (a parabola through them)."""
    left, middle, right = (float(v) for v in values)
    curvature = left - 2 * middle + right
    return 0.5 * (left - right) / curvature if curvature < 0 else 0.0


def distinct(head, px, py):
    """Whether the patch around (px, py) has no look-alike within 100 pixels (no repetitive pattern)."""
    cx, cy = int(round(px)), int(round(py))
    patch = head[cy - HALF:cy + HALF, cx - HALF:cx + HALF]
    area = head[max(0, cy - HALF - 100):cy + HALF + 100, max(0, cx - HALF - 100):cx + HALF + 100]
    score = cv2.matchTemplate(area, patch, cv2.TM_CCOEFF_NORMED)
    _low, peak, _lowloc, (x, y) = cv2.minMaxLoc(score)
    score[max(0, y - 24):y + 25, max(0, x - 24):x + 25] = -1
    return cv2.minMaxLoc(score)[1] < 0.8 * peak


def textured_pixels(twin, device, camera, head, near):
    """Pixels of a head with distinct texture whose content is near (under 12 m) or far (60 m or more)."""
    out = []
    for t in twin.truths(device.host, camera, DENSE):
        if t["depth"] is None or (t["depth"] >= 12 if near else t["depth"] < 60):
            continue
        px, py = (t["x"] + 1) * W / 2, (1 - t["y"]) * H / 2
        patch = head[int(py) - HALF:int(py) + HALF, int(px) - HALF:int(px) + HALF]
        if cv2.Laplacian(patch, cv2.CV_32F).var() > 20 and patch.std() > 8 and distinct(head, px, py):
            out.append((px, py, t))
    return out


# -- geometry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["radial", "fisheye"])
def test_head_rays_are_the_optics_projection(family):
    physics = Physics.generate("7", 3)
    physics.knock(12.5, pitch=-4.0, roll=7.5)
    dirs, footprint = head_rays(physics, 2, 64, 36, family)
    grid = dirs.reshape(36, 64, 3)
    for px, py in [(0, 0), (63, 0), (31, 17), (5, 30), (63, 35)]:
        x, y = 2 * (px + 0.5) / 64 - 1, 1 - 2 * (py + 0.5) / 36
        assert np.allclose(grid[py, px], direction(*physics.truth(2, x, y, family)), atol=1e-9)
    assert footprint.min() > 0 and footprint.max() < 4 * footprint.min()


@pytest.mark.parametrize("change", ["knock", "lens"])
def test_a_change_while_a_head_renders_caches_nothing_under_the_wrong_key(monkeypatch, change):
    """The mount and the lens are read once per picture: a knock or a lens change that comes while a render
    thread traces keeps that render's picture under the key it was asked for (the old mount and lens)."""
    settings = Settings()
    settings.update({"noise": 0.0})
    world = World(f"cache-race-{change}", 0, Physics.generate(f"cache-race-{change}", 0), settings)
    original = views.head_rays
    changes = []

    def change_then_rays(*args):
        if not changes:
            if change == "knock":
                world.physics.knock(5.0)
            else:
                world.settings.update({"head_lens": "fisheye"})
            changes.append(change)
        return original(*args)

    monkeypatch.setattr(views, "head_rays", change_then_rays)
    during = world.head_frame(1, 168, 94)
    monkeypatch.setattr(views, "head_rays", original)
    assert changes == [change]
    after = world.head_frame(1, 168, 94)  # rendered anew for the new mount or lens, not the one cached during
    assert np.abs(after.astype(float) - during).mean() > 5.0
    if change == "knock":
        world.physics.knock(-5.0)
    else:
        world.settings.update({"head_lens": "radial"})
    assert np.array_equal(world.head_frame(1, 168, 94), during)


def test_parallax_is_the_drop_seen_from_the_point():
    world = World("1", 0, Physics.generate("1", 0), Settings())
    for t in world.truths(1, GRID):
        parallax = angular_distance(t["pan"], t["tilt"], t["ray_pan"], t["ray_tilt"])
        if t["depth"] is None:
            assert parallax == 0
        else:
            ray = direction(t["ray_pan"], t["ray_tilt"])
            expected = math.degrees(math.asin(PTZ_DROP * math.hypot(ray[0], ray[1]) / t["depth"]))
            assert parallax == pytest.approx(expected, rel=0.02, abs=1e-4)


def test_parallax_grows_as_the_scene_gets_nearer():
    medians = []
    for scale in (2.0, 1.0, 0.5):
        settings = Settings()
        settings.update({"depth_scale": scale})
        world = World("1", 5, Physics.generate("1", 5), settings)
        parallax = [angular_distance(t["pan"], t["tilt"], t["ray_pan"], t["ray_tilt"])
                    for camera in (1, 2, 3, 4) for t in world.truths(camera, GRID) if t["depth"] is not None]
        medians.append(float(np.median(parallax)))
    assert medians[0] < medians[1] < medians[2], medians


# -- pictures against the truth ----------------------------------------------------------------


@pytest.mark.parametrize("camera", [1, 3])
def test_the_ptz_at_a_pixels_truth_shows_what_the_head_shows_there(twin, device, camera):
    head = grey(snapshot(device, camera=str(camera)))
    for near in (False, True):
        chosen = textured_pixels(twin, device, camera, head, near)[::3][:3]
        assert chosen, "no distinct textured pixel with %s content" % ("near" if near else "far")
        for px, py, t in chosen:
            offset, peak = spot_offset(twin, device, camera, head, px, py, t["pan"], t["tilt"])
            assert peak > 0.6 and np.hypot(*offset) <= MATCH_BUDGET, (near, px, py, t, offset, peak)


def test_a_near_spot_needs_the_parallax(twin, device):
    """Aimed along the pixel's ray instead of at its truth, the PTZ sees a near spot off by the parallax."""
    for camera in (1, 2, 3, 4):
        head = grey(snapshot(device, camera=str(camera)))
        near = textured_pixels(twin, device, camera, head, near=True)
        if near:
            break
    px, py, t = near[0]
    parallax = angular_distance(t["pan"], t["tilt"], t["ray_pan"], t["ray_tilt"])
    at_truth, _peak = spot_offset(twin, device, camera, head, px, py, t["pan"], t["tilt"])
    along_ray, peak = spot_offset(twin, device, camera, head, px, py, t["ray_pan"], t["ray_tilt"])
    step = twin.truths(device.host, camera, [normalized(px, py), normalized(px + 1, py)])
    degrees_per_pixel = angular_distance(step[0]["ray_pan"], step[0]["ray_tilt"], step[1]["ray_pan"],
                                         step[1]["ray_tilt"])
    assert parallax > 0.5
    assert np.hypot(*at_truth) <= MATCH_BUDGET
    assert np.hypot(*along_ray) == pytest.approx(parallax / degrees_per_pixel, rel=0.35), (along_ray, peak)


def test_zoom_magnifies_as_the_curve_says(device):
    """The tele picture, shrunk about its centre by the curve's magnification, is the wide picture's centre."""
    aim(device, 100.0, -10.0, zoom=1)
    wide = grey(snapshot(device, "ptz"))
    zoom = 4000
    aim(device, 100.0, -10.0, zoom=zoom)
    tele = grey(snapshot(device, "ptz"))
    expected = math.tan(math.radians(LIMITS.field_angle(1) / 2)) / math.tan(math.radians(LIMITS.field_angle(zoom) / 2))
    assert expected == pytest.approx(LIMITS.magnification(zoom))
    peaks = {}
    for factor in (0.85, 1.0, 1.15):
        scale = expected * factor
        shrink = np.array([[1 / scale, 0, W / 2 * (1 - 1 / scale)], [0, 1 / scale, H / 2 * (1 - 1 / scale)]])
        small = cv2.warpAffine(cv2.GaussianBlur(tele, (0, 0), scale / 2), shrink, (W, H))
        rx, ry = int(W / expected * 0.4), int(H / expected * 0.4)
        template = small[H // 2 - ry:H // 2 + ry, W // 2 - rx:W // 2 + rx]
        result = cv2.matchTemplate(wide, template, cv2.TM_CCOEFF_NORMED)
        _low, peak, _lowloc, loc = cv2.minMaxLoc(result)
        peaks[factor] = peak
        if factor == 1.0:
            assert np.hypot(loc[0] + rx - W / 2, loc[1] + ry - H / 2) <= 1.5, loc
    assert peaks[1.0] > 0.8 and peaks[1.0] > max(peaks[0.85], peaks[1.15]) + 0.1, peaks


def test_a_knock_moves_the_heads_pictures_not_the_ptzs(twin, device):
    aim(device, -70.0, -8.0)
    before_head, before_ptz = grey(snapshot(device, camera="1")), grey(snapshot(device, "ptz"))
    twin.knock(device.host, 1.0)
    after_head, after_ptz = grey(snapshot(device, camera="1")), grey(snapshot(device, "ptz"))
    crop = (slice(340, 740), slice(760, 1160))
    (dx, dy), _response = cv2.phaseCorrelate(before_head[crop], after_head[crop])
    centre = twin.truths(device.host, 1, [(0.0, 0.0), (2.0 / W, 0.0)])
    degrees_per_pixel = angular_distance(centre[0]["ray_pan"], centre[0]["ray_tilt"], centre[1]["ray_pan"],
                                         centre[1]["ray_tilt"])
    assert abs(dx) == pytest.approx(1.0 / degrees_per_pixel, rel=0.25) and abs(dy) < 3, (dx, dy)
    (dx, dy), _response = cv2.phaseCorrelate(before_ptz, after_ptz)
    assert np.hypot(dx, dy) < 0.3
    assert np.abs(before_ptz - after_ptz).mean() < 4


def test_the_ptz_centres_on_its_own_pixel_approximately(device):
    """One center= lands near the pixel's direction, not on it at the wide end; iterating converges."""
    aim(device, 10.0, -15.0, zoom=1)
    hfov = LIMITS.field_angle(1)
    cam = np.array([0.5 * math.tan(math.radians(hfov / 2)), 0.5 * math.tan(math.radians(hfov / 2)) * H / W, 1.0])
    goal = camera_basis(10.0, -15.0) @ (cam / np.linalg.norm(cam))
    goal_pan = math.degrees(math.atan2(goal[0], goal[1]))
    goal_tilt = math.degrees(math.asin(goal[2]))
    assert device.call(PTZ, {"center": f"{0.75 * W:g},{0.25 * H:g}"}, endpoint="ptz").status_code == 204
    pan, tilt, _zoom = device.position()
    first = angular_distance(pan, tilt, goal_pan, goal_tilt)
    assert 0.2 < first < 2.0
    for _step in range(6):
        pixel = ptz_pixel(pan, tilt, hfov, goal_pan, goal_tilt)
        assert device.call(PTZ, {"center": f"{pixel[0]:.2f},{pixel[1]:.2f}"}, endpoint="ptz").status_code == 204
        pan, tilt, _zoom = device.position()
    assert angular_distance(pan, tilt, goal_pan, goal_tilt) < 0.01


def test_the_ptzs_areazoom_centres_and_zooms(device):
    aim(device, 0.0, -10.0, zoom=1)
    assert device.call(PTZ, {"areazoom": f"{W / 2:g},{H / 2:g},400"}, endpoint="ptz").status_code == 204
    pan, tilt, zoom = device.position()
    assert (pan, tilt) == pytest.approx((0.0, -10.0), abs=1e-3)
    assert LIMITS.magnification(zoom) == pytest.approx(4.0, rel=2e-3)


@pytest.mark.parametrize("args, message", [
    ({"center": "10,10", "pan": "3"}, "pan cannot be combined with center or areazoom"),
    ({"center": "10"}, "center: expected 2 comma-separated numbers"),
    ({"areazoom": "10,10,0"}, "areazoom: zoom must be >= 1"),
    ({"center": "3000,10"}, "center: coordinates outside the 1920x1080 image"),
    ({"center": "10,10", "imagewidth": "0"}, "imagewidth: invalid value"),
    ({"imagewidth": "640"}, "give exactly one of center and areazoom"),
])
def test_the_ptzs_center_refuses_bad_arguments(device, args, message):
    before = device.position()
    response = device.call(PTZ, args, endpoint="ptz")
    assert response.status_code == 200 and response.text.startswith("Error: " + message), response.text
    assert device.position() == before


# -- snapshots: shapes, roles, errors ----------------------------------------------------------


@pytest.mark.parametrize("endpoint, camera", [("q6000", "1"), ("q6000", "4"), ("q6000", "quad"), ("ptz", "1")])
@pytest.mark.parametrize("resolution", ["1920x1080", "1280x720", "640x360"])
def test_snapshot_shapes(device, endpoint, camera, resolution):
    image = unjpeg(snapshot(device, endpoint, camera=camera, resolution=resolution))
    width, height = (int(v) for v in resolution.split("x"))
    assert image.shape == (height, width, 3)
    assert image.std() > 10


def test_every_device_lists_its_resolutions(device):
    for endpoint in ("q6000", "ptz"):
        response = device.call(PARAM, {"action": "list", "group": "Properties.Image.Resolution"}, account=None,
                               endpoint=endpoint)
        assert response.text == "root.Properties.Image.Resolution=1920x1080,1280x720,640x360\n"


def test_the_default_is_camera_1_at_full_resolution(device):
    assert unjpeg(snapshot(device)).shape == (H, W, 3)
    first = grey(snapshot(device))
    head1 = grey(snapshot(device, camera="1"))
    assert np.abs(first - head1)[200:].mean() < 1


def test_compression_trades_size_for_quality(device):
    sizes = [len(snapshot(device, camera="2", compression=str(c))) for c in (0, 30, 90)]
    assert sizes[0] > sizes[1] > sizes[2]


@pytest.mark.parametrize("account, status", [(None, 401), ("wrong", 401), ("viewer", 200), ("operator", 200),
                                             ("root", 200)])
def test_a_snapshot_needs_a_viewer(device, account, status):
    response = device.call(IMAGE, {"camera": "1"}, account=account)
    assert response.status_code == status
    ptz = device.call(IMAGE, {}, account=None, endpoint="ptz")
    assert ptz.status_code == 401


@pytest.mark.parametrize("endpoint, args, message", [
    ("q6000", {"camera": "5"}, "camera: invalid value: 5"),
    ("q6000", {"camera": "0"}, "camera: invalid value: 0"),
    ("q6000", {"camera": "one"}, "camera: invalid value: one"),
    ("q6000", {"resolution": "800x600"}, "resolution: invalid value: 800x600"),
    ("q6000", {"compression": "101"}, "compression: invalid value: 101"),
    ("q6000", {"compression": "-1"}, "compression: invalid value: -1"),
    ("q6000", {"fps": "2"}, "fps: unknown argument"),
    ("ptz", {"camera": "2"}, "camera: invalid value: 2"),
    ("ptz", {"camera": "quad"}, "camera: invalid value: quad"),
])
def test_snapshot_errors(device, endpoint, args, message):
    response = device.call(IMAGE, args, account="viewer" if endpoint == "q6000" else "ptz", endpoint=endpoint)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert response.text.startswith("Error: " + message), response.text


def test_head_pictures_carry_the_time_at_a_fixed_place(device):
    image = unjpeg(snapshot(device, camera="3"))
    x, y = OVERLAY_ORIGIN
    box = image[y + 2:y + 30, x + 2:x + 200].astype(int)
    assert (box.max(axis=2) < 40).mean() > 0.6 and (box.min(axis=2) > 200).mean() > 0.03
    ptz = unjpeg(snapshot(device, "ptz"))
    assert (ptz[y + 2:y + 30, x + 2:x + 200].max(axis=2) < 40).mean() < 0.6


def test_a_ptz_snapshot_shows_where_it_is_while_it_moves(twin, device):
    aim(device, 0.0, -5.0)
    twin.settings(device.host, ptz_speed=20.0)
    start = grey(snapshot(device, "ptz"))
    aim(device, 60.0, -5.0)
    time.sleep(0.5)
    pan, _tilt, _zoom = device.position()
    assert 3.0 < pan < 57.0
    moving = grey(snapshot(device, "ptz"))
    (dx, _dy), _response = cv2.phaseCorrelate(start[:, :960], moving[:, :960])
    assert abs(dx) > 20


def test_a_snapshot_does_not_stall_the_fleet(twin, device):
    """While one PTZ picture renders in a worker thread, the event loop answers other requests."""
    done = []
    worker = threading.Thread(target=lambda: done.append(snapshot(device, "ptz", resolution="1920x1080")))
    worker.start()
    time.sleep(0.05)
    answered_during = 0
    while worker.is_alive() and answered_during < 3:
        twin.state(twin.host(1))
        answered_during += 1
    worker.join()
    assert done and answered_during == 3


# -- the world's switches ------------------------------------------------------------------


def test_night_pictures_are_grey_and_flat(twin, device):
    day = unjpeg(snapshot(device, camera="2")).astype(np.float32)
    twin.settings(device.host, night=True)
    night = unjpeg(snapshot(device, camera="2")).astype(np.float32)
    assert np.abs(night - night.mean(axis=2, keepdims=True)).mean() < 1.5
    assert np.abs(day - day.mean(axis=2, keepdims=True)).mean() > 4
    assert night.std() < day.std()


def test_noise_shows_in_flat_areas(twin, device):
    aim(device, 0.0, 15.0)  # up into the sky: smooth
    quiet = grey(snapshot(device, "ptz", compression="0"))
    twin.settings(device.host, noise=0.05)
    noisy = grey(snapshot(device, "ptz", compression="0"))
    assert cv2.Laplacian(noisy, cv2.CV_32F).std() > 3 * cv2.Laplacian(quiet, cv2.CV_32F).std()


def test_a_depth_scale_moves_the_world(twin, device):
    far = twin.truths(device.host, 1, GRID)
    twin.settings(device.host, depth_scale=0.5)
    near = twin.truths(device.host, 1, GRID)
    assert sum(1 for a, b in zip(far, near) if a["depth"] != b["depth"]) > len(GRID) // 4
    twin.settings(device.host, depth_scale=1.0)
    assert twin.truths(device.host, 1, GRID) == far


def test_a_guard_tour_moves_the_ptz_now_and_then(twin, device):
    aim(device, 5.0, -5.0)
    twin.settings(device.host, guard_tour=0.3)
    assert device.position()[:2] == (5.0, -5.0)
    time.sleep(0.4)
    pan, tilt, zoom = device.position()
    assert (pan, tilt, zoom) != (5.0, -5.0, 1)
    assert twin.state(device.host)["ptz"]["tour_stops"] == 1


@pytest.mark.parametrize("values", [{"depth_scale": 0}, {"depth_scale": 5}, {"noise": -0.1}, {"noise": 1},
                                    {"night": "yes"}, {"guard_tour": -1}, {"depth_scale": True}])
def test_bad_world_settings_change_nothing(twin, device, values):
    before = twin.control(device.host, "GET", "/settings")
    with pytest.raises(Exception, match="400"):
        twin.settings(device.host, **values)
    assert twin.control(device.host, "GET", "/settings") == before


@pytest.mark.parametrize("payload, message", [
    ({"camera": 5, "pixels": [[0, 0]]}, "camera out of range"),
    ({"camera": 1, "pixels": []}, "pixels must be a list"),
    ({"camera": 1, "pixels": [[0, 2]]}, "y out of range"),
    ({"camera": 1, "pixels": [[0]]}, "pixels must be a list"),
    ({"camera": 1, "pixels": [[0, 0]], "depth": 1}, "unknown field"),
])
def test_bad_truth_requests(twin, device, payload, message):
    with pytest.raises(Exception, match=message):
        twin.control(device.host, "POST", "/truth", payload)
