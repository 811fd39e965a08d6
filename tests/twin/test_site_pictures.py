"""The site's pictures (tests/emulator/site.py): looks (ptz_night, dusk), the clock, the mast's sway, traffic and
frame latency, seen over VAPIX at 640x360; what depends on time to within a fraction of a second (the traffic at
a clock, autofocus) in-process at explicit times, as the machine running the tests may be slow to answer."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest

from tests.emulator import site
from tests.emulator.device import Settings
from tests.emulator.optics import Physics
from tests.emulator.ptz import LIMITS, Motion
from tests.emulator.render import camera_basis, pinhole_rays, unjpeg
from tests.emulator.views import HEAD_CENTRE, PTZ_CENTRE, World, head_rays
from tests.twin.helpers import PTZ

IMAGE = "/axis-cgi/jpg/image.cgi"
W, H = 640, 360
SECOND = 1.0 / 3600.0  # one second of the clock, in hours

cv2.setNumThreads(1)


@pytest.fixture(scope="module")
def world():
    """The same world as the twin's first unit (seed 1, index 0), to find roads and the parking lot."""
    return World("1", 0, Physics.generate("1", 0), Settings())


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


def own_world(**values) -> World:
    """A world of its own (seed 1, unit 0, the twin's first unit) with these settings."""
    settings = Settings()
    settings.update({"noise": 0.0, **values})
    return World("1", 0, Physics.generate("1", 0), settings)


def busiest_head(world) -> int:
    return max((1, 2, 3, 4), key=lambda c: road_mask(world, c).sum())


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
        assert grey(dusk[endpoint]).mean() < 0.4 * grey(day[endpoint]).mean(), endpoint
        assert np.median(grey(dusk[endpoint])) < 0.17 * 255, endpoint  # most of it in the bottom sixth
        assert contrast(dusk[endpoint]) < 0.4 * contrast(day[endpoint]), endpoint
        # not a dimmed copy of the day: lit windows, lamp light, the sky's light instead of the sun's, haze
        fine_day = grey(day[endpoint]) - cv2.GaussianBlur(grey(day[endpoint]), (0, 0), 4.0)
        fine_dusk = grey(dusk[endpoint]) - cv2.GaussianBlur(grey(dusk[endpoint]), (0, 0), 4.0)
        assert np.corrcoef(fine_day.ravel(), fine_dusk.ravel())[0, 1] < 0.6, endpoint
    settings(device, noise=0.01)
    noisy = picture(device, endpoint="ptz")
    settings(device, dusk=False)
    clean = picture(device, endpoint="ptz")
    # more noise at dusk: the fine residual (picture minus its blur) is larger
    assert (np.abs(grey(noisy) - cv2.GaussianBlur(grey(noisy), (0, 0), 1.5)).mean()
            > 1.5 * np.abs(grey(clean) - cv2.GaussianBlur(grey(clean), (0, 0), 1.5)).mean())


def test_the_same_clock_shows_the_same_world(device):
    # a slow sway (600 s a cycle): the second or so a loaded machine may take between setting the clock and
    # the picture's request turns the mast by about 0.01 degrees; half a cycle later it leans the other way
    settings(device, noise=0.0, sway=1.0, sway_period=600.0)
    aim(device, 30.0, -10.0)
    shots = []
    for clock in (9.25, 9.25, 9.25 + 300 * SECOND):
        shot = []
        for endpoint in ("q6000", "ptz"):
            settings(device, clock=clock)  # right before each picture
            shot.append(picture(device, endpoint=endpoint))
        shots.append(shot)
    state = device.twin.state(device.host)
    assert 9.25 + 300 * SECOND < state["clock"] < 9.25 + 360 * SECOND
    for k in range(2):
        same = np.abs(shots[0][k] - shots[1][k]).mean()
        other = np.abs(shots[0][k] - shots[2][k]).mean()
        assert same < 1.0 and other > 3 * same + 1.0, (k, same, other)


