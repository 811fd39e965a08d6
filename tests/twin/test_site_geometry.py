"""Knocks about any axis and the heads' lens family: what a real site does to the geometry.

A knock turns the Q6000-E against the PTZ (the world and the PTZ stay): heads' pictures and truths follow,
saved calibrations drift, a recalibration from exact points saves again. `head_lens` swaps the heads' lens
for one of another family (fisheye), which the firmware knows as it knows its radial one.
"""

from __future__ import annotations

import itertools
import json
import math
import random

import cv2
import numpy as np
import pytest

from tests.emulator.optics import (LENS_K1, MATCH_LIMIT, Head, Physics, Point, angular_distance, fit, match_error,
                                   nominal)
from tests.emulator.process import TwinError
from tests.twin.helpers import CAL, PTZ, Device, calibrate, start_twin, stop_twin, wrap180

IMAGE = "/axis-cgi/jpg/image.cgi"
SMALL = "640x360"
CENTRE = (0.0, 0.0)
CLICK = ((1400, 700), (0.4583333333333333, -0.2962962962962963))  # pixel of 1920x1080, normalized


def refused(twin, host, payload, match="400"):
    with pytest.raises(TwinError, match=match):
        twin.control(host, "POST", "/knock", payload)


def centre_rays(twin, host):
    return {camera: twin.ray(host, camera, *CENTRE) for camera in range(1, 5)}


def picture(device, camera=None, endpoint="q6000"):
    args = {"resolution": SMALL, "compression": "0"}
    if camera is not None:
        args["camera"] = str(camera)
    response = device.call(IMAGE, args, account="viewer" if endpoint == "q6000" else "ptz", endpoint=endpoint)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg", response.text[:200]
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_GRAYSCALE).astype(np.float32)
    return image[48:, :]  # below the date/time overlay


def lands_on_the_ray(device, camera):
    """Click-to-center on CLICK through the saved calibration lands within 0.1 degree of that pixel's ray."""
    (px, py), (x, y) = CLICK
    assert device.call(PTZ, {"camera": str(camera), "center": f"{px},{py}"}).status_code == 204
    pan, tilt, _zoom = device.position()
    return angular_distance(pan, tilt, *device.twin.ray(device.host, camera, x, y))


# -- the control API ------------------------------------------------------------------------------------


def test_knock_fields_answer_state_and_accumulation(twin, device):
    host = device.host
    factory = twin.state(host)["mount_offset"]
    assert twin.state(host)["mount"] == {"yaw": factory, "pitch": 0.0, "roll": 0.0}
    answer = twin.knock(host, 2.0)
    assert answer == {"mount_offset": pytest.approx(wrap180(factory + 2)),
                      "mount": {"yaw": pytest.approx(wrap180(factory + 2)), "pitch": 0.0, "roll": 0.0}}
    answer = twin.knock(host, yaw=-1.5, pitch=3.0, roll=-2.0)
    assert answer["mount"] == pytest.approx({"yaw": wrap180(factory + 0.5), "pitch": 3.0, "roll": -2.0})
    answer = twin.control(host, "POST", "/knock", {"pitch": 4.5, "roll": -8})
    assert answer["mount"] == pytest.approx({"yaw": wrap180(factory + 0.5), "pitch": 7.5, "roll": -10.0})
    state = twin.state(host)
    assert state["mount"] == answer["mount"] and state["mount_offset"] == answer["mount_offset"]


def test_knock_refusals_change_nothing(twin, device):
    host = device.host
    twin.knock(host, pitch=6.0)
    before = twin.state(host)["mount"]
    for payload in ({"degrees": 1, "yaw": 1}, {"yaw": 1, "spin": 2}, {"pitch": 11}, {"pitch": 4.5},
                    {"roll": -10.5}, {"pitch": "1"}, {"yaw": True}, {"roll": None}, {"degrees": "far"},
                    {"yaw": 361}, {"pitch": float("inf")}, {"roll": float("nan")}):
        refused(twin, host, payload)
    assert twin.state(host)["mount"] == before
    assert twin.knock(host, pitch=4.0)["mount"]["pitch"] == pytest.approx(10.0)


def test_knock_refusals_name_the_field_given(twin, device):
    refused(twin, device.host, {"degrees": 400}, "degrees out of range")
    refused(twin, device.host, {"yaw": -361}, "yaw out of range")
    refused(twin, device.host, {"roll": 10.5}, "roll out of range")


def test_knocks_in_small_steps_reach_the_limit(twin, device):
    """0.1 a step adds up to 10 give or take a rounding, which is not refused; a step beyond is."""
    for _step in range(100):
        mount = twin.knock(device.host, pitch=0.1, roll=-0.1)["mount"]
    assert mount["pitch"] == pytest.approx(10.0) and mount["roll"] == pytest.approx(-10.0)
    refused(twin, device.host, {"pitch": 0.001}, "pitch out of range")
    refused(twin, device.host, {"roll": -0.001}, "roll out of range")


