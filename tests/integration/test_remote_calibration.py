# -*- coding: utf-8 -*-
"""vapix.q6000.remote_calibration against the twin: sessions, refusals, faults, drift."""

from __future__ import annotations

import copy
import time

import pytest

from tests.emulator.optics import angular_distance
from tests.integration.conftest import device, hand_calibrate, play
from tests.sites import check_pixels, truth_points

CAL = "/axis-cgi/ptremotecalibration/"
PTZ_ACCOUNT = {"remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}"}
LINK = {"name": "link", "vapix.q6000.remote_camera_params": {
    "remote_host": "{{ q6000_remote_host }}", "http_port": "{{ q6000_remote_http_port }}",
    "remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}",
    "wait_for_connection": True, "wait_timeout": 20}}


def calibrate(heads, **options):
    return {"name": "calibrate", "vapix.q6000.remote_calibration": dict({"heads": heads}, **options),
            "register": "calibration"}


def heads_of(twin, unit, cameras=(1, 2, 3, 4)):
    return [{"camera": c, "points": truth_points(twin, unit, c)} for c in cameras]


def centre_error(twin, unit, camera, x=None, y=None, against="truth"):
    """Degrees between where the PTZ goes for pixel (x, y) of a head (default: a far pixel the points did not
    use) and that pixel's truth (or its ray direction, `against="ray"`)."""
    if x is None:
        x, y = check_pixels(twin, unit, camera, 1)[0]
    deadline = time.monotonic() + 15
    while twin.state(unit)["status"] != 0:
        assert time.monotonic() < deadline, "the link did not come up"
        time.sleep(0.2)
    answer = device(twin, unit, "com/ptz.cgi", camera=camera, imagewidth=19200, imageheight=10800,
                    center="%d,%d" % (round((x + 1) / 2 * 19200), round((1 - y) / 2 * 10800)))
    assert not answer.startswith("Error"), answer
    last = None
    while time.monotonic() < deadline:
        time.sleep(0.2)
        position = twin.state(unit)["ptz"]
        if last == position:
            break
        last = position
    pan, tilt = (twin.truth if against == "truth" else twin.ray)(unit, camera, x, y)
    return angular_distance(position["pan"], position["tilt"], pan, tilt)


def session_of(twin, unit):
    return twin.state(unit)["session"]


def test_a_fleet_unit_is_calibrated_once(ansible, twin, unit):
    heads = heads_of(twin, unit)
    twin.reset(unit)
    first = ansible(play([calibrate(heads)]), twin.inventory_path, limit=unit)
    assert first.rc == 0, first.output
    result = first.result("calibrate", unit)
    assert result["changed"] is True
    assert [h["action"] for h in result["heads"]] == ["calibrated"] * 4
    # Per head: getinformation (is a session open?), start, 5 x (selecttarget, ontarget), getinformation (is it
    # still ours?), save.
    assert all(h["requests"] == 2 * 5 + 4 for h in result["heads"])
    assert twin.state(unit)["calibrated"] == {"1": True, "2": True, "3": True, "4": True}
    counters = twin.counters(unit)["cgi"]
    assert counters[CAL + "start.cgi"] == 4 and counters[CAL + "save.cgi"] == 4
    assert counters[CAL + "ontarget.cgi"] == 20 and CAL + "abort.cgi" not in counters

    twin.reset(unit)
    second = ansible(play([calibrate(heads)]), twin.inventory_path, limit=unit)
    assert second.rc == 0, second.output
    result = second.result("calibrate", unit)
    assert result["changed"] is False
    assert [h["action"] for h in result["heads"]] == ["none"] * 4
    assert twin.counters(unit)["cgi"] == {CAL + "iscalibrated.cgi": 1}

    again = ansible(play([calibrate(heads[:1], recalibrate="always")]), twin.inventory_path, limit=unit)
    assert again.result("calibrate", unit)["heads"][0]["action"] == "recalibrated"
    assert again.result("calibrate", unit)["changed"] is True


