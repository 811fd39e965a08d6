# -*- coding: utf-8 -*-
"""remote_calibration's image drift check against the twin: a knock to the mount (the twin turns its heads
against the world and the PTZ) is found from the pictures, where the points method finds nothing; a baseline
keeps a head's steady offset from raising an alarm; recapture fixes the head; every failure leaves the PTZ
put back, no session open and the old calibration in place. playbooks/check_calibration.yml, the nightly job.

Pictures at reduced resolution (heads 1280x720, PTZ 640x360), as in test_calibration_capture.py; `make bench`
(section vision) measures the check over a fleet with knocks of 0.5, 1 and 3 degrees."""

from __future__ import annotations

import math
import time

import pytest
import yaml

from tests.integration.conftest import PLAYBOOKS, Runner, device, fresh_units, play
from tests.integration.test_calibration_capture import PTZ_ACCOUNT, REDUCED, aim_home, assert_home
from tests.sites import write_site

LINK = {"name": "link", "vapix.q6000.remote_camera_params": {
    "remote_host": "{{ q6000_remote_host }}", "http_port": "{{ q6000_remote_http_port }}",
    "remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}",
    "wait_for_connection": True, "wait_timeout": 20}}
CAMERAS = (1, 3)


def calibration(heads, register="calibration", **options):
    options = dict(PTZ_ACCOUNT, heads=heads, drift_method="image", **dict(REDUCED, **options))
    return {"name": register, "vapix.q6000.remote_calibration": options,
            "register": register}


def captured_points(twin, unit, workdir, cameras=CAMERAS):
    """Point sets as calibration_capture measures them (at pixels with detail the pictures can place)."""
    options = dict(PTZ_ACCOUNT, cameras=list(cameras), **REDUCED)
    capture = {"name": "capture", "vapix.q6000.calibration_capture": options}
    run = Runner(workdir)(play([capture]), twin.inventory_path, limit=unit, timeout=600)
    assert run.rc == 0, run.output[-3000:]
    return run.result("capture", unit)["heads"]


def saved_directions(twin, unit):
    """Where the PTZ turns through each head's saved calibration for a pixel: the calibration as the device has
    it (the PTZ is aimed home afterwards)."""
    directions = {}
    for camera in CAMERAS:
        device(twin, unit, "com/ptz.cgi", camera=camera, center="300,200", imagewidth=1280, imageheight=720)
        deadline, last = time.monotonic() + 15, None
        while time.monotonic() < deadline:
            time.sleep(0.2)
            position = twin.state(unit)["ptz"]
            if position == last and not position["moving"]:
                break
            last = position
        directions[camera] = (round(last["pan"], 3), round(last["tilt"], 3))
    aim_home(twin, unit)
    time.sleep(1.0)
    return directions


@pytest.fixture(scope="module")
def calibrated(twin, workdir):
    """Two linked units, heads 1 and 3 captured and calibrated, with their baselines."""
    units = fresh_units(twin, 2)
    prepared = {}
    for unit in units:
        heads = captured_points(twin, unit, workdir)
        run = Runner(workdir)(play([LINK, calibration(heads, recalibrate="always")]), twin.inventory_path,
                              limit=unit, timeout=600)
        assert run.rc == 0, run.output[-3000:]
        prepared[unit] = run.result("calibration", unit)["point_sets"]
    return prepared


