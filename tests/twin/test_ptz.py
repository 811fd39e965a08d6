"""ptz.cgi on the Q60-E: absolute and relative moves, clamping, speed and settling, queries, errors."""

from __future__ import annotations

import time

import pytest

from tests.twin.helpers import PTZ, lines, wait_for


def move(device, **args):
    response = device.call(PTZ, {k: str(v) for k, v in args.items()}, endpoint="ptz")
    assert response.status_code == 204, response.text
    assert response.text == ""


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_absolute_move_and_position(device, method):
    response = device.call(PTZ, {"pan": "51.2891", "tilt": "-46.1914", "zoom": "500"}, endpoint="ptz",
                           method=method)
    assert response.status_code == 204
    response = device.call(PTZ, {"query": "position"}, endpoint="ptz", method=method)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == ("pan=51.2891\ntilt=-46.1914\nzoom=500\niris=6427\nfocus=8265\n"
                             "autofocus=on\nautoiris=on\n")


def test_limits(device):
    response = device.call(PTZ, {"query": "limits"}, endpoint="ptz")
    assert lines(response.text) == {"MinPan": "-180", "MaxPan": "180", "MinTilt": "-90", "MaxTilt": "20",
                                    "MinZoom": "1", "MaxZoom": "9999", "MinFieldAngle": "22",
                                    "MaxFieldAngle": "623"}


def test_clamping(device):
    move(device, pan=200, tilt=45, zoom=20000)
    assert device.position() == (180.0, 20.0, 9999)
    move(device, pan=-500, tilt=-100, zoom=0)
    assert device.position() == (-180.0, -90.0, 1)


def test_relative_moves(device):
    move(device, pan=170, tilt=-10, zoom=100)
    move(device, rpan=20, rtilt=-5, rzoom=50)
    assert device.position() == (-170.0, -15.0, 150)
    move(device, rtilt=50)
    assert device.position()[1] == 20.0
    move(device, rpan=-30)
    assert device.position()[0] == 160.0


def test_home_and_stop(device):
    move(device, pan=90, tilt=-45, zoom=3000)
    move(device, move="home")
    assert device.position() == (0.0, 0.0, 1)
    move(device, move="stop")
    assert device.position() == (0.0, 0.0, 1)


def test_moves_take_time(device, twin):
    twin.settings(device.host, ptz_speed=25.0)
    started = time.monotonic()
    move(device, pan=60, tilt=-30)
    pan, tilt, _zoom = device.position()
    assert 0 <= pan < 60 and -30 < tilt <= 0
    if pan > 1:
        assert tilt / pan == pytest.approx(-0.5, abs=0.05)
    assert twin.state(device.host)["ptz"]["moving"] is True
    wait_for(lambda: device.position()[:2] == (60.0, -30.0), timeout=6)
    assert time.monotonic() - started >= 2.35
    assert twin.state(device.host)["ptz"]["moving"] is False


def test_stop_while_moving(device, twin):
    twin.settings(device.host, ptz_speed=20.0)
    move(device, pan=-90)
    time.sleep(0.2)
    move(device, move="stop")
    pan = device.position()[0]
    assert -85 < pan < -1
    time.sleep(0.2)
    assert device.position()[0] == pan


def test_pan_takes_the_short_way(device, twin):
    move(device, pan=170)
    twin.settings(device.host, ptz_speed=100.0)
    move(device, pan=-170)
    time.sleep(0.05)
    pan = device.position()[0]
    assert pan >= 170 or pan <= -170


@pytest.mark.parametrize("args,message", [
    ({"query": "foo"}, "Error: query: unknown value: foo\n"),
    ({"pan": "abc"}, "Error: pan: invalid value: abc\n"),
    ({"tilt": "nan"}, "Error: tilt: invalid value: nan\n"),
    ({"move": "sideways"}, "Error: move: unknown value: sideways\n"),
    ({"camera": "2", "pan": "1"}, "Error: camera: invalid value: 2\n"),
    ({"pan": "1", "rpan": "1"}, "Error: pan and rpan cannot be combined\n"),
    ({"spin": "1"}, "Error: spin: unknown argument\n"),
    ({}, "Error: no command given\n"),
])
def test_errors(device, args, message):
    response = device.call(PTZ, args, endpoint="ptz")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == message


def test_counted_with_prefix(device, twin):
    move(device, pan=1)
    assert twin.counters(device.host)["cgi"] == {"ptz:/axis-cgi/com/ptz.cgi": 1}
