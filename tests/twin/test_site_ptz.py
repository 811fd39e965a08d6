"""What a real site does to the PTZ: click-to-zoom through the Q6000-E, integer-only clicks, positions that
wobble at rest, approximate areazoom, and a person who takes the PTZ (`/emulator/operator`)."""

from __future__ import annotations

import time

import pytest

from tests.emulator.process import TwinError
from tests.emulator.ptz import LIMITS
from tests.twin.helpers import PTZ, calibrate, lines, wait_for


def ptz(device, **args):
    """A command to the PTZ itself that must move it (204)."""
    response = device.call(PTZ, {k: str(v) for k, v in args.items()}, endpoint="ptz")
    assert response.status_code == 204, response.text


def overview(device, **args):
    """A click through the Q6000-E (camera 1) that must move the PTZ (204)."""
    response = device.call(PTZ, {"camera": "1", **{k: str(v) for k, v in args.items()}})
    assert response.status_code == 204, response.text


def zoom_now(device) -> int:
    return device.twin.state(device.host)["ptz"]["zoom"]


def ready_overview(device) -> None:
    """Head 1 calibrated from exact points and the link up: clicks through the Q6000-E move the PTZ."""
    assert calibrate(device, 1) is None
    device.connect()


# -- click_zoom ---------------------------------------------------------------------------------------------


def test_click_zoom_zooms_in_after_a_click_through_the_q6000(device):
    ready_overview(device)
    ptz(device, zoom=2000)
    overview(device, center="960,540")
    assert zoom_now(device) == 2000  # click_zoom 1: today's behaviour
    device.twin.settings(device.host, click_zoom=2)
    overview(device, center="960,540")
    assert LIMITS.field_angle(zoom_now(device)) == pytest.approx(LIMITS.field_angle(2000) / 2, rel=2e-3)
    ptz(device, zoom=2000)
    overview(device, areazoom="960,540,200")  # the command doubles the magnification, the click halves the field
    commanded = LIMITS.zoom_for(LIMITS.magnification(2000) * 2)
    assert LIMITS.field_angle(zoom_now(device)) == pytest.approx(LIMITS.field_angle(commanded) / 2, rel=3e-3)


def test_click_zoom_leaves_the_ptzs_own_clicks_alone(device):
    device.twin.settings(device.host, click_zoom=2)
    ptz(device, zoom=2000)
    ptz(device, center="960,540")
    assert zoom_now(device) == 2000
    ptz(device, areazoom="960,540,200")
    assert zoom_now(device) == LIMITS.zoom_for(LIMITS.magnification(2000) * 2)  # what Z says, no more


# -- integer_center -----------------------------------------------------------------------------------------


REFUSED = ({"center": "12.5,3"}, {"center": "100,100", "imagewidth": "19200"},
           {"center": "100,100", "imageheight": "1081"}, {"areazoom": "100,100,150.5"}, {"areazoom": "1e2,3,200"})


def test_integer_center_refuses_fractions_and_sizes_beyond_the_stream(device):
    ready_overview(device)
    device.twin.settings(device.host, integer_center=True)
    for endpoint, extra in (("ptz", {}), ("q6000", {"camera": "1"})):
        for args in REFUSED:
            response = device.call(PTZ, {**extra, **args}, endpoint=endpoint)
            assert response.status_code == 200, (endpoint, args)
            assert response.text.startswith("Error:"), (endpoint, args, response.text)
        for args in ({"center": "960,540"}, {"center": "100,100", "imagewidth": "1920", "imageheight": "1080"},
                     {"areazoom": "640,360,100", "imagewidth": "1280", "imageheight": "720"}):
            response = device.call(PTZ, {**extra, **args}, endpoint=endpoint)
            assert response.status_code == 204, (endpoint, args, response.text)
    assert device.twin.counters(device.host)["cgi"]["/axis-cgi/com/ptz.cgi"] == len(REFUSED) + 3


def test_without_integer_center_fractions_and_large_sizes_work(device):
    ready_overview(device)
    for endpoint, extra in (("ptz", {}), ("q6000", {"camera": "1"})):
        for args in ({"center": "12.5,3"}, {"center": "100,100", "imagewidth": "19200"},
                     {"areazoom": "100.5,100,150.5"}):
            response = device.call(PTZ, {**extra, **args}, endpoint=endpoint)
            assert response.status_code == 204, (endpoint, args, response.text)


