"""The site's pictures (tests/emulator/site.py): looks (ptz_night, dusk), the clock, the mast's sway, traffic and
frame latency, seen over VAPIX at 640x360."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest

from tests.emulator.device import Settings
from tests.emulator.optics import Physics
from tests.emulator.ptz import LIMITS
from tests.emulator.render import unjpeg
from tests.emulator.views import HEAD_CENTRE, World, head_rays
from tests.twin.helpers import PTZ, fresh_device, start_twin, stop_twin

IMAGE = "/axis-cgi/jpg/image.cgi"
W, H = 640, 360
SECOND = 1.0 / 3600.0  # one second of the clock, in hours

cv2.setNumThreads(1)


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    twin = start_twin(tmp_path_factory)
    yield twin
    stop_twin(twin)


@pytest.fixture(scope="module")
def world():
    """The same world as the twin's first unit (seed 1, index 0), to find roads and the parking lot."""
    return World("1", 0, Physics.generate("1", 0), Settings())


@pytest.fixture
def device(twin):
    dev = fresh_device(twin)
    yield dev
    dev.session.close()


def picture(device, camera=1, endpoint="q6000") -> np.ndarray:
    args = {"resolution": f"{W}x{H}", "compression": "10"}
    if endpoint == "q6000":
        args["camera"] = str(camera)
    response = device.call(IMAGE, args, account="viewer" if endpoint == "q6000" else "ptz", endpoint=endpoint)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg", response.text[:200]
    image = unjpeg(response.content).astype(np.float32)
    if endpoint == "q6000":
        image[:60, :260] = 0.0  # the date/time overlay
    return image


def grey(image):
    return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def chroma(image) -> float:
    return float(np.abs(image[..., 0] - image[..., 1]).mean() + np.abs(image[..., 2] - image[..., 1]).mean())


def contrast(image) -> float:
    return float(cv2.GaussianBlur(grey(image), (0, 0), 2.0).std())


def aim(device, pan, tilt, zoom=1):
    assert device.call(PTZ, {"pan": repr(pan), "tilt": repr(tilt), "zoom": str(zoom)},
                       endpoint="ptz").status_code == 204


def settings(device, **values):
    device.twin.settings(device.host, **values)


def band(world, camera, contains):
    """Mask (H, W) of head pixels whose ray passes, between 0 and 1.75 m above the ground, over ground points
    `contains(x0, y0, x1, y1)` says are in (arrays of the ray's points at those two heights)."""
    dirs = head_rays(world.physics, camera, W, H)[0]
    down = np.minimum(dirs[:, 2], -1e-6)
    low = HEAD_CENTRE[2] / -down
    high = (HEAD_CENTRE[2] - 1.75) / -down
    inside = contains(dirs[:, 0] * low, dirs[:, 1] * low, dirs[:, 0] * high, dirs[:, 1] * high)
    return (inside & (dirs[:, 2] < 0)).reshape(H, W)


def road_mask(world, camera):
    scene = world.scene
    mask = np.zeros((H, W), dtype=bool)
    for nx, ny, offset, half in scene.roads:
        def near(x0, y0, x1, y1, nx=nx, ny=ny, offset=offset, half=half):
            s0, s1 = x0 * nx + y0 * ny - offset, x1 * nx + y1 * ny - offset
            reach = half + 3.0
            return (np.minimum(s0, s1) < reach) & (np.maximum(s0, s1) > -reach)
        mask |= band(world, camera, near)
    return mask


def lot_mask(world, camera):
    cx, cy, hx, hy, _pitch = world.scene.parking

    def inside(x0, y0, x1, y1):
        return ((np.minimum(x0, x1) < cx + hx) & (np.maximum(x0, x1) > cx - hx)
                & (np.minimum(y0, y1) < cy + hy) & (np.maximum(y0, y1) > cy - hy))
    return band(world, camera, inside)


def changed(a, b, level=20.0):
    return np.abs(grey(a) - grey(b)) > level


def test_ptz_night_makes_the_ptz_grey_and_leaves_the_heads_in_colour(device):
    settings(device, noise=0.0)
    aim(device, 30.0, -10.0)
    day_ptz, day_head = picture(device, endpoint="ptz"), picture(device)
    settings(device, ptz_night=True)
    night_ptz, night_head = picture(device, endpoint="ptz"), picture(device)
    assert chroma(day_ptz) > 8.0 and chroma(night_ptz) < 2.5, (chroma(day_ptz), chroma(night_ptz))
    assert chroma(night_head) > 8.0
    assert np.abs(night_head - day_head).mean() < 1.0  # the heads stay as they were
    settings(device, night=True)  # `night` stays the scene's own look for both
    assert chroma(picture(device)) < 2.5