def test_factory_reset_restores_the_factory_mount(twin, device):
    factory = twin.state(device.host)["mount"]
    twin.knock(device.host, yaw=7.0, pitch=-3.0, roll=2.0)
    twin.factory_reset(device.host)
    assert twin.state(device.host)["mount"] == factory


def test_state_files_keep_the_mount_and_read_the_old_shape(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("state")
    twin = start_twin(tmp_path_factory, state_dir=state_dir)
    try:
        host = twin.host(0)
        knocked = twin.knock(host, yaw=1.0, pitch=2.5, roll=-1.5)["mount"]
        path = state_dir / "unit-001.json"
        assert json.loads(path.read_text())["mount"] == knocked
        twin.restart()
        assert twin.state(host)["mount"] == knocked
        twin.stop()
        saved = json.loads(path.read_text())
        saved["mount"] = 12.25  # a file written before knocks had pitch and roll
        path.write_text(json.dumps(saved))
        twin.start()
        assert twin.state(host)["mount"] == {"yaw": 12.25, "pitch": 0.0, "roll": 0.0}
        assert twin.state(host)["mount_offset"] == 12.25
    finally:
        stop_twin(twin)


# -- the geometry ---------------------------------------------------------------------------------------


def tilt_changes(twin, host, **knock):
    """How far each head's centre ray tilts up after the knock, the heads first turned to face their azimuth
    (head 1 towards pan 0, about)."""
    twin.knock(host, yaw=-twin.state(host)["mount_offset"])
    before = centre_rays(twin, host)
    twin.knock(host, **knock)
    after = centre_rays(twin, host)
    return {camera: after[camera][1] - before[camera][1] for camera in before}


def test_a_pitch_knock_tilts_heads_1_and_3_oppositely(twin, device):
    change = tilt_changes(twin, device.host, pitch=5.0)
    assert change[1] == pytest.approx(5.0, abs=0.3) and change[3] == pytest.approx(-5.0, abs=0.3)
    assert abs(change[2]) < 0.3 and abs(change[4]) < 0.3


def test_a_roll_knock_tilts_heads_2_and_4_oppositely(twin, device):
    change = tilt_changes(twin, device.host, roll=5.0)
    assert change[2] == pytest.approx(-5.0, abs=0.3) and change[4] == pytest.approx(5.0, abs=0.3)
    assert abs(change[1]) < 0.3 and abs(change[3]) < 0.3


def test_a_pitch_knock_changes_the_heads_pictures_not_the_ptzs(twin, device):
    twin.settings(device.host, noise=0.0)
    assert device.call(PTZ, {"pan": "30", "tilt": "-10", "zoom": "1"}, endpoint="ptz").status_code == 204
    head, ptz = picture(device, 1), picture(device, endpoint="ptz")
    twin.knock(device.host, pitch=3.0)
    assert np.abs(picture(device, 1) - head).mean() > 8
    assert np.abs(picture(device, endpoint="ptz") - ptz).mean() < 2


def test_a_knocked_unit_accepts_points_near_the_truth_and_refuses_far_ones(twin, device):
    """Pitch 8 and roll -8 (a lean of 11.3 degrees): every point within 0.5 degree of its ray direction is
    accepted, on every head; one 25 degrees off is refused, as the first point (by tilt, away from the
    nominal one) and once two points pin the head's pose (by pan or by tilt)."""
    twin.knock(device.host, pitch=8.0, roll=-8.0)
    pixels = [(0.0, 0.0), (0.5, 0.5), (-0.5, -0.5), (0.75, -0.25), (-0.75, 0.25)]
    for camera in range(1, 5):
        device.success(CAL + "start.cgi", {"camera": str(camera)})
        for i, (x, y) in enumerate(pixels):
            pan, tilt = twin.ray(device.host, camera, x, y)
            device.success(CAL + "selecttarget.cgi", {"x": repr(x), "y": repr(y)})
            if i == 0:
                away = 25.0 if tilt > nominal(camera, x, y)[1] else -25.0
                assert device.error(CAL + "ontarget.cgi", {"pan": repr(pan), "tilt": repr(tilt + away)}) == 52
            if i == 2:
                far_pan = wrap180(pan + 25.0 / math.cos(math.radians(tilt)))
                assert device.error(CAL + "ontarget.cgi", {"pan": repr(far_pan), "tilt": repr(tilt)}) == 52
                assert device.error(CAL + "ontarget.cgi", {"pan": repr(pan), "tilt": repr(tilt - 25.0)}) == 52
            near_pan, near_tilt = wrap180(pan + 0.3 / math.cos(math.radians(tilt))), tilt - 0.4 * (-1) ** i
            device.success(CAL + "ontarget.cgi", {"pan": repr(near_pan), "tilt": repr(near_tilt)})
        assert twin.state(device.host)["session"]["points"] == len(pixels)
        device.success(CAL + "abort.cgi")


def test_a_recalibration_after_a_knock_saves_and_clicks_land(twin, device):
    assert calibrate(device, 2) is None
    device.connect()
    twin.knock(device.host, yaw=3.0, pitch=6.0, roll=-4.0)
    assert lands_on_the_ray(device, 2) > 1.0  # the saved calibration drifted
    assert calibrate(device, 2) is None
    assert lands_on_the_ray(device, 2) < 0.1


# -- the lens family ------------------------------------------------------------------------------------


def edge_angle(twin, host, camera=1):
    """The angle between the rays of the centre and of the right edge's middle (1, 0)."""
    return angular_distance(*twin.ray(host, camera, *CENTRE), *twin.ray(host, camera, 1.0, 0.0))


def test_the_fisheye_edge_sits_at_half_the_field_of_view(twin, device):
    radial = edge_angle(twin, device.host)
    twin.settings(device.host, head_lens="fisheye")
    fisheye = edge_angle(twin, device.host)
    assert 54.0 <= fisheye <= 56.0  # fov / 2, fov 110 +- 2
    half = math.radians(fisheye)
    assert radial == pytest.approx(math.degrees(math.atan(math.tan(half) * (1 + LENS_K1))), abs=1e-6)


def test_the_fisheye_changes_the_heads_pictures(twin, device):
    radial = picture(device, 3)
    twin.settings(device.host, head_lens="fisheye")
    assert np.abs(picture(device, 3) - radial).mean() > 8
    twin.settings(device.host, head_lens="radial")
    assert np.abs(picture(device, 3) - radial).mean() < 1


def test_a_fisheye_calibration_from_exact_points_saves_and_clicks_land(twin, device):
    twin.settings(device.host, head_lens="fisheye")
    assert calibrate(device, 4) is None
    device.connect()
    assert lands_on_the_ray(device, 4) < 0.1
    twin.knock(device.host, pitch=-5.0, roll=5.0)
    assert calibrate(device, 4) is None
    assert lands_on_the_ray(device, 4) < 0.1


def clicked(device, camera):
    """Where click-to-center on CLICK sends the PTZ."""
    (px, py), _xy = CLICK
    assert device.call(PTZ, {"camera": str(camera), "center": f"{px},{py}"}).status_code == 204
    return device.position()[:2]


def test_a_saved_calibration_keeps_the_lens_it_was_fitted_through(twin, device):
    """Saved under the radial lens, then the lens changes: the saved calibration is what the device has, so
    click-to-center still lands where the radial fit says, not on the fisheye's ray."""
    _pixel, (x, y) = CLICK
    assert calibrate(device, 3) is None
    device.connect()
    radial = twin.ray(device.host, 3, x, y)
    assert angular_distance(*clicked(device, 3), *radial) < 0.1
    twin.settings(device.host, head_lens="fisheye")
    assert angular_distance(*twin.ray(device.host, 3, x, y), *radial) > 1.0
    assert angular_distance(*clicked(device, 3), *radial) < 0.1


def test_a_restart_with_another_lens_keeps_the_saved_calibrations_lens(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("state")
    twin = start_twin(tmp_path_factory, state_dir=state_dir)
    try:
        device = Device(twin, twin.host(0))
        _pixel, (x, y) = CLICK
        assert calibrate(device, 2) is None
        device.connect()
        radial = twin.ray(device.host, 2, x, y)
        saved = json.loads((state_dir / "unit-001.json").read_text())["calibrations"]["2"]
        assert saved["family"] == "radial"
        twin.stop()
        twin.args = twin.args + ("--head-lens", "fisheye")
        twin.start()
        device = Device(twin, twin.host(0))
        assert twin.settings(device.host)["head_lens"] == "fisheye"
        device.connect()
        assert angular_distance(*clicked(device, 2), *radial) < 0.1
    finally:
        stop_twin(twin)


# -- the firmware's model, without HTTP -----------------------------------------------------------------


@pytest.mark.parametrize("family", ["radial", "fisheye"])
def test_points_near_the_truth_are_accepted_after_knocks(family):
    """Within 0.5 degree of the truth, with extreme heads and pitch and roll knocks up to 10 degrees."""
    rng = random.Random(11)
    grid = [(x / 2, y / 2) for x in range(-2, 3) for y in range(-2, 3)]
    for camera, dt, dfov, (pitch, roll) in itertools.product(
            (1, 2), (-1, 1), (-2, 2), ((10, 10), (-10, 10), (10, 0), (0, -10))):
        heads = tuple(Head(90 * (n - 1) + 1, 20 + dt, 0.5, 110 + dfov) for n in range(1, 5))
        physics = Physics(heads, 40.0, pitch, roll)
        points = []
        for x, y in rng.sample(grid, 5):
            pan, tilt = physics.truth(camera, x, y, family)
            pan, tilt = wrap180(pan + 0.3 / math.cos(math.radians(tilt))), tilt - 0.4
            error = match_error(camera, x, y, pan, tilt, points, family, physics.mount_lean)
            assert error <= MATCH_LIMIT, (camera, pitch, roll, points)
            points.append(Point(x, y, pan, tilt))
        assert fit(camera, [Point(x, y, *physics.truth(camera, x, y, family)) for x, y in grid[::3]],
                   family).residual < 1e-6
