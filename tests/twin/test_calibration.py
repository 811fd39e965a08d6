"""Remote PT coordinate calibration API: the session, every error code, the fit, center/areazoom."""

from __future__ import annotations

import math

import pytest

from tests.emulator.optics import angular_distance, wrap180
from tests.emulator.ptz import LIMITS
from tests.twin.helpers import CAL, GOOD_POINTS, PTZ, calibrate


def truth(device, camera, x, y):
    """The pixel's ray direction: this module tests the firmware's direction-only geometry (hint, fit,
    51/52, click-to-center), so its points carry no parallax (test_views.py covers parallax)."""
    return device.twin.ray(device.host, camera, x, y)


def test_full_session_flow(device):
    assert device.success(CAL + "start.cgi", {"camera": "2"}) is None
    info = device.success(CAL + "getinformation.cgi")
    assert info == {"Camera": "2"}
    name, _content = device.xml(CAL + "selecttarget.cgi", {"x": "0.75", "y": "0.25"})
    assert name == "GeneralSuccess"
    info = device.success(CAL + "getinformation.cgi")
    assert info == {"Camera": "2", "CurrentTarget": {"X": "0.75", "Y": "0.25"}}
    pan, tilt = truth(device, 2, 0.75, 0.25)
    device.success(CAL + "ontarget.cgi", {"pan": repr(pan), "tilt": repr(tilt)})
    assert device.success(CAL + "getinformation.cgi") == {"Camera": "2"}
    name, hint = device.xml(CAL + "selecttarget.cgi", {"x": "0.25", "y": "0.25"})
    assert name == "SelectTargetSuccess"
    true_pan, true_tilt = truth(device, 2, 0.25, 0.25)
    assert angular_distance(float(hint["Pan"]), float(hint["Tilt"]), true_pan, true_tilt) < 5.0
    assert device.twin.state(device.host)["session"] == {"camera": 2, "points": 1, "current_target": [0.25, 0.25]}
    assert device.success(CAL + "abort.cgi") is None
    assert device.twin.state(device.host)["session"] is None


def test_hint_improves_with_points(device):
    calibrate(device, 1, GOOD_POINTS[:4], save=False)
    name, hint = device.xml(CAL + "selecttarget.cgi", {"x": "0.5", "y": "-0.5"})
    assert name == "SelectTargetSuccess"
    true_pan, true_tilt = truth(device, 1, 0.5, -0.5)
    assert angular_distance(float(hint["Pan"]), float(hint["Tilt"]), true_pan, true_tilt) < 0.05


def test_last_selected_target_counts(device):
    device.success(CAL + "start.cgi")
    device.success(CAL + "selecttarget.cgi", {"x": "-1", "y": "1"})
    device.success(CAL + "selecttarget.cgi", {"x": "0.1", "y": "-0.2"})
    info = device.success(CAL + "getinformation.cgi")
    assert info == {"Camera": "1", "CurrentTarget": {"X": "0.1", "Y": "-0.2"}}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_cgi_get_and_post(device, method):
    def ok(cgi, args=None):
        return device.xml(CAL + cgi, args, method=method)[0]

    assert ok("schemaversions.cgi") == "SchemaVersionSuccess"
    assert ok("iscalibrated.cgi") == "IsCalibratedSuccess"
    assert ok("start.cgi", {"camera": "3"}) == "GeneralSuccess"
    assert ok("getinformation.cgi") == "GetInformationSuccess"
    for i, (x, y) in enumerate(GOOD_POINTS[:4]):
        assert ok("selecttarget.cgi", {"x": x, "y": y}) == ("GeneralSuccess" if i == 0 else "SelectTargetSuccess")
        pan, tilt = truth(device, 3, x, y)
        assert ok("ontarget.cgi", {"pan": pan, "tilt": tilt}) == "GeneralSuccess"
    assert ok("save.cgi") == "GeneralSuccess"
    assert ok("start.cgi") == "GeneralSuccess"
    assert ok("abort.cgi") == "GeneralSuccess"
    cameras = device.success(CAL + "iscalibrated.cgi")["Camera"]
    assert cameras == [{"Id": "1", "Calibrated": "0"}, {"Id": "2", "Calibrated": "0"},
                       {"Id": "3", "Calibrated": "1"}, {"Id": "4", "Calibrated": "0"}]