def test_dusk_darkens_both_cameras_and_lowers_their_contrast(device):
    settings(device, noise=0.0)
    aim(device, 30.0, -10.0)
    day = {endpoint: picture(device, endpoint=endpoint) for endpoint in ("q6000", "ptz")}
    settings(device, dusk=True)
    dusk = {endpoint: picture(device, endpoint=endpoint) for endpoint in ("q6000", "ptz")}
    for endpoint in ("q6000", "ptz"):
        assert grey(dusk[endpoint]).mean() < 0.65 * grey(day[endpoint]).mean(), endpoint
        assert contrast(dusk[endpoint]) < 0.6 * contrast(day[endpoint]), endpoint
    settings(device, noise=0.01)
    noisy = picture(device, endpoint="ptz")
    settings(device, dusk=False)
    clean = picture(device, endpoint="ptz")
    # more noise at dusk: the fine residual (picture minus its blur) is larger
    assert (np.abs(grey(noisy) - cv2.GaussianBlur(grey(noisy), (0, 0), 1.5)).mean()
            > 1.5 * np.abs(grey(clean) - cv2.GaussianBlur(grey(clean), (0, 0), 1.5)).mean())


def test_the_same_clock_shows_the_same_world(device):
    settings(device, noise=0.0, traffic=True, sway=0.5, sway_period=4.0)
    aim(device, 30.0, -10.0)
    shots = []
    for clock in (9.25, 9.25, 9.25 + 2 * SECOND):
        settings(device, clock=clock)
        shots.append((picture(device), picture(device, endpoint="ptz")))
    state = device.twin.state(device.host)
    assert 9.25 < state["clock"] < 9.25 + 60 * SECOND
    for k in range(2):
        same = np.abs(shots[0][k] - shots[1][k]).mean()
        other = np.abs(shots[0][k] - shots[2][k]).mean()
        assert same < 1.5 and other > 3 * same + 1.0, (k, same, other)


def test_sway_turns_the_picture_by_up_to_the_amplitude(device):
    settings(device, noise=0.0, sway=1.0, sway_period=20.0)
    aim(device, 0.0, -90.0)  # straight down: any turn about a horizontal axis moves the picture
    shots = []
    for k in range(4):
        settings(device, clock=15.0 + 5.0 * k * SECOND)
        shots.append(grey(picture(device, endpoint="ptz")))
    state = device.twin.state(device.host)
    assert state["ptz"]["pan"] == 0.0 and state["ptz"]["tilt"] == -90.0  # the position does not show it
    focal = (W / 2.0) / math.tan(math.radians(LIMITS.field_angle(1)) / 2.0)
    window = cv2.createHanningWindow((W, H), cv2.CV_32F)
    shifts = []
    for i in range(4):
        for j in range(i + 1, 4):
            (dx, dy), _response = cv2.phaseCorrelate(shots[i], shots[j], window)
            shifts.append(math.degrees(math.atan(math.hypot(dx, dy) / focal)))
    assert 0.5 < max(shifts) < 2.2, shifts
    settings(device, sway=0.0)
    still = [grey(picture(device, endpoint="ptz")) for _k in range(2)]
    assert np.abs(still[0] - still[1]).mean() < 0.5


def test_traffic_moves_on_the_roads_and_parked_vehicles_change_by_the_hour(device, world):
    settings(device, noise=0.0, traffic=True)
    roads = {camera: road_mask(world, camera) for camera in (1, 2, 3, 4)}
    camera = max(roads, key=lambda c: roads[c].sum())
    settings(device, clock=10.25)
    first = picture(device, camera)
    settings(device, clock=10.25 + SECOND)
    second = picture(device, camera)
    moved = changed(first, second)
    assert 0.0005 < moved.mean() < 0.05, moved.mean()
    assert (moved & roads[camera]).sum() > 0.9 * moved.sum()
    settings(device, traffic=False)
    assert not changed(picture(device, camera), picture(device, camera)).any()
    # parked vehicles: another hour, other vehicles in the lot
    settings(device, traffic=True)
    lots = {c: lot_mask(world, c) & ~road_mask(world, c) for c in (1, 2, 3, 4)}
    camera = max(lots, key=lambda c: lots[c].sum())
    assert lots[camera].sum() > 500
    hours = []
    for clock in (10.5, 10.5 + SECOND, 11.5):
        settings(device, clock=clock)
        hours.append(picture(device, camera))
    lot = lots[camera]
    assert changed(hours[0], hours[1])[lot].mean() < 0.01
    assert changed(hours[0], hours[2])[lot].mean() > 0.03


def test_frame_latency_shows_the_older_view(device):
    settings(device, noise=0.0)
    aim(device, 30.0, -10.0)
    old = picture(device, endpoint="ptz")
    aim(device, 120.0, -10.0)
    new = picture(device, endpoint="ptz")
    settings(device, frame_latency=1.0)
    aim(device, 30.0, -10.0)
    time.sleep(1.2)
    aim(device, 120.0, -10.0)
    late = picture(device, endpoint="ptz")
    assert np.abs(late - old).mean() < 0.3 * np.abs(late - new).mean()
    assert device.position()[:2] == (120.0, -10.0)  # the position is where it is now
    time.sleep(1.1)
    assert np.abs(picture(device, endpoint="ptz") - new).mean() < 2.0
    # autofocus: a picture of the half second after a zoom change is soft
    aim(device, 120.0, -10.0, zoom=2000)
    time.sleep(1.6)
    sharp = grey(picture(device, endpoint="ptz"))
    aim(device, 120.0, -10.0, zoom=2001)
    time.sleep(1.1)
    soft = grey(picture(device, endpoint="ptz"))

    def detail(image):
        return float(np.abs(cv2.Laplacian(image, cv2.CV_32F)).mean())
    assert detail(soft) < 0.7 * detail(sharp), (detail(soft), detail(sharp))