def test_the_traffic_is_a_function_of_the_clock(world):
    """In-process, at explicit times: vehicles move metres in the time a loaded machine takes to answer."""
    camera = busiest_head(world)
    pictures = []
    for clock in (9.25, 9.25, 9.25 + 2 * SECOND):
        unit = own_world(traffic=True, clock=clock)
        unit.site.set_clock(100.0)
        frame = site.Frame(100.5)
        pictures.append((unit.head_frame(camera, W, H, 100.5), unit.ptz_image(30.0, -10.0, 1, W, H, frame)))
    for k in range(2):
        assert np.array_equal(pictures[0][k], pictures[1][k]), k
    moved = changed(pictures[0][0], pictures[2][0])
    assert moved.any() and (moved & road_mask(world, camera)).sum() > 0.9 * moved.sum()


def test_the_clock_turns_over_at_midnight_without_a_jump():
    unit = own_world(sway=1.0, sway_period=10.0, traffic=True, clock=24.0 - SECOND / 2)
    unit.site.set_clock(100.0)
    before, after = unit.site.sway(100.49), unit.site.sway(100.51)
    assert unit.site.hours(100.49) > 23.9 and unit.site.hours(100.51) < 0.1
    turn = math.degrees(np.linalg.norm(cv2.Rodrigues(before.T @ after)[0]))
    assert turn < 0.05, turn  # 0.02 s of a 10 s cycle
    # what moves comes first: per road 2 lanes of vehicles (2 boxes each), 2 sidewalks of people (3 boxes each)
    moving = len(unit.scene.roads) * (2 * site.LANE_VEHICLES * 2 + 2 * site.WALKERS * 3)
    before, after = (unit.site.actors(unit.scene, when)[:moving, :2] for when in (100.49, 100.51))
    assert np.abs(before - after).max() < 0.5  # at most 0.02 s times 18 m/s (the parked ones change by the hour)


def test_sway_never_turns_by_more_than_the_amplitude():
    unit = own_world(sway=1.0, sway_period=7.0)
    unit.site.set_clock(0.0)
    turns = [math.degrees(np.linalg.norm(cv2.Rodrigues(unit.site.sway(t))[0])) for t in np.arange(0.0, 300.0, 0.05)]
    assert 0.9 < max(turns) <= 1.0 + 1e-9, max(turns)


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
    settings(device, clock=10.25 + 5 * SECOND)  # 5 s on: more than a loaded machine delays either picture
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
    # 2 s of latency: the picture asked right after a move shows the PTZ before it while the request takes
    # under 2 s to arrive, and the one asked 2.2 s later shows it after
    settings(device, noise=0.0)
    aim(device, 30.0, -10.0)
    old = picture(device, endpoint="ptz")
    aim(device, 120.0, -10.0)
    new = picture(device, endpoint="ptz")
    settings(device, frame_latency=2.0)
    aim(device, 30.0, -10.0)
    time.sleep(2.2)
    aim(device, 120.0, -10.0)
    late = picture(device, endpoint="ptz")
    assert np.abs(late - old).mean() < 0.3 * np.abs(late - new).mean()
    assert device.position()[:2] == (120.0, -10.0)  # the position is where it is now
    time.sleep(2.2)
    assert np.abs(picture(device, endpoint="ptz") - new).mean() < 2.0


def detail(image):
    return float(np.abs(cv2.Laplacian(grey(image), cv2.CV_32F)).mean())


def test_autofocus_hunts_for_half_a_second_after_a_zoom_change():
    """In-process at explicit times: the soft half second is shorter than a loaded machine's answer."""
    now = [100.0]
    motion = Motion(lambda: 0.0, clock=lambda: now[0])
    motion.move_to(120.0, -10.0)
    motion.zoom = 2000
    now[0] = 110.0
    motion.zoom = 2001
    unit = own_world(frame_latency=2.0)
    frames = {age: site.ptz_frame(motion, unit.settings, now=112.0 + age) for age in (-1.0, 0.1, 0.3, 0.6)}
    assert frames[-1.0][2] == 2000 and frames[0.1][2] == 2001  # the zoom it had then
    assert frames[-1.0][3].defocus == 0.0 and frames[0.6][3].defocus == 0.0
    assert frames[0.1][3].defocus > 0.5 and 0.0 < frames[0.3][3].defocus < frames[0.1][3].defocus
    sharp, soft = (unit.ptz_image(*frames[age][:3], W, H, frames[age][3]) for age in (0.6, 0.1))
    assert detail(soft) < 0.7 * detail(sharp), (detail(soft), detail(sharp))
    unit.settings.update({"frame_latency": 0.0})  # the blur only with a latency
    assert site.ptz_frame(motion, unit.settings, now=110.1)[3].defocus == 0.0