# -- position_decimals, position_jitter ---------------------------------------------------------------------


def test_position_decimals(device):
    device.twin.settings(device.host, position_decimals=2)
    ptz(device, pan=12.3456, tilt=-5.6789)
    values = lines(device.call(PTZ, {"query": "position"}, endpoint="ptz").text)
    assert (values["pan"], values["tilt"]) == ("12.35", "-5.68")


def test_position_jitter_at_rest(device):
    device.twin.settings(device.host, position_jitter=0.3)
    ptz(device, pan=10, tilt=-10, zoom=500)
    seen = set()
    for _query in range(20):
        pan, tilt, zoom = device.position()
        assert abs(pan - 10) <= 0.3 + 1e-4 and abs(tilt + 10) <= 0.3 + 1e-4, (pan, tilt)
        assert zoom == 500
        seen.add((pan, tilt))
    assert len(seen) > 1
    state = device.twin.state(device.host)["ptz"]
    assert (state["pan"], state["tilt"]) == (10, -10)  # the truth stays exact


def test_position_jitter_not_while_moving(device):
    device.twin.settings(device.host, position_jitter=1.0, ptz_speed=20)
    ptz(device, pan=60)  # three seconds on the way
    first = device.position()[0]
    second = device.position()[0]
    assert 0 <= first <= second < 60  # the true, growing position: no wobble of up to a degree back
    ptz(device, **{"move": "stop"})


# -- areazoom_error -----------------------------------------------------------------------------------------


def test_areazoom_error_within_the_bound(device):
    ready_overview(device)
    device.twin.settings(device.host, areazoom_error=0.2)
    ratios = []
    for endpoint in ("ptz", "q6000") * 4:
        ptz(device, zoom=1500)
        if endpoint == "ptz":
            ptz(device, areazoom="960,540,300")
        else:
            overview(device, areazoom="960,540,300")
        ratios.append(LIMITS.magnification(zoom_now(device)) / (3 * LIMITS.magnification(1500)))
    assert all(0.8 - 1e-3 <= r <= 1.2 + 1e-3 for r in ratios), ratios
    assert max(abs(r - 1) for r in ratios) > 0.01, ratios


# -- a person takes the PTZ ---------------------------------------------------------------------------------


def test_operator_moves_the_ptz_at_its_time_and_leaves_it(device):
    twin, host = device.twin, device.host
    assert twin.operator_state(host) == {"pending": False, "happened": False, "ptz": None, "commands_after": 0}
    started = time.monotonic()
    answer = twin.operator(host, 1.5, 40, -15, 3000)
    assert answer == {"pending": True, "happened": False, "ptz": {"pan": 40, "tilt": -15, "zoom": 3000},
                      "commands_after": 0}
    time.sleep(0.3)
    assert device.position() == (0, 0, 1)
    assert twin.operator_state(host)["pending"] is True
    wait_for(lambda: twin.operator_state(host)["happened"], timeout=8, interval=0.02)
    assert time.monotonic() - started >= 1.5
    assert twin.operator_state(host)["pending"] is False
    assert device.position() == (40, -15, 3000)
    time.sleep(0.2)
    state = twin.state(host)["ptz"]
    assert (state["pan"], state["tilt"], state["zoom"]) == (40, -15, 3000)


def test_operator_moves_at_the_ptz_speed(device):
    twin, host = device.twin, device.host
    twin.settings(host, ptz_speed=20)
    twin.operator(host, 0.2, 60, 0, 1)  # a 3 s move
    wait_for(lambda: twin.operator_state(host)["happened"], timeout=8, interval=0.02)
    state = twin.state(host)["ptz"]
    assert state["moving"] is True and state["pan"] < 60
    wait_for(lambda: twin.state(host)["ptz"]["pan"] == 60, timeout=8)


def test_operator_happens_without_any_request(device):
    twin, host = device.twin, device.host
    twin.settings(host, ptz_speed=100)
    twin.operator(host, 0.2, -30, 0, 1)
    time.sleep(1.5)  # no request meanwhile: the 0.3 s move started at 0.2 s on its own (not at the next request)
    state = twin.state(host)["ptz"]
    assert (state["pan"], state["moving"]) == (-30, False)