def test_50_start_while_open(device):
    device.success(CAL + "start.cgi", {"camera": "1"})
    assert device.error(CAL + "start.cgi", {"camera": "2"}) == 50
    assert device.success(CAL + "getinformation.cgi")["Camera"] == "1"


@pytest.mark.parametrize("cgi,args", [("abort.cgi", None), ("getinformation.cgi", None),
                                      ("ontarget.cgi", None), ("ontarget.cgi", {"pan": "1", "tilt": "-10"}),
                                      ("save.cgi", None), ("selecttarget.cgi", {"x": "0", "y": "0"})])
def test_54_without_session(device, cgi, args):
    assert device.error(CAL + cgi, args) == 54


def test_iscalibrated_needs_no_session(device):
    assert len(device.success(CAL + "iscalibrated.cgi")["Camera"]) == 4


def test_53_ontarget_before_selecttarget(device):
    device.success(CAL + "start.cgi")
    assert device.error(CAL + "ontarget.cgi", {"pan": "10", "tilt": "-20"}) == 53


def test_53_target_is_consumed_by_ontarget(device):
    device.success(CAL + "start.cgi", {"camera": "1"})
    device.success(CAL + "selecttarget.cgi", {"x": "0", "y": "0"})
    pan, tilt = truth(device, 1, 0, 0)
    device.success(CAL + "ontarget.cgi", {"pan": pan, "tilt": tilt})
    assert device.error(CAL + "ontarget.cgi", {"pan": pan, "tilt": tilt}) == 53


def test_52_first_point_judged_by_tilt(device):
    device.success(CAL + "start.cgi", {"camera": "1"})
    device.success(CAL + "selecttarget.cgi", {"x": "0", "y": "0"})
    pan, tilt = truth(device, 1, 0, 0)
    assert device.error(CAL + "ontarget.cgi", {"pan": pan, "tilt": tilt + 15}) == 52
    assert device.success(CAL + "getinformation.cgi")["CurrentTarget"] == {"X": "0", "Y": "0"}


def test_first_point_with_any_pan_is_accepted(device):
    """Before any point the mount offset is unknown, so only tilt can be judged."""
    device.success(CAL + "start.cgi", {"camera": "1"})
    device.success(CAL + "selecttarget.cgi", {"x": "0", "y": "0"})
    pan, tilt = truth(device, 1, 0, 0)
    device.success(CAL + "ontarget.cgi", {"pan": wrap180(pan + 90), "tilt": tilt})


def test_52_point_15_degrees_off(device):
    calibrate(device, 2, GOOD_POINTS[:3], save=False)
    x, y = GOOD_POINTS[3]
    pan, tilt = truth(device, 2, x, y)
    device.success(CAL + "selecttarget.cgi", {"x": x, "y": y})
    far_pan = wrap180(pan + 15 / math.cos(math.radians(tilt)))
    assert device.error(CAL + "ontarget.cgi", {"pan": far_pan, "tilt": tilt}) == 52
    assert device.error(CAL + "ontarget.cgi", {"pan": pan, "tilt": tilt - 15}) == 52
    device.success(CAL + "ontarget.cgi", {"pan": pan, "tilt": tilt})
    assert device.twin.state(device.host)["session"]["points"] == 4


def test_51_too_few_points(device):
    assert calibrate(device, 1, GOOD_POINTS[:2]) == 51
    assert device.twin.state(device.host)["session"] is None
    assert device.twin.state(device.host)["calibrated"]["1"] is False


def test_51_poor_point_keeps_old_calibration(device):
    assert calibrate(device, 4) is None
    before = device.twin.state(device.host)
    assert before["calibrated"]["4"] is True
    device.call(PTZ, {"camera": "4", "center": "960,540"})
    device.connect()
    assert device.call(PTZ, {"camera": "4", "center": "960,540"}).status_code == 204
    first = device.position()
    assert calibrate(device, 4, off={2: (2.0, 0.0)}) == 51
    after = device.twin.state(device.host)
    assert after["session"] is None
    assert after["calibrated"]["4"] is True
    device.call(PTZ, {"move": "home"}, endpoint="ptz")
    assert device.call(PTZ, {"camera": "4", "center": "960,540"}).status_code == 204
    assert device.position() == first