def test_calibrating_records_a_baseline_and_an_unknocked_unit_passes(ansible, twin, calibrated):
    unit = sorted(calibrated)[0] if ansible.execution == "auto" else sorted(calibrated)[1]
    heads = calibrated[unit]
    assert [head["camera"] for head in heads] == list(CAMERAS)
    for head in heads:
        # The baseline: the head's pixels and where the PTZ saw their content, measured right after calibrating.
        assert 3 <= len(head["baseline"]) <= len(head["points"]), head
        for x, y, pan, tilt in head["baseline"]:
            assert abs(pan - twin.truth(unit, head["camera"], x, y)[0]) < 0.8, (x, y, pan)
            assert abs(tilt - twin.truth(unit, head["camera"], x, y)[1]) < 0.8, (x, y, tilt)
    aim_home(twin, unit)
    run = ansible(play([calibration(heads, recalibrate="when_drifted")]), twin.inventory_path, limit=unit,
                  timeout=600)
    assert run.rc == 0, run.output[-3000:]
    result = run.result("calibration", unit)
    assert result["changed"] is False and result["point_sets_updated"] is False
    assert result["point_sets"] == heads
    for entry in result["heads"]:
        drift = entry["drift"]
        assert drift["method"] == "image" and drift["tolerance"] == 0.15 and drift["flagged"] is False
        assert drift["status"] == "ok" and drift["reason"] is None and drift["against"] == "baseline", drift
        # Judged ok: the angle read is within the tolerance give or take twice its uncertainty.
        assert drift["rotation"]["angle"] == drift["moved"] <= 0.15 + 2 * drift["uncertainty"], drift
        assert drift["pairs"] >= 3 and 0 < drift["uncertainty"] < 0.075, drift
        unmeasured = [p for p in drift["points"] if p["error"] is None]
        assert len(unmeasured) <= 1, unmeasured
        assert drift["thumbnail"].startswith("data:image/jpeg;base64,") and len(drift["thumbnail"]) < 8000
        assert "within tolerance" in entry["reason"]
    assert twin.state(unit)["session"] is None
    assert_home(twin, unit)
    assert twin.hosts[unit]["q6000_remote_password"] not in run.output


def test_a_baseline_of_the_older_shape_is_judged_on_its_mean_offset_and_replaced(twin, workdir, calibrated):
    """A baseline kept as a mean offset {pan, tilt} (0.2 of the collection) is judged as it was measured, by the
    move of the mean offset, and point_sets return the correspondences in its place."""
    unit = sorted(calibrated)[1]
    heads = [dict(head, baseline={"pan": 0.0, "tilt": 0.0}) for head in calibrated[unit]]
    aim_home(twin, unit)
    run = Runner(workdir)(play([calibration(heads, recalibrate="when_drifted", drift_tolerance=1.0)]),
                          twin.inventory_path, limit=unit, timeout=600)
    assert run.rc == 0, run.output[-3000:]
    result = run.result("calibration", unit)
    for entry in result["heads"]:
        drift = entry["drift"]
        assert drift["against"] == "old baseline" and drift["rotation"] is None and drift["status"] == "ok", drift
        assert 0.0 <= drift["moved"] < 1.0 and "old baseline" in entry["reason"], entry
    assert result["point_sets_updated"] is True
    for head in result["point_sets"]:
        assert isinstance(head["baseline"], list) and 3 <= len(head["baseline"]) <= len(head["points"]), head
    assert_home(twin, unit)