def test_a_new_request_replaces_a_pending_one(device):
    twin, host = device.twin, device.host
    twin.operator(host, 1.5, 10, -5, 100)
    answer = twin.operator(host, 4.0, -30, -20, 2000)
    assert answer["ptz"] == {"pan": -30, "tilt": -20, "zoom": 2000} and answer["pending"] is True
    time.sleep(2.5)
    assert device.position() == (0, 0, 1)
    wait_for(lambda: twin.operator_state(host)["happened"], timeout=8, interval=0.02)
    assert device.position() == (-30, -20, 2000)


def test_factory_reset_clears_a_pending_person(device):
    twin, host = device.twin, device.host
    twin.operator(host, 1.5, 10, -5, 100)
    twin.factory_reset(host)
    time.sleep(2.0)
    assert twin.operator_state(host) == {"pending": False, "happened": False, "ptz": None, "commands_after": 0}
    assert device.position() == (0, 0, 1)


def test_operator_after_pictures_moves_as_the_ptz_serves_that_picture(device):
    twin, host = device.twin, device.host
    answer = twin.operator(host, None, 40, -15, 3000, after_pictures=2)
    assert answer["pending"] is True and answer["happened"] is False
    picture = {"resolution": "640x360"}
    assert device.call("/axis-cgi/jpg/image.cgi", picture, endpoint="ptz").status_code == 200
    assert twin.operator_state(host)["pending"] is True and device.position() == (0, 0, 1)
    assert device.call("/axis-cgi/jpg/image.cgi", picture, endpoint="ptz").status_code == 200
    assert twin.operator_state(host)["happened"] is True
    assert device.position() == (40, -15, 3000)
    with pytest.raises(TwinError, match="exactly one of after and after_pictures"):
        twin.control(host, "POST", "/operator", {"after": 1, "after_pictures": 2, "pan": 0, "tilt": 0, "zoom": 1})
    with pytest.raises(TwinError, match="after_pictures must be an integer"):
        twin.operator(host, None, 0, 0, 1, after_pictures=0)


def test_commands_after_count_moves_on_both_devices(device):
    twin, host = device.twin, device.host
    ready_overview(device)
    twin.operator(host, 1.0, 40, -15, 3000)
    ptz(device, pan=5)  # before the person: not counted
    wait_for(lambda: twin.operator_state(host)["happened"], timeout=8, interval=0.02)
    assert twin.operator_state(host)["commands_after"] == 0
    device.position()
    device.call(PTZ, {"query": "limits"}, endpoint="ptz")
    assert device.call(PTZ, {"pan": "abc"}, endpoint="ptz").text.startswith("Error:")
    ptz(device, **{"move": "stop"})
    assert twin.operator_state(host)["commands_after"] == 0
    ptz(device, pan=5)
    ptz(device, rtilt=-3, rzoom=100)
    ptz(device, zoom=200)
    ptz(device, move="home")
    ptz(device, center="100,100")
    ptz(device, areazoom="100,100,150")
    overview(device, center="960,540")
    overview(device, areazoom="960,540,120")
    assert twin.operator_state(host)["commands_after"] == 8
    twin.reset(host)
    assert twin.operator_state(host)["commands_after"] == 8
    twin.operator(host, 0, 0, 0, 1)
    assert twin.operator_state(host) == {"pending": False, "happened": True,
                                         "ptz": {"pan": 0, "tilt": 0, "zoom": 1}, "commands_after": 0}


@pytest.mark.parametrize("payload", [
    {"pan": 0, "tilt": 0, "zoom": 1},
    {"after": 1, "pan": 0, "tilt": 0, "zoom": 1, "speed": 3},
    {"after": -1, "pan": 0, "tilt": 0, "zoom": 1},
    {"after": 1, "pan": 181, "tilt": 0, "zoom": 1},
    {"after": 1, "pan": 0, "tilt": 21, "zoom": 1},
    {"after": 1, "pan": 0, "tilt": 0, "zoom": 0},
    {"after": 1, "pan": 0, "tilt": 0, "zoom": 2.5},
    {"after": 1, "pan": "0", "tilt": 0, "zoom": 1},
    {"after": True, "pan": 0, "tilt": 0, "zoom": 1},
])
def test_bad_operator_requests(device, payload):
    with pytest.raises(TwinError, match=": 400 "):
        device.twin.control(device.host, "POST", "/operator", payload)
    assert device.twin.operator_state(device.host)["ptz"] is None