def test_51_then_restart_works(device):
    assert calibrate(device, 1, off={1: (0.0, 2.0)}) == 51
    assert calibrate(device, 1) is None


def test_10_ontarget_without_position_and_no_link(device):
    device.success(CAL + "start.cgi")
    device.success(CAL + "selecttarget.cgi", {"x": "0", "y": "0"})
    assert device.error(CAL + "ontarget.cgi") == 10


def test_ontarget_uses_tracked_ptz_position(device):
    device.connect()
    device.success(CAL + "start.cgi", {"camera": "1"})
    for x, y in GOOD_POINTS[:4]:
        pan, tilt = truth(device, 1, x, y)
        device.success(CAL + "selecttarget.cgi", {"x": x, "y": y})
        assert device.call(PTZ, {"pan": repr(pan), "tilt": repr(tilt)}, endpoint="ptz").status_code == 204
        device.success(CAL + "ontarget.cgi")
    device.success(CAL + "save.cgi")
    assert device.twin.state(device.host)["calibrated"]["1"] is True


@pytest.mark.parametrize("cgi,args", [
    ("start.cgi", {"camera": "0"}), ("start.cgi", {"camera": "5"}), ("start.cgi", {"camera": "abc"}),
    ("start.cgi", {"camera": ""}), ("start.cgi", {"camera": "1.0"}), ("start.cgi", {"head": "1"}),
    ("abort.cgi", {"camera": "1"}), ("save.cgi", {"force": "1"}), ("getinformation.cgi", {"x": "1"}),
    ("iscalibrated.cgi", {"camera": "1"}), ("schemaversions.cgi", {"schemaversion": "1"}),
])
def test_20_invalid_arguments(device, cgi, args):
    assert device.error(CAL + cgi, args) == 20


@pytest.mark.parametrize("args", [
    {"x": "1.5", "y": "0"}, {"x": "0", "y": "-1.01"}, {"x": "nan", "y": "0"}, {"x": "inf", "y": "0"},
    {"x": "abc", "y": "0"}, {"x": "0"}, {"y": "0"}, {}, {"x": "0", "y": "0", "z": "0"}, {"x": "", "y": "0"},
])
def test_20_selecttarget(device, args):
    device.success(CAL + "start.cgi")
    assert device.error(CAL + "selecttarget.cgi", args) == 20


@pytest.mark.parametrize("args", [
    {"pan": "abc", "tilt": "0"}, {"pan": "181", "tilt": "0"}, {"pan": "-180.5", "tilt": "0"},
    {"pan": "0", "tilt": "21"}, {"pan": "0", "tilt": "-90.5"}, {"pan": "0"}, {"tilt": "0"},
    {"pan": "nan", "tilt": "0"}, {"pan": "0", "tilt": "-inf"}, {"pan": "0", "tilt": "0", "zoom": "1"},
])
def test_20_ontarget(device, args):
    device.success(CAL + "start.cgi")
    device.success(CAL + "selecttarget.cgi", {"x": "0", "y": "0"})
    assert device.error(CAL + "ontarget.cgi", args) == 20


@pytest.mark.parametrize("cgi", ["start.cgi", "abort.cgi", "selecttarget.cgi", "ontarget.cgi", "save.cgi",
                                 "getinformation.cgi", "iscalibrated.cgi"])
@pytest.mark.parametrize("version", ["2", "abc", "1.5"])
def test_40_unsupported_schema(device, cgi, version):
    assert device.error(CAL + cgi, {"schemaversion": version}) == 40


def test_schema_version_1_accepted(device):
    device.success(CAL + "start.cgi", {"schemaversion": "1", "camera": "2"})
    device.success(CAL + "abort.cgi", {"schemaversion": "1.0"})


def test_calibration_recentres_within_a_tenth(device):
    assert calibrate(device, 3) is None
    device.connect()
    worst = 0.0
    for px, py in [(0, 0), (1920, 1080), (960, 540), (100, 900), (1800, 200), (1500, 700), (480, 300)]:
        assert device.call(PTZ, {"camera": "3", "center": f"{px},{py}"}).status_code == 204
        pan, tilt, _zoom = device.position()
        true_pan, true_tilt = truth(device, 3, 2 * px / 1920 - 1, 1 - 2 * py / 1080)
        if true_tilt <= 20:
            worst = max(worst, angular_distance(pan, tilt, true_pan, true_tilt))
    assert worst < 0.1


