# -*- coding: utf-8 -*-
"""playbooks/report.yml against the twin, the page checked as a person gets it: in headless Chromium."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from html.parser import HTMLParser

import pytest
import yaml

from tests.integration.conftest import PLAYBOOKS, device, fresh_units, hand_calibrate
from tests.sites import write_site as site_inventory

SITE = PLAYBOOKS / "site.yml"
REPORT = PLAYBOOKS / "report.yml"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")
# The header's background (#1d2330): the screenshot shows the page with its inline style applied.
HEADER_RGB = (0x1d, 0x23, 0x30)


# --- the browser ---------------------------------------------------------------------------------------------

def chromium(directory, *args):
    """One headless Chromium run on a new, empty profile; returns its stdout."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed: run tests/utils/install-chromium (Debian's chromium, as root)")
    profile = tempfile.mkdtemp(prefix="chromium-", dir=directory)
    done = subprocess.run([binary, *CHROMIUM_FLAGS, "--user-data-dir=%s" % profile, *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def browse(report):
    """The DOM Chromium builds from the report."""
    return Page(chromium(report.parent, "--dump-dom", report.as_uri()))


def screenshot(report):
    """What a person sees of the report in a 1400x2000 window, as PNG bytes."""
    png = report.with_suffix(".png")
    chromium(report.parent, "--screenshot=%s" % png, "--window-size=1400,2000", report.as_uri())
    assert png.exists(), "no screenshot"
    return png.read_bytes()


class DevTools:
    """Headless Chromium driven over its DevTools pipe (fds 3 and 4), for what a DOM dump cannot tell: how long
    a page takes to load, what it requests, whether its images decode. Use as a context manager."""

    def __init__(self, directory, window="1400,2000"):
        binary = shutil.which("chromium")
        if binary is None:
            pytest.fail("chromium is not installed: run tests/utils/install-chromium (Debian's chromium, as root)")
        theirs_in, self._out = os.pipe()
        self._in, theirs_out = os.pipe()

        def wire():
            # Out of the way first: a pipe end may itself be fd 3 or 4.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (theirs_in, theirs_out)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        profile = tempfile.mkdtemp(prefix="chromium-", dir=directory)
        self.process = subprocess.Popen(  # pylint: disable=subprocess-popen-preexec-fn
            [binary, *CHROMIUM_FLAGS, "--user-data-dir=%s" % profile, "--remote-debugging-pipe",
             "--window-size=%s" % window, "about:blank"],
            preexec_fn=wire, pass_fds=(3, 4), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(theirs_in)
        os.close(theirs_out)
        self._buffer, self._events, self._ids = b"", [], 0
        page = [t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page"][0]
        self.session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.send("Browser.close", timeout=10)
            self.process.wait(timeout=10)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._in)
            os.close(self._out)

    def _message(self, deadline):
        while b"\0" not in self._buffer:
            ready, _w, _x = select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, "Chromium did not answer in time"
            chunk = os.read(self._in, 1 << 20)
            assert chunk, "Chromium closed its DevTools pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, session=None, timeout=120, **params):
        """One command (to the page's session when `session` is true); its result. Events wait in a queue."""
        self._ids += 1
        message = {"id": self._ids, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._ids:
                assert "error" not in answer, "%s: %s" % (method, answer["error"])
                return answer["result"]
            self._events.append(answer)

    def events(self, method):
        return [e["params"] for e in self._events if e.get("method") == method]

    def wait(self, method, timeout=120):
        deadline = time.monotonic() + timeout
        while not self.events(method):
            self._events.append(self._message(deadline))
        return self.events(method)[0]

    def open(self, url):
        """Load a page, recording the requests it makes; returns the seconds until its load event."""
        self.send("Network.enable", session=True)
        self.send("Page.enable", session=True)
        started = time.monotonic()
        self.send("Page.navigate", session=True, url=url)
        self.wait("Page.loadEventFired")
        return time.monotonic() - started

    def requests(self):
        return [e["request"]["url"] for e in self.events("Network.requestWillBeSent")]

    def run(self, script):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        answer = self.send("Runtime.evaluate", session=True, expression=script, awaitPromise=True,
                           returnByValue=True)
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    @property
    def text(self):
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text)
        return " ".join(" ".join(parts).split())

    def find_all(self, tag=None, cls=None, **attrs):
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if ((tag is None or child.tag == tag) and (cls is None or cls in child.classes)
                        and all(child.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())):
                    found.append(child)
                found.extend(child.find_all(tag, cls, **attrs))
        return found

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        assert len(found) == 1, "expected one <%s class=%s %s>, found %d" % (tag, cls, attrs, len(found))
        return found[0]


class Page(HTMLParser):
    """The DOM as Chromium serialized it, as a tree of Nodes."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, dom):
        super().__init__()
        self.dom = dom
        self.root = self.current = Node("#document", {})
        self.feed(dom)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)

    def unit(self, name):
        return self.root.find("section", id="unit-%s" % name)

    def count(self, name):
        return self.root.find("div", id="count-%s" % name).find("dd").text


def png_rows(png, rows):
    """Width, height and the first `rows` rows of an 8-bit RGB(A) PNG as lists of pixels (standard library only)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert depth == 8 and colour in (2, 6), "unexpected PNG format %d/%d" % (depth, colour)
    channels = 3 if colour == 2 else 4
    data, offset = b"", 8
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        if kind == b"IDAT":
            data += png[offset + 8:offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompressobj().decompress(data, (1 + width * channels) * rows)
    stride = width * channels
    previous = bytearray(stride)
    decoded = []
    for row in range(rows):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                corner = previous[i - channels] if i >= channels else 0
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        decoded.append([tuple(line[i:i + 3]) for i in range(0, stride, channels)])
        previous = line
    return width, height, decoded


# --- the checks ----------------------------------------------------------------------------------------------

def assert_self_contained(html):
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html
    assert "url(" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)


def assert_screenshot(png):
    width, height, rows = png_rows(png, 40)
    assert (width, height) == (1400, 2000)
    assert len(png) > 20000, "a screenshot of %d bytes is next to blank" % len(png)
    assert rows[10][5] == HEADER_RGB, "the header is not drawn: %r" % (rows[10][5],)
    assert len({pixel for row in rows for pixel in row}) > 8, "the header has no text"


def assert_drawings(section, points, cameras=(1, 2, 3, 4)):
    """One drawing per head, one numbered circle per point of its set, where the point puts it (y up)."""
    figures = section.find_all("figure", cls="head")
    assert [int(f.attrs["data-camera"]) for f in figures] == list(cameras)
    for figure in figures:
        expected = points.get(int(figure.attrs["data-camera"]), [])
        svg = figure.find("svg")
        circles = svg.find_all("circle")
        assert len(circles) == len(expected)
        assert [t.text for t in svg.find_all("text")] == [str(n) for n in range(1, len(expected) + 1)]
        for circle, point in zip(circles, expected):
            assert float(circle.attrs["cx"]) == pytest.approx((point["x"] + 1) * 80, abs=0.06)
            assert float(circle.attrs["cy"]) == pytest.approx((1 - point["y"]) * 45, abs=0.06)


def head_drift(section, camera):
    caption = section.find("figure", data_camera=str(camera)).find("figcaption").text
    found = re.search(r"drift (\d+\.\d+)° \(tolerance 1°\)", caption)
    assert found, caption
    return float(found.group(1)), caption


def point_classes(section, camera):
    return [g.classes[1] for g in section.find("figure", data_camera=str(camera)).find_all("g", cls="point")]


def report_written(run):
    """The path the report play printed: once, on the controller, for one of the units (so --limit keeps it)."""
    found = run.results("Report written")
    assert len(found) == 1, run.output
    return found[0]["result"]["msg"]


def points_of(inventory, unit):
    heads = yaml.safe_load((inventory.parent / "host_vars" / ("%s.yml" % unit)).read_text())["q6000_calibration_heads"]
    return {head["camera"]: head["points"] for head in heads}


# --- the tests -----------------------------------------------------------------------------------------------

def test_rollout_and_report_in_one_run_show_the_drifted_head_and_a_unit_that_cannot_be_read(ansible, twin, workdir):
    units = fresh_units(twin, 4)
    drifted, unreadable = units[0], units[3]
    # Two heads with point sets (of four): enough to draw both kinds, and the drift check moves the PTZ less.
    inventory = site_inventory(twin, workdir / "site-report", units, cameras=(1, 2))
    limit = ",".join(units)
    for unit in units:
        twin.settings(unit, ptz_speed=0)
    first = ansible(SITE, inventory, limit=limit, extra_vars={"q6000_serial": "100%"})
    assert first.rc == 0, first.output
    points = {unit: points_of(inventory, unit) for unit in units}
    hand_calibrate(twin, drifted, 2, [dict(p, pan=p["pan"] + 3.0) for p in points[drifted][2]])
    # Only the report reads schemaversions.cgi: the rollout passes, the report's read of this unit fails.
    twin.fault(unreadable, "/axis-cgi/remotecameracontrol/schemaversions.cgi", "http500", count=5)

    report = workdir / "site-report" / "fleet.html"
    run = ansible([SITE, REPORT], inventory, limit=limit, extra_vars={
        "q6000_serial": "100%", "q6000_recalibrate": "when_drifted", "q6000_report_path": str(report)})
    assert run.rc == 0, run.output
    assert report_written(run) == str(report)
    assert "HTTP 500" in run.result("Read identity, link and calibration", unreadable)["msg"]
    html = report.read_text()
    assert_self_contained(html)
    for unit in units:
        assert twin.hosts[unit]["q6000_password"] not in html

    assert_screenshot(screenshot(report))
    page = browse(report)
    # Problems first (the drifted unit, the failed one), each group in inventory order.
    assert [s.attrs["id"] for s in page.root.find_all("section", cls="unit")] == \
        ["unit-%s" % u for u in (drifted, unreadable, units[1], units[2])]
    assert page.count("units") == "4"
    assert page.count("link") == "3 of 4"
    assert page.count("heads") == "6 of 12"
    assert page.count("failed") == "1"
    assert page.count("drifted") == "1 of 8 measured"
    assert page.root.find("p", cls="failed-list").text == "Failed: %s" % unreadable
    assert page.root.find("p", cls="drifted-list").text == "Drifted: %s" % drifted

    for unit in units[:3]:
        section = page.unit(unit)
        assert "failed" not in section.classes
        assert section.find("dd", cls="model").text == "Q6000-E"
        assert section.find("dd", cls="firmware").text == "6.50.1"
        status = section.find("dd", cls="link").find("span", cls="status")
        assert status.text == "0 Connection OK" and "link-0" in status.classes
        assert section.find("dd", cls="calibrated").text == "1, 2 of 4 heads"
        assert section.find("dd", cls="session-state").text == "none"
        assert_drawings(section, points[unit])

    section = page.unit(drifted)
    drift, caption = head_drift(section, 2)
    assert 2.5 < drift < 3.5
    assert "drifted" in caption and "recalibrated" in caption
    assert "flagged" in section.classes and "flagged" in section.find("figure", data_camera="2").classes
    assert section.find("figure", data_camera="2").find("span", cls="drift").classes == ["drift", "over"]
    assert "flagged" not in section.find("figure", data_camera="1").classes
    assert point_classes(section, 2) == ["drift-over"] * 5
    summary = section.find("dd", cls="drift-summary")
    assert summary.find("span", cls="over").text == "head 2 %.2f°" % drift
    assert head_drift(section, 1)[0] < 0.2
    assert point_classes(section, 1) == ["drift-ok"] * 5
    assert "drift not measured" in section.find("figure", data_camera="3").find("figcaption").text
    assert head_drift(page.unit(units[1]), 2)[0] < 0.2

    section = page.unit(unreadable)
    assert "failed" in section.classes
    error = section.find("dd", cls="error").text
    assert "schemaversions.cgi" in error and "HTTP 500" in error
    assert section.find_all("dd", cls="model") == []
    # What the inventory and this run's rollout know of its heads, without the device's word.
    assert_drawings(section, points[unreadable], cameras=(1, 2))
    assert head_drift(section, 1)[0] < 0.2
    twin.reset(unreadable)


def test_report_alone_says_what_is_not_measured_and_shows_a_session_and_a_failed_unit(ansible, twin, workdir):
    units = fresh_units(twin, 3)
    plain, in_session, failing = units
    inventory = site_inventory(twin, workdir / "site-alone", units, cameras=(1, 3))
    # Inventory text must come out as text, never as markup.
    host_vars = inventory.parent / "host_vars" / ("%s.yml" % plain)
    heads = yaml.safe_load(host_vars.read_text())
    heads["q6000_calibration_heads"][0]["points"][0]["pan"] = "<script>alert(1)</script>"
    host_vars.write_text(yaml.safe_dump(heads))
    device(twin, in_session, "ptremotecalibration/start.cgi", camera=3)
    device(twin, in_session, "ptremotecalibration/selecttarget.cgi", x=0.25, y=-0.5)
    twin.fault(failing, "*", "http500", count=50)

    run = ansible(REPORT, inventory, limit=",".join(units))
    assert run.rc == 0, run.output
    report = (workdir / "q6000-report.html").resolve()
    assert report_written(run) == str(report)
    html = report.read_text()
    assert_self_contained(html)

    assert_screenshot(screenshot(report))
    page = browse(report)
    assert [s.attrs["id"] for s in page.root.find_all("section", cls="unit")] == \
        ["unit-%s" % u for u in (failing, plain, in_session)]
    assert (page.count("units"), page.count("link"), page.count("heads"), page.count("failed"),
            page.count("drifted")) == ("3", "0 of 3", "0 of 8", "1", "0 of 0 measured")
    assert page.root.find_all("p", cls="drifted-list") == []
    for unit in (plain, in_session):
        section = page.unit(unit)
        status = section.find("dd", cls="link").find("span", cls="status")
        assert status.text == "3 Not authorized" and "link-3" in status.classes
        assert "link-3" in section.classes
        assert section.find("dd", cls="calibrated").text == "none of 4 heads"
        assert section.find("dd", cls="drift-summary").text == "not measured"
        assert_drawings(section, points_of(inventory, unit))
        for figure in section.find_all("figure", cls="head"):
            caption = figure.find("figcaption").text
            assert "not calibrated" in caption and "drift not measured" in caption
        assert {c for camera in (1, 3) for c in point_classes(section, camera)} == {"drift-none"}
    assert page.root.find_all("script") == []
    first = heads["q6000_calibration_heads"][0]["points"][0]
    assert page.unit(plain).find_all("title")[0].text.startswith(
        "Point 1: x %s, y %s, pan <script>alert(1)</script>" % (first["x"], first["y"]))
    assert page.unit(plain).find("dd", cls="session-state").text == "none"

    section = page.unit(in_session)
    assert section.find("dd", cls="session-state").text == "open on head 3, target x 0.25, y -0.5"
    head = section.find("figure", data_camera="3")
    assert "session open" in head.find("figcaption").text
    assert head.find("path", cls="target").attrs["d"] == "M94.0 67.5h12M100.0 61.5v12"
    assert "session open" not in section.find("figure", data_camera="1").find("figcaption").text

    section = page.unit(failing)
    assert "failed" in section.classes
    assert "HTTP 500" in section.find("dd", cls="error").text
    assert_drawings(section, points_of(inventory, failing), cameras=(1, 3))
    twin.reset(failing)


def test_a_unit_the_rollout_lost_is_a_failed_entry_when_both_playbooks_run_as_one(ansible, twin, workdir):
    """ansible-playbook stops before its next playbook once a host failed; imported plays go on without it."""
    units = fresh_units(twin, 2)
    healthy, lost = units
    inventory = site_inventory(twin, workdir / "site-lost", units, cameras=(2,))
    twin.fault(lost, "*", "http500", count=50)
    both = [{"name": "Roll out", "ansible.builtin.import_playbook": str(SITE)},
            {"name": "Report", "ansible.builtin.import_playbook": str(REPORT)}]
    report = workdir / "site-lost" / "report.html"
    # A failure budget of half the batch: the rollout goes on past the lost unit, to the report.
    run = ansible(both, inventory, limit=",".join(units),
                  extra_vars={"q6000_serial": "100%", "q6000_max_fail_percentage": 50, "q6000_report_path": str(report)})
    assert run.rc == 2, run.output
    assert run.results("Read identity, link and calibration", lost) == []
    assert report_written(run) == str(report)

    page = browse(report)
    assert page.count("failed") == "1"
    assert [s.attrs["id"] for s in page.root.find_all("section", cls="unit")] == ["unit-%s" % lost, "unit-%s" % healthy]
    section = page.unit(lost)
    assert "failed" in section.classes
    assert section.find("dd", cls="error").text == \
        "remotecameracontrol/getvapixparams.cgi on 127.0.0.1: HTTP 500 from the device"
    section = page.unit(healthy)
    assert section.find("dd", cls="calibrated").text == "2 of 4 heads"
    assert_drawings(section, points_of(inventory, healthy))
    twin.reset(lost)