def test_the_calibration_steers_the_ptz_to_the_truth(ansible, twin, unit):
    run = ansible(play([LINK, calibrate(heads_of(twin, unit, (2,)))]), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    for x, y in check_pixels(twin, unit, 2):
        assert centre_error(twin, unit, 2, x, y) < 0.1
    # Near ground at the bottom of the image: the direction-only calibration follows the pixel's ray there, and
    # the truth is off by the parallax of the PTZ's lower centre.
    (near,) = twin.truths(unit, 2, [(-0.3, -0.9)])
    assert near["depth"] < 20
    assert centre_error(twin, unit, 2, -0.3, -0.9, against="ray") < 0.15
    parallax = angular_distance(near["pan"], near["tilt"], near["ray_pan"], near["ray_tilt"])
    assert centre_error(twin, unit, 2, -0.3, -0.9) == pytest.approx(parallax, abs=0.15)


def test_check_mode_sends_nothing_that_changes_state(ansible, twin, unit):
    twin.reset(unit)
    run = ansible(play([calibrate(heads_of(twin, unit, (1, 3)), **PTZ_ACCOUNT)]), twin.inventory_path,
                  limit=unit, check=True, diff=True)
    assert run.rc == 0, run.output
    result = run.result("calibrate", unit)
    assert result["changed"] is True
    assert [(h["action"], h["would"]) for h in result["heads"]] == [("skipped_check_mode", "calibrated")] * 2
    assert result["diff"]["after"]["camera 1"].startswith("calibrated")
    assert result["diff"]["before"]["camera 1"] == "not calibrated"
    cgi = twin.counters(unit)["cgi"]
    # Reads only: the calibration state, and the PTZ's identity and limits, which check mode checks the points
    # against as the real run does.
    assert set(cgi) <= {CAL + "iscalibrated.cgi", "/axis-cgi/remotecameracontrol/getvapixparams.cgi",
                        "ptz:/axis-cgi/param.cgi"}
    assert twin.state(unit)["calibrated"]["1"] is False


def test_check_mode_refuses_points_beyond_the_ptzs_limits(ansible, twin, unit):
    heads = heads_of(twin, unit, (1,))
    heads[0]["points"][2]["tilt"] = 45.0  # the PTZ stops at +20: the real run would refuse it, so does check mode
    run = ansible(play([calibrate(heads, **PTZ_ACCOUNT)]), twin.inventory_path, limit=unit, check=True)
    assert run.rc != 0
    assert "tilt: 45.0 is outside the PTZ's limits" in run.result("calibrate", unit)["msg"]


@pytest.mark.parametrize("mutate, message", [
    (lambda h: h[0]["points"][2].update(x=1.2), r"heads[0].points[2] (camera 1).x: 1.2 is outside -1.0..1.0"),
    (lambda h: h[0]["points"][1].update(tilt="nan"), r"heads[0].points[1] (camera 1).tilt: nan is not a finite"),
    (lambda h: h[0]["points"].pop(), "heads[0].points (camera 1): 4 point(s), at least min_points=5"),
    (lambda h: h[0].update(points=[]), "heads[0].points (camera 1): 0 point(s)"),
    (lambda h: h.append(copy.deepcopy(h[0])), "heads[1].camera: camera 1 is already given in heads[0]"),
    (lambda h: h[0]["points"][4].update(x=h[0]["points"][0]["x"], y=h[0]["points"][0]["y"]),
     "heads[0].points[4] (camera 1): the same pixel as point 0"),
    (lambda h: h[0].update(points=[{"x": t, "y": t, "pan": t * 10, "tilt": -20} for t in (-0.5, 0, 0.5, 0.7, 0.9)]),
     "all points lie on one line"),
    (lambda h: h[0]["points"][0].pop("pan"), "missing required arguments: pan found in heads -> points"),
    (lambda h: h[0]["points"][0].update(x="left"), "heads"),
])
def test_bad_point_sets_are_refused_before_any_request(ansible, twin, unit, mutate, message):
    heads = heads_of(twin, unit, (1,))
    mutate(heads)
    twin.reset(unit)
    run = ansible(play([calibrate(heads, min_points=5)]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert message in run.result("calibrate", unit)["msg"]
    assert twin.counters(unit)["cgi"] == {}


def test_a_camera_the_device_lacks_is_refused_before_any_change(ansible, twin, unit):
    twin.reset(unit)
    run = ansible(play([calibrate([{"camera": 5, "points": truth_points(twin, unit, 1)}])]), twin.inventory_path,
                  limit=unit)
    assert run.rc != 0
    assert "heads[0].camera: 5 is not a camera head of this device (1, 2, 3, 4)" in run.result("calibrate", unit)["msg"]
    assert twin.counters(unit)["cgi"] == {CAL + "iscalibrated.cgi": 1}


def test_a_tilt_beyond_the_ptz_limits_is_refused_before_any_change(ansible, twin, unit):
    heads = heads_of(twin, unit, (1,))
    heads[0]["points"][3]["tilt"] = 35.0
    run = ansible(play([calibrate(heads, **PTZ_ACCOUNT)]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert "heads[0].points[3] (camera 1).tilt: 35.0 is outside the PTZ's limits -90.0..20.0" in \
        run.result("calibrate", unit)["msg"]
    assert CAL + "start.cgi" not in twin.counters(unit)["cgi"]


def test_a_point_far_off_is_named_and_the_session_aborted(ansible, twin, unit):
    heads = heads_of(twin, unit, (2,))
    heads[0]["points"][3]["pan"] += 15
    run = ansible(play([calibrate(heads)]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    message = run.result("calibrate", unit)["msg"]
    assert "heads[0].points[3] (camera 2" in message and "error 52" in message
    assert "ontarget.cgi on 127.0.0.1" in message
    assert session_of(twin, unit) is None
    assert twin.state(unit)["calibrated"]["2"] is False


def test_a_set_that_does_not_fit_names_the_worst_point_and_keeps_the_old_calibration(ansible, twin, unit):
    good = heads_of(twin, unit, (3,))
    assert ansible(play([LINK, calibrate(good)]), twin.inventory_path, limit=unit).rc == 0
    bad = copy.deepcopy(good)
    bad[0]["points"][1]["pan"] += 2.0
    run = ansible(play([calibrate(bad, recalibrate="always")]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    message = run.result("calibrate", unit)["msg"]
    assert "error 51" in message
    assert "the points that fit worst: point 1 (" in message
    assert session_of(twin, unit) is None
    assert twin.state(unit)["calibrated"]["3"] is True
    assert centre_error(twin, unit, 3) < 0.1


@pytest.mark.parametrize("kind", ["drop", "reboot", "http500"])
def test_a_fault_in_the_middle_leaves_no_session_and_the_old_calibration(ansible, twin, unit, kind):
    heads = heads_of(twin, unit, (1,))
    assert ansible(play([LINK, calibrate(heads)]), twin.inventory_path, limit=unit).rc == 0
    twin.fault(unit, CAL + "ontarget.cgi", kind)
    run = ansible(play([calibrate(heads, recalibrate="always")]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    message = run.result("calibrate", unit)["msg"]
    assert "ptremotecalibration/ontarget.cgi on 127.0.0.1" in message
    assert session_of(twin, unit) is None
    assert twin.state(unit)["calibrated"]["1"] is True
    assert centre_error(twin, unit, 1) < 0.1
    rerun = ansible(play([calibrate(heads, recalibrate="always")]), twin.inventory_path, limit=unit)
    assert rerun.rc == 0, rerun.output


def test_a_foreign_session_is_named_and_left_alone_unless_told(ansible, twin, unit):
    device(twin, unit, "ptremotecalibration/start.cgi", camera=2)
    device(twin, unit, "ptremotecalibration/selecttarget.cgi", x=0.75, y=0.25)
    heads = heads_of(twin, unit, (1,))
    refused = ansible(play([calibrate(heads)]), twin.inventory_path, limit=unit)
    assert refused.rc != 0
    message = refused.result("calibrate", unit)["msg"]
    assert "another calibration session is open on this device (camera 2, target x=0.75 y=0.25)" in message
    assert "abort_ongoing=true" in message
    assert session_of(twin, unit)["camera"] == 2

    taken = ansible(play([calibrate(heads, abort_ongoing=True)]), twin.inventory_path, limit=unit)
    assert taken.rc == 0, taken.output
    assert session_of(twin, unit) is None
    assert twin.state(unit)["calibrated"]["1"] is True


def test_when_drifted_recalibrates_only_the_head_that_no_longer_matches(ansible, twin, unit):
    heads = heads_of(twin, unit, (1, 2, 3))
    assert ansible(play([LINK, calibrate(heads)]), twin.inventory_path, limit=unit).rc == 0
    shifted = [dict(p, pan=p["pan"] + 3.0) for p in heads[1]["points"]]
    hand_calibrate(twin, unit, 2, shifted)
    device(twin, unit, "ptz:com/ptz.cgi", pan=-33.5, tilt=-12.25)
    time.sleep(1.0)
    home = twin.state(unit)["ptz"]

    run = ansible(play([calibrate(heads, recalibrate="when_drifted", **PTZ_ACCOUNT)]), twin.inventory_path,
                  limit=unit)
    assert run.rc == 0, run.output
    result = run.result("calibrate", unit)
    assert [h["action"] for h in result["heads"]] == ["none", "recalibrated", "none"]
    assert 2.5 < result["heads"][1]["drift"]["max"] < 3.5
    assert result["heads"][0]["drift"]["max"] < 0.2 and result["heads"][2]["drift"]["max"] < 0.2
    assert len(result["heads"][0]["drift"]["points"]) == 5
    time.sleep(1.0)
    back = twin.state(unit)["ptz"]
    assert back["pan"] == pytest.approx(home["pan"], abs=0.01) and back["tilt"] == pytest.approx(home["tilt"], abs=0.01)
    assert centre_error(twin, unit, 2) < 0.1

    quiet = ansible(play([calibrate(heads, recalibrate="when_drifted", **PTZ_ACCOUNT)]), twin.inventory_path,
                    limit=unit)
    assert quiet.result("calibrate", unit)["changed"] is False


def test_a_knocked_mount_is_not_drift_of_the_declared_points(ansible, twin, unit):
    """After a knock the declared points are outdated too: they must be measured again, not re-applied."""
    heads = heads_of(twin, unit, (4,))
    assert ansible(play([LINK, calibrate(heads)]), twin.inventory_path, limit=unit).rc == 0
    twin.knock(unit, 4.0)
    run = ansible(play([calibrate(heads, recalibrate="when_drifted", **PTZ_ACCOUNT)]), twin.inventory_path,
                  limit=unit)
    assert run.rc == 0, run.output
    assert run.result("calibrate", unit)["heads"][0]["drift"]["max"] < 0.2
    assert centre_error(twin, unit, 4, 0.0, 0.0) > 3.5
