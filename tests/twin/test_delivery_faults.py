"""The faults that redirect a request or change how its answer goes out: redirect307, redirect302,
trickle and late."""

from __future__ import annotations

import http.client
import select
import socket
import time

import pytest
import requests

from tests.emulator import faults
from tests.emulator.device import Settings, Unit
from tests.twin.helpers import CAL, PTZ, REMOTE, Device, challenge, digest_header, start_twin, stop_twin, wait_for

STATUS = REMOTE + "getvapixstatus.cgi"
START = CAL + "start.cgi"


def signed(device: Device, uri: str, endpoint: str = "q6000") -> tuple[int, str]:
    """(port, Authorization header) for one GET of `uri` (path and query) as root, from a fresh challenge."""
    path = uri.partition("?")[0]
    params = challenge(device.call(path, account=None, endpoint=endpoint))
    if endpoint == "q6000":
        port, user, password = device.vars["q6000_port"], "root", device.password("root")
    else:
        port, user, password = device.vars["q6000_ptz_port"], "root", device.password("ptz")
    return port, digest_header(user, password, "GET", uri, params)


def send(device: Device, uri: str, endpoint: str = "q6000") -> socket.socket:
    """A raw socket on which a signed GET of `uri` has been sent."""
    port, header = signed(device, uri, endpoint)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {uri} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {header}\r\n"
                 "Connection: close\r\n\r\n".encode())
    return sock


def receive(sock: socket.socket, timeout: float = 10.0) -> tuple[list[tuple[float, int]], bytes]:
    """Every piece read until the server closes: (monotonic time, size), and all the bytes."""
    sock.settimeout(timeout)
    pieces, data = [], b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return pieces, data
        pieces.append((time.monotonic(), len(chunk)))
        data += chunk


def split(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _sep, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _sep, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def no_answer_yet(sock: socket.socket) -> bool:
    return not select.select([sock], [], [], 0)[0]


def assert_quiet_log(twin) -> None:
    log = twin.log_text()
    assert "Traceback" not in log and "Error handling request" not in log, log


# -- redirects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,status,reason", [("redirect307", 307, "Temporary Redirect"),
                                                ("redirect302", 302, "Found")])
def test_redirect_from_q6000_to_ptz_without_running_the_cgi(device, twin, kind, status, reason):
    twin.fault(device.host, START, kind)
    response = device.session.get(device.url(START), params={"camera": "2"}, auth=device.auth("root"),
                                  allow_redirects=False, timeout=10)
    assert (response.status_code, response.reason) == (status, reason)
    assert response.headers["Location"] == twin.ptz_url(device.host) + START + "?camera=2"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert len(response.content) < 200
    assert twin.state(device.host)["session"] is None
    assert twin.counters(device.host)["cgi"][START] == 1
    assert twin.control(device.host, "GET", "/faults") == {"armed": []}
    device.success(START, {"camera": "2"})
    assert twin.state(device.host)["session"]["camera"] == 2


@pytest.mark.parametrize("kind,status", [("redirect307", 307), ("redirect302", 302)])
def test_redirect_from_ptz_to_q6000_keeps_path_and_query(device, twin, kind, status):
    twin.fault(device.host, "ptz:" + PTZ, kind)
    port, header = signed(device, PTZ + "?pan=30&tilt=-10", endpoint="ptz")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", PTZ + "?pan=30&tilt=-10", headers={"Authorization": header})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == status
    assert response.getheader("Location") == twin.base_url(device.host) + PTZ + "?pan=30&tilt=-10"
    assert len(body) < 200
    assert twin.counters(device.host)["cgi"]["ptz:" + PTZ] == 1
    assert twin.state(device.host)["ptz"]["pan"] == 0.0 and device.position()[:2] == (0.0, 0.0)


def test_redirect_with_tls_points_at_https(tmp_path_factory):
    twin = start_twin(tmp_path_factory, tls=True, state_dir=tmp_path_factory.mktemp("state"))
    try:
        device = Device(twin)
        twin.fault(device.host, STATUS, "redirect307")
        twin.fault(device.host, "ptz:" + PTZ, "redirect302")
        response = device.session.get(device.url(STATUS), auth=device.auth("root"), allow_redirects=False)
        assert response.status_code == 307
        assert response.headers["Location"] == twin.ptz_url(device.host) + STATUS
        assert response.headers["Location"].startswith("https://127.0.0.1:")
        response = device.session.get(device.url(PTZ, "ptz"), params={"query": "position"},
                                      auth=device.auth("ptz"), allow_redirects=False)
        assert response.status_code == 302
        assert response.headers["Location"] == twin.base_url(device.host) + PTZ + "?query=position"
        assert response.headers["Location"].startswith("https://127.0.0.1:")
        device.session.close()
    finally:
        stop_twin(twin)


def test_endpoint_base_urls():
    unit = Unit(0, "1", "::1", Settings(), tls=True)
    unit.q6000.port, unit.ptz.port = 8000, 8001
    assert unit.q6000.other.base_url == "https://[::1]:8001"
    assert unit.ptz.other.base_url == "https://[::1]:8000"
    unit = Unit(0, "1", "127.0.0.2", Settings())
    unit.q6000.port, unit.ptz.port = 8000, 8001
    assert unit.q6000.other is unit.ptz and unit.ptz.other is unit.q6000
    assert unit.q6000.base_url == "http://127.0.0.2:8000"


# -- trickle -----------------------------------------------------------------------------------

@pytest.mark.parametrize("uri,endpoint,key", [(STATUS, "q6000", STATUS),
                                              (PTZ + "?query=position", "ptz", "ptz:" + PTZ)])