def test_the_zoom_in_the_past_survives_a_full_history():
    now = [0.0]
    motion = Motion(lambda: 0.0, clock=lambda: now[0])
    for step in range(1, 101):  # more changes than it remembers
        now[0] = float(step)
        motion.zoom = step
    assert motion.zoom_at(100.5) == 100 and motion.zoom_at(60.5) == 60
    assert motion.zoom_at(20.5) == 36  # forgotten: the zoom before the oldest change remembered (at 37)
    motion.move_to(10.0, -5.0)
    assert motion.position() == motion.position_at(now[0]) == (10.0, -5.0)


# -- the traffic in PTZ pictures: the nearest box per ray, only boxes in view --------------------------------


def ptz_rays(pan, tilt, hfov, width=160, height=90):
    dirs, _footprint = pinhole_rays(pan, tilt, 0.0, hfov, width, height)
    return dirs, camera_basis(pan, tilt)


def all_at_once(boxes, dirs):
    t, which, normal = np.full(len(dirs), np.inf), np.full(len(dirs), -1, dtype=np.int32), np.zeros((len(dirs), 3))
    site.trace_boxes(boxes, PTZ_CENTRE, dirs, t, which, normal)
    return t, which, normal


def box(x, y, yaw, half_length, half_width, z0, z1):
    return (x, y, yaw, half_length, half_width, z0, z1, 0.5, 0.5, 0.5)


def test_each_ptz_pixel_shows_its_nearest_box(world):
    # a near box drawn first, a far one behind it (the far one must not take the near one's pixels), a box
    # reaching behind the camera (traced where it is in view, clipped), one wholly behind, one beside the view
    boxes = np.array([box(0.0, 20.0, 0.3, 2.0, 1.0, 0.0, 6.0), box(0.5, 40.0, -0.2, 6.0, 3.0, 0.0, 9.0),
                      box(3.0, 0.0, math.pi / 2, 15.0, 0.5, 0.0, 7.0), box(0.0, -30.0, 0.0, 5.0, 5.0, 0.0, 5.0),
                      box(60.0, 10.0, 0.0, 2.0, 2.0, 0.0, 3.0)])
    for order in (boxes, boxes[::-1]):
        dirs, basis = ptz_rays(0.0, -5.0, 60.0)
        t, which, _normal = site.ptz_boxes(order, PTZ_CENTRE, dirs, basis, 60.0, 160, 90)
        t_all, which_all, _normal_all = all_at_once(order, dirs)
        assert np.array_equal(which, which_all) and np.array_equal(t, t_all)
        assert len(set(which.tolist()) - {-1}) == 3  # the near, the far, the one reaching behind
    # the site's own traffic, from a view along a road (vehicles one behind another)
    unit = own_world(traffic=True)
    unit.site.set_clock(100.0)
    boxes = unit.site.actors(unit.scene, 100.0)
    nx, ny, offset, _half = unit.scene.roads[0]
    ahead = np.array([nx * offset - ny * 60.0, ny * offset + nx * 60.0])  # 60 m along the road
    pan = math.degrees(math.atan2(ahead[0], ahead[1]))
    dirs, basis = ptz_rays(pan, -6.0, 40.0, 320, 180)
    t, which, _normal = site.ptz_boxes(boxes, PTZ_CENTRE, dirs, basis, 40.0, 320, 180)
    t_all, which_all, _normal_all = all_at_once(boxes, dirs)
    assert (which >= 0).sum() > 100
    assert np.array_equal(which, which_all) and np.array_equal(t, t_all)


def test_the_heads_traffic_carries_the_sensor_noise(world):
    camera = busiest_head(world)
    quiet, busy = (own_world(noise=0.02, traffic=traffic) for traffic in (False, True))
    for unit in (quiet, busy):
        unit.site.set_clock(100.0)
    still, moving = quiet.head_frame(camera, W, H, 100.0), busy.head_frame(camera, W, H, 100.0)
    drawn = cv2.erode(changed(still, moving, 30.0).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert drawn.sum() > 50
    fine = np.abs(grey(moving) - cv2.GaussianBlur(grey(moving), (0, 0), 1.0))
    assert fine[drawn].mean() > 0.4 * fine[~drawn].mean(), (fine[drawn].mean(), fine[~drawn].mean())