def test_a_knock_is_found_from_the_pictures_and_recapture_fixes_the_head(twin, workdir):
    """Knocked 1 degree: the points method sees nothing, the image check fails naming both heads with the
    measurement (the calibration untouched), and recapture captures, recalibrates and returns new point sets
    whose next check passes."""
    [unit] = fresh_units(twin, 1)
    heads = captured_points(twin, unit, workdir)
    run = Runner(workdir)(play([LINK, calibration(heads, recalibrate="always")]), twin.inventory_path,
                          limit=unit, timeout=600)
    assert run.rc == 0, run.output[-3000:]
    heads = run.result("calibration", unit)["point_sets"]
    saved = saved_directions(twin, unit)
    twin.knock(unit, 1.0)
    aim_home(twin, unit)
    points_method = {"name": "points", "register": "points", "vapix.q6000.remote_calibration": dict(
        PTZ_ACCOUNT, heads=heads, recalibrate="when_drifted")}
    run = Runner(workdir)(play([points_method, calibration(heads, recalibrate="when_drifted")]), twin.inventory_path,
                          limit=unit, timeout=600)
    assert run.rc != 0
    # The saved calibration still maps the points where they were declared: the fit's own residual, no knock.
    points_drift = [e["drift"] for e in run.result("points", unit)["heads"]]
    assert all(not d["flagged"] and d["max"] < 0.6 for d in points_drift), points_drift
    result = run.result("calibration", unit)
    assert "camera 1 moved" in result["msg"] and "camera 3 moved" in result["msg"], result["msg"]
    for entry in result["heads"]:
        drift = entry["drift"]
        assert drift["flagged"] is True and drift["status"] == "drifted", drift
        # The twin's knock about the vertical: yaw 1, nothing about the horizontal axes.
        assert drift["rotation"]["yaw"] == pytest.approx(1.0, abs=0.1), drift
        assert abs(drift["rotation"]["pitch"]) < 0.15 and abs(drift["rotation"]["roll"]) < 0.15, drift
    assert twin.state(unit)["session"] is None
    assert_home(twin, unit)
    assert saved_directions(twin, unit) == saved

    run = Runner(workdir)(play([calibration(heads, recalibrate="when_drifted", recapture=True)]), twin.inventory_path,
                          limit=unit, timeout=900)
    assert run.rc == 0, run.output[-3000:]
    result = run.result("calibration", unit)
    assert result["changed"] is True and result["point_sets_updated"] is True
    assert [e["action"] for e in result["heads"]] == ["recalibrated", "recalibrated"]
    for head in result["point_sets"]:
        truths = twin.truths(unit, head["camera"], [(p["x"], p["y"]) for p in head["points"]])
        errors = [math.hypot((p["pan"] - t["pan"]) * math.cos(math.radians(t["tilt"])), p["tilt"] - t["tilt"])
                  for p, t in zip(head["points"], truths)]
        # A point on near content may be off its own truth by the parallax its patch carries (make bench).
        assert sorted(errors)[len(errors) // 2] < 0.3 and max(errors) < 1.0, errors
    assert_home(twin, unit)
    run = Runner(workdir)(play([calibration(result["point_sets"], recalibrate="when_drifted")]), twin.inventory_path,
                          limit=unit, timeout=600)
    assert run.rc == 0, run.output[-3000:]
    assert not any(e["drift"]["flagged"] for e in run.result("calibration", unit)["heads"])


def test_a_fault_in_the_middle_leaves_the_ptz_home_no_session_and_the_old_calibration(twin, workdir, calibrated):
    unit = sorted(calibrated)[0]
    heads = calibrated[unit]
    twin.knock(unit, 2.0)
    saved = saved_directions(twin, unit)
    # The PTZ refuses its pictures: the check has moved the PTZ (a click through the calibration) by then.
    twin.fault(unit, "ptz:/axis-cgi/jpg/image.cgi", "http500", count=200)
    try:
        run = Runner(workdir)(play([calibration(heads, recalibrate="when_drifted", recapture=True)]),
                              twin.inventory_path, limit=unit, timeout=600)
    finally:
        twin.reset(unit)
        twin.knock(unit, -2.0)
    assert run.rc != 0
    assert "image.cgi" in run.result("calibration", unit)["msg"]
    assert twin.state(unit)["session"] is None
    assert_home(twin, unit)
    assert saved_directions(twin, unit) == saved


@pytest.mark.parametrize("options, option", [
    ({"recapture": True, "recalibrate": "always"}, "recapture"),
    ({"drift_tolerance": 0.0}, "drift_tolerance"),
    ({"resolution": "big"}, "resolution"),
    ({"remote_username": None, "remote_password": None, "recalibrate": "always"}, "drift_method: image"),
    ({"heads": [{"camera": 1, "baseline": {"pan": 90.0, "tilt": 0.0}, "points": [
        {"x": -0.5, "y": 0.5, "pan": 1, "tilt": -5}, {"x": 0.5, "y": 0.5, "pan": 50, "tilt": -5},
        {"x": 0.5, "y": -0.5, "pan": 50, "tilt": -40}, {"x": -0.5, "y": -0.5, "pan": 1, "tilt": -40}]}]},
     "heads[0].baseline.pan"),
    ({"heads": [{"camera": 1, "baseline": [[-0.5, 0.5, 1.0, -5.0], [0.5, 0.5, 50.0], [0.5, -0.5, 50, -40]], "points": [
        {"x": -0.5, "y": 0.5, "pan": 1, "tilt": -5}, {"x": 0.5, "y": 0.5, "pan": 50, "tilt": -5},
        {"x": 0.5, "y": -0.5, "pan": 50, "tilt": -40}, {"x": -0.5, "y": -0.5, "pan": 1, "tilt": -40}]}]},
     "heads[0].baseline[1]: [x, y, pan, tilt]"),
    ({"heads": [{"camera": 1, "baseline": [[0.0, 0.0, 10.0, -5.0]] * 41, "points": [
        {"x": -0.5, "y": 0.5, "pan": 1, "tilt": -5}, {"x": 0.5, "y": 0.5, "pan": 50, "tilt": -5},
        {"x": 0.5, "y": -0.5, "pan": 50, "tilt": -40}, {"x": -0.5, "y": -0.5, "pan": 1, "tilt": -40}]}]},
     "heads[0].baseline: a list of 3 to 40"),
    ({"ptz_idle": -1.0}, "ptz_idle"),
])
def test_bad_options_are_refused_before_any_request(twin, workdir, options, option):
    unit = next(twin.unused)
    heads = options.pop("heads", [{"camera": 1, "points": [
        {"x": -0.5, "y": 0.5, "pan": 1, "tilt": -5}, {"x": 0.5, "y": 0.5, "pan": 50, "tilt": -5},
        {"x": 0.5, "y": -0.5, "pan": 50, "tilt": -40}, {"x": -0.5, "y": -0.5, "pan": 1, "tilt": -40}]}])
    task = calibration(heads, **dict({"recalibrate": "when_drifted"}, **options))
    for key in ("remote_username", "remote_password"):
        if task["vapix.q6000.remote_calibration"][key] is None:
            del task["vapix.q6000.remote_calibration"][key]
    before = twin.counters(unit)["cgi"]
    run = Runner(workdir)(play([task]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert run.result("calibration", unit)["msg"].startswith(option), run.result("calibration", unit)["msg"]
    assert twin.counters(unit)["cgi"] == before


@pytest.mark.parametrize("execution", ["auto", "module"])
def test_without_opencv_the_image_method_says_what_to_install_and_the_points_method_runs(twin, workdir, tmp_path,
                                                                                         execution):
    unit = next(twin.unused)
    blocker = tmp_path / "no-opencv"
    blocker.mkdir()
    (blocker / "cv2.py").write_text("raise ImportError('No module named cv2 (blocked for this test)')\n")
    heads = [{"camera": 1, "points": [
        {"x": -0.5, "y": 0.5, "pan": 1, "tilt": -5}, {"x": 0.5, "y": 0.5, "pan": 50, "tilt": -5},
        {"x": 0.5, "y": -0.5, "pan": 50, "tilt": -40}, {"x": -0.5, "y": -0.5, "pan": 1, "tilt": -40}]}]
    points = {"name": "points", "vapix.q6000.remote_calibration": {"heads": heads}, "check_mode": True}
    run = Runner(workdir, execution)(play([points, calibration(heads, recalibrate="when_drifted")]),
                                     twin.inventory_path, limit=unit, env={"PYTHONPATH": str(blocker)})
    assert run.rc != 0
    assert run.result("points", unit).get("failed") is not True
    message = run.result("calibration", unit)["msg"]
    assert message.startswith("drift_method: image needs opencv-python-headless and numpy"), message
    assert "Failed to import" in message


# --- playbooks/check_calibration.yml ------------------------------------------------------------------------

def test_the_nightly_check_fails_the_knocked_unit_and_fixes_it(twin, workdir):
    """Two units, captured and calibrated, with the baselines calibrating records: the first check changes and
    writes nothing; after a knock of one, the check fails that unit with its measurement and leaves the
    other ok and unchanged; q6000_fix=true recaptures and recalibrates it, writes its new point sets, and reports
    it changed; the report shows the pictures. (A first night without baselines judges a head against its point
    set, and a head of five points is then too often too uncertain to measure for this test to rest on it.)"""
    units = fresh_units(twin, 2)
    directory = workdir / "site-check"
    inventory = write_site(twin, directory, [])
    baselines = {}
    for unit in units:
        heads = captured_points(twin, unit, workdir, cameras=(2,))
        run = Runner(workdir)(play([LINK, calibration(heads, recalibrate="always")]), twin.inventory_path,
                              limit=unit, timeout=600)
        assert run.rc == 0, run.output[-3000:]
        baselines[unit] = run.result("calibration", unit)["point_sets"]
        assert "baseline" in baselines[unit][0]
        (directory / "host_vars" / ("%s.yml" % unit)).write_text(
            yaml.safe_dump({"q6000_calibration_heads": baselines[unit]}))
    report = directory / "report.html"
    extra = {"q6000_check_resolution": REDUCED["resolution"], "q6000_check_ptz_resolution": REDUCED["ptz_resolution"],
             "q6000_report_path": str(report)}
    check = Runner(workdir)
    limit = ",".join(units)

    def point_sets(unit):
        """The unit's point sets as the inventory holds them: those a check wrote, else those it started with (in
        host_vars/<unit>/main.yml once the store has moved host_vars/<unit>.yml there)."""
        for name in ("%s/q6000_calibration.yml" % unit, "%s/main.yml" % unit, "%s.yml" % unit):
            path = directory / "host_vars" / name
            if path.exists():
                return yaml.safe_load(path.read_text())["q6000_calibration_heads"]
        raise AssertionError("no point sets of %s in %s" % (unit, directory / "host_vars"))

    first = check(PLAYBOOKS / "check_calibration.yml", inventory, limit=limit, extra_vars=extra, timeout=900)
    assert first.rc == 0, first.output[-3000:]
    for unit in units:
        assert first.result("Measure each head's drift from images", unit)["changed"] is False
        assert point_sets(unit) == baselines[unit]

    knocked, steady = units
    twin.knock(knocked, -1.0)
    second = check(PLAYBOOKS / "check_calibration.yml", inventory, limit=limit, extra_vars=extra, timeout=900)
    assert second.rc != 0, second.result("Measure each head's drift from images", knocked)
    failure = second.result("Fail a unit with a drifted head, with its measurement", knocked)
    assert "camera 2 moved" in failure["msg"], failure["msg"]
    assert "skip_reason" in second.result("Fail a unit with a drifted head, with its measurement", steady)
    assert second.result("Measure each head's drift from images", steady)["changed"] is False
    assert point_sets(steady) == baselines[steady] and point_sets(knocked) == baselines[knocked]
    page = report.read_text()
    assert knocked in page and "data:image/jpeg;base64," in page

    third = check(PLAYBOOKS / "check_calibration.yml", inventory, limit=limit,
                  extra_vars=dict(extra, q6000_fix=True), timeout=900)
    assert third.rc == 0, third.output[-3000:]
    assert third.result("Measure each head's drift from images", knocked)["changed"] is True
    assert third.result("Measure each head's drift from images", steady)["changed"] is False
    assert point_sets(knocked) != baselines[knocked] and point_sets(steady) == baselines[steady]
    assert twin.state(knocked)["session"] is None

    fourth = check(PLAYBOOKS / "check_calibration.yml", inventory, limit=limit, extra_vars=extra, timeout=900)
    assert fourth.rc == 0, fourth.output[-3000:]
    for unit in units:
        assert fourth.result("Measure each head's drift from images", unit)["changed"] is False
    assert not any(twin.hosts[unit]["q6000_remote_password"] in run.output
                   for unit in units for run in (first, second, third, fourth))