def test_center_scales_each_axis_of_the_client_image(device):
    assert calibrate(device, 1) is None
    device.connect()
    assert device.call(PTZ, {"camera": "1", "center": "160,45", "imagewidth": "640",
                             "imageheight": "360"}).status_code == 204
    pan, tilt, _zoom = device.position()
    true_pan, true_tilt = truth(device, 1, 2 * 160 / 640 - 1, 1 - 2 * 45 / 360)
    assert angular_distance(pan, tilt, true_pan, true_tilt) < 0.1
    assert device.call(PTZ, {"camera": "1", "center": "10,90", "imagewidth": "20",
                             "imageheight": "120"}).status_code == 204
    pan, tilt, _zoom = device.position()
    true_pan, true_tilt = truth(device, 1, 0.0, -0.5)
    assert angular_distance(pan, tilt, true_pan, true_tilt) < 0.1


def test_areazoom_moves_and_zooms(device):
    assert calibrate(device, 2) is None
    device.connect()
    assert device.call(PTZ, {"camera": "2", "areazoom": "960,540,300"}).status_code == 204
    pan, tilt, zoom = device.position()
    true_pan, true_tilt = truth(device, 2, 0, 0)
    assert angular_distance(pan, tilt, true_pan, true_tilt) < 0.1
    assert LIMITS.magnification(zoom) == pytest.approx(3.0, rel=2e-3)
    assert device.call(PTZ, {"camera": "2", "areazoom": "960,540,50"}).status_code == 204
    assert LIMITS.magnification(device.position()[2]) == pytest.approx(1.5, rel=2e-3)
    assert device.call(PTZ, {"camera": "2", "areazoom": "960,540,10"}).status_code == 204
    assert device.position()[2] == 1


def test_center_errors(device):
    response = device.call(PTZ, {"camera": "2", "center": "20,50"})
    assert (response.status_code, response.text) == (200, "Error: camera 2 is not calibrated\n")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert calibrate(device, 2) is None
    response = device.call(PTZ, {"camera": "2", "center": "20,50"})
    assert response.text == "Error: no connection to the remote camera\n"
    device.connect()
    assert device.call(PTZ, {"camera": "2", "center": "20,50"}).status_code == 204
    assert device.call(PTZ, {"camera": "2", "center": "40,50"}, method="POST").status_code == 204
    assert device.call(PTZ, {"camera": "2", "areazoom": "40,50,100"}, method="POST").status_code == 204
    for args in ({"camera": "5", "center": "1,1"}, {"camera": "2", "center": "1"},
                 {"camera": "2", "center": "2000,1"}, {"camera": "2", "center": "a,b"},
                 {"camera": "2", "areazoom": "1,1,0"}, {"camera": "2"},
                 {"camera": "2", "center": "1,1", "areazoom": "1,1,200"},
                 {"camera": "2", "center": "1,1", "imagewidth": "0"},
                 {"camera": "2", "pan": "10"}):
        response = device.call(PTZ, args)
        assert response.status_code == 200 and response.text.startswith("Error: "), (args, response.text)


def test_knock_shifts_truth_and_stored_calibration_drifts(device):
    assert calibrate(device, 1) is None
    device.connect()
    before = truth(device, 1, 0, 0)
    device.twin.knock(device.host, 3.0)
    after = truth(device, 1, 0, 0)
    assert wrap180(after[0] - before[0]) == pytest.approx(3.0, abs=1e-9)
    assert after[1] == pytest.approx(before[1], abs=1e-9)
    assert device.call(PTZ, {"camera": "1", "center": "960,540"}).status_code == 204
    pan, tilt, _zoom = device.position()
    assert angular_distance(pan, tilt, *after) == pytest.approx(3.0 * math.cos(math.radians(after[1])), abs=0.1)
    assert calibrate(device, 1) is None
    assert device.call(PTZ, {"camera": "1", "center": "960,540"}).status_code == 204
    pan, tilt, _zoom = device.position()
    assert angular_distance(pan, tilt, *after) < 0.1