def test_trickle_spreads_the_full_body_over_seconds(device, twin, uri, endpoint, key):
    path, _sep, query = uri.partition("?")
    args = dict([query.split("=")]) if query else None
    expected = device.call(path, args, endpoint=endpoint).content
    twin.fault(device.host, key, "trickle", seconds=2.0)
    sock = send(device, uri, endpoint)
    sent = time.monotonic()
    pieces, data = receive(sock)
    sock.close()
    status, headers, body = split(data)
    assert status == 200
    assert body == expected
    assert int(headers["content-length"]) == len(expected)
    first = pieces[0][0] - sent
    assert first < 0.3, first  # status and headers at once
    head_size = len(data) - len(body)
    assert pieces[0][1] >= head_size  # the headers came whole in the first read
    elapsed = pieces[-1][0] - sent
    assert 1.8 <= elapsed < 3.0, elapsed
    times = [sent] + [t for t, _piece in pieces]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 0.5, gaps
    assert len(pieces) >= 5, pieces
    assert twin.counters(device.host)["cgi"][key] == 2


def test_trickle_beats_a_per_read_timeout(device, twin):
    expected = device.call(STATUS).content
    twin.fault(device.host, STATUS, "trickle", seconds=1.5)
    port, header = signed(device, STATUS)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.6)  # per socket operation
    started = time.monotonic()
    conn.request("GET", STATUS, headers={"Authorization": header})
    response = conn.getresponse()
    assert response.status == 200
    assert response.read() == expected
    assert time.monotonic() - started >= 1.4
    conn.close()


def test_trickle_default_seconds_and_client_leaving(device, twin):
    expected = device.call(PTZ, {"query": "position"}, endpoint="ptz").content
    twin.fault(device.host, "ptz:*", "trickle")
    sock = send(device, PTZ + "?query=position", "ptz")
    sock.settimeout(2.0)
    data = b""
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    sock.close()  # walk away in the middle of the body
    status, headers, body = split(data)
    assert status == 200 and int(headers["content-length"]) == len(expected)
    assert 0 < len(body) < len(expected) / 2  # about a fifth of it after one of five seconds
    assert expected.startswith(body)
    time.sleep(0.6)
    assert device.position() == (0.0, 0.0, 1)
    assert_quiet_log(twin)


def test_trickle_of_an_empty_body_goes_out_at_once(device, twin):
    twin.fault(device.host, "ptz:" + PTZ, "trickle", seconds=3)
    started = time.monotonic()
    response = device.call(PTZ, {"pan": "20"}, endpoint="ptz")
    assert response.status_code == 204 and response.content == b""
    assert time.monotonic() - started < 1.0
    assert device.position()[0] == 20.0


@pytest.mark.parametrize("length,seconds", [(1, 5.0), (7, 5.0), (100, 5.0), (5000, 2.0), (5000, 0.1),
                                            (5000, 0.0), (300, 0.6)])
def test_trickle_schedule(length, seconds):
    schedule = faults.trickle_schedule(length, seconds)
    assert schedule[0][:2] == (0.0, 0)
    assert schedule[-1][2] == length
    assert all(a[2] == b[1] for a, b in zip(schedule, schedule[1:]))  # contiguous
    assert all(start < end for _piece, start, end in schedule)
    gaps = [b[0] - a[0] for a, b in zip(schedule, schedule[1:])]
    assert all(0 < gap <= faults.MAX_GAP for gap in gaps)
    assert max(gaps, default=0) - min(gaps, default=0) < 1e-9  # evenly spread
    if length > seconds / faults.TRICKLE_GAP:
        assert schedule[-1][0] == pytest.approx(seconds)
    assert faults.trickle_schedule(0, 5.0) == []


# -- late --------------------------------------------------------------------------------------

def test_late_acts_at_once_and_answers_after_seconds(device, twin):
    twin.fault(device.host, START, "late", seconds=1.5)
    sock = send(device, START + "?camera=2")
    sent = time.monotonic()
    wait_for(lambda: twin.state(device.host)["session"] is not None, timeout=1.0, interval=0.02)
    assert time.monotonic() - sent < 1.0
    assert twin.state(device.host)["session"]["camera"] == 2
    assert no_answer_yet(sock)
    pieces, data = receive(sock)
    sock.close()
    assert pieces[0][0] - sent >= 1.45
    status, headers, body = split(data)
    assert status == 200 and headers["content-type"] == "text/xml"
    assert b"<GeneralSuccess" in body and int(headers["content-length"]) == len(body)
    assert twin.counters(device.host)["cgi"][START] == 1


def test_late_answer_lost_keeps_the_effect(device, twin):
    twin.fault(device.host, START, "late", seconds=1.0)
    sock = send(device, START + "?camera=3")
    wait_for(lambda: twin.state(device.host)["session"] is not None, timeout=1.0, interval=0.02)
    assert no_answer_yet(sock)
    sock.close()
    time.sleep(1.3)
    assert twin.state(device.host)["session"]["camera"] == 3
    assert device.error(START, {"camera": "1"}) == 50  # the session the lost answer opened is still there
    assert_quiet_log(twin)


def test_late_default_seconds(device, twin):
    twin.fault(device.host, STATUS, "late")
    assert twin.control(device.host, "GET", "/faults")["armed"][0] == {
        "cgi": STATUS, "kind": "late", "count": 1, "seconds": None}
    sock = send(device, STATUS)
    time.sleep(1.0)
    assert no_answer_yet(sock)
    sock.close()
    with pytest.raises(requests.ReadTimeout):
        twin.fault(device.host, STATUS, "late")
        device.session.get(device.url(STATUS), auth=device.auth("root"), timeout=(5, 2.0))
    time.sleep(4.0)  # both late answers fall due on gone clients
    assert_quiet_log(twin)
