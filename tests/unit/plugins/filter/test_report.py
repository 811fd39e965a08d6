# -*- coding: utf-8 -*-
"""The reports' filters (plugins/filter/report.py) on variables shaped like what the playbooks register."""

from __future__ import annotations

import copy
import pathlib
import re
from collections.abc import Mapping

import jinja2

import pytest

from ansible_collections.vapix.q6000.plugins.filter.report import (FilterModule, facts_rows, report_summary,
                                                                   report_units, rollout_summary)

THUMBNAIL = "data:image/jpeg;base64,/9j/4AAQSkZJRgABA"
TEMPLATES = pathlib.Path(__file__).resolve().parents[4] / "playbooks" / "templates"


def facts(heads=4, calibrated=(1, 2), code=0, description="Connection OK", session=None, **more):
    """What vapix.q6000.calibration_facts registers (gather_subset: device, connection, calibration)."""
    status = {"code": code, "description": description}
    status.update({name: {"code": code, "description": description} for name in ("http", "https", "rtsp")})
    q6000 = {"brand": "AXIS", "model": "Q6000-E", "firmware": "6.50.1", "heads": heads,
             "calibrated": [{"camera": n, "calibrated": n in calibrated} for n in range(1, heads + 1)],
             "calibrated_heads": list(calibrated), "link_status": status, "session": session}
    q6000.update(more)
    return {"changed": False, "ansible_facts": {"q6000": q6000}}


def point_set(camera, *pixels):
    return {"camera": camera, "points": [{"x": x, "y": y, "pan": 10.0 * n, "tilt": -1.5 * n}
                                         for n, (x, y) in enumerate(pixels, 1)]}


def points_drift(camera, errors, tolerance=1.0, action="none"):
    """A head of remote_calibration's result after recalibrate=when_drifted, drift_method=points."""
    flagged = max(errors) > tolerance
    return {"camera": camera, "action": "recalibrated" if flagged else action,
            "drift": {"method": "points", "max": max(errors), "tolerance": tolerance, "flagged": flagged,
                      "points": list(errors)}}


def image_drift(camera, moved=0.05, against="baseline", recorded=None, thumbnail=THUMBNAIL, tolerance=0.3,
                rotation=None, uncertainty=0.02):
    """A head of remote_calibration's result after drift_method=image: per point its offsets, or why not; the
    head's rotation since what it was judged against (none against an old {pan, tilt} baseline)."""
    if rotation is None and against != "old baseline":
        rotation = {"yaw": moved * 0.8, "pitch": -moved * 0.6, "roll": 0.0, "angle": moved}
    head = {"camera": camera, "action": "none", "points": 3,
            "drift": {"method": "image", "status": "drifted" if moved > tolerance else "ok",
                      "flagged": moved > tolerance, "tolerance": tolerance, "max": 0.41, "pairs": 2, "reason": None,
                      "rotation": rotation, "uncertainty": uncertainty if rotation else None, "moved": moved,
                      "thumbnail": thumbnail, "against": against,
                      "points": [{"error": 0.1, "pan": 0.08, "tilt": -0.06, "x": -0.6, "y": 0.5},
                                 {"error": None, "pan": None, "tilt": None, "x": 0.6, "y": 0.5,
                                  "reason": "no consistent mapping of the target into the PTZ's picture"},
                                 {"error": 0.41, "pan": 0.4, "tilt": 0.09, "x": 0.0, "y": 0.0}]}}
    if recorded:
        head["baseline"] = recorded
    return head


def not_measured(camera, reason="PTZ in use", found=0):
    """A head the image check could not judge: action none, no rotation nor move; `found` of its 3 points found."""
    points = [{"error": 0.1, "pan": 0.08, "tilt": -0.06, "x": -0.6, "y": 0.5}][:found] + [
        {"error": None, "pan": None, "tilt": None, "x": 0.6, "y": 0.5, "reason": reason}] * (3 - found)
    return {"camera": camera, "action": "none", "points": 3,
            "drift": {"method": "image", "status": "not_measured", "flagged": False, "tolerance": 0.3,
                      "max": 0.1 if found else None, "pairs": found, "reason": reason, "rotation": None,
                      "uncertainty": None, "moved": None, "thumbnail": None, "against": None, "points": points}}


class HostVars(Mapping):
    """Like Ansible's hostvars: a mapping of every inventory host, each a mapping of its variables."""

    def __init__(self, hosts):
        self._hosts = hosts

    def __getitem__(self, name):
        return self._hosts[name]

    def __iter__(self):
        return iter(self._hosts)

    def __len__(self):
        return len(self._hosts)


def by_name(units):
    return {unit["name"]: unit for unit in units}


# --- report_units -------------------------------------------------------------------------------------------

def test_problems_come_first_each_group_in_the_order_given():
    hostvars = HostVars({
        "cam-a": {"q6000_report_facts": facts(), "q6000_calibration_heads": [point_set(1, (-0.6, 0.5))]},
        "cam-b": {"q6000_report_facts": {"failed": True, "msg": "HTTP 500 from the device", "changed": False}},
        "cam-c": {"q6000_report_facts": facts(),
                  "q6000_calibration_result": {"changed": True, "heads": [points_drift(1, [0.2, 3.1])]}},
        "cam-d": {"q6000_report_facts": facts()},
        "cam-e": {"q6000_report_facts": facts(),
                  "q6000_calibration_result": {"changed": False, "failed_when_result": False,
                                               "msg": "com/ptz.cgi on 127.0.0.1: HTTP 503", "heads": []}},
    })
    units = report_units(["cam-a", "cam-b", "cam-c", "cam-d", "cam-e"], hostvars)
    assert [u["name"] for u in units] == ["cam-b", "cam-c", "cam-e", "cam-a", "cam-d"]
    assert [u["problem"] for u in units] == [True, True, True, False, False]
    found = by_name(units)
    assert found["cam-b"]["failed"] and found["cam-b"]["message"] == "HTTP 500 from the device"
    assert found["cam-c"]["flagged"] == 1 and not found["cam-c"]["failed"]
    assert found["cam-e"]["check_error"] == "com/ptz.cgi on 127.0.0.1: HTTP 503"
    assert found["cam-a"]["check_error"] == "" and found["cam-a"]["message"] is None


@pytest.mark.parametrize("variables, message", [
    ({"q6000_report_facts": {"unreachable": True, "msg": "Failed to connect", "changed": False}}, "Failed to connect"),
    ({"q6000_report_facts": {"failed": True, "changed": False}}, "failed"),
    # Not read by report.yml's first play: the unit failed earlier in this run (site.yml), with the link first.
    ({"q6000_remote_camera_result": {"failed": True, "msg": "getvapixparams.cgi: HTTP 500"},
      "q6000_calibration_result": {"failed": True, "msg": "later"}}, "getvapixparams.cgi: HTTP 500"),
    ({"q6000_remote_camera_result": {"changed": False},
      "q6000_calibration_result": {"failed": True, "msg": "iscalibrated.cgi: HTTP 500"}}, "iscalibrated.cgi: HTTP 500"),
    ({"q6000_remote_camera_result": {"failed": True}},
     "not read: the unit failed or was unreachable earlier in this run"),
    ({}, "not read: the unit failed or was unreachable earlier in this run"),
])
def test_a_unit_that_was_not_read_says_why(variables, message):
    [unit] = report_units(["cam-x"], {"cam-x": variables})
    assert unit["failed"] and unit["problem"]
    assert unit["message"] == message


def test_a_unit_hostvars_does_not_know_is_a_failed_unit():
    [unit] = report_units(["cam-gone"], HostVars({}))
    assert unit["failed"] and unit["message"].startswith("not read:") and unit["heads_drawn"] == []


def test_a_read_unit_gives_its_facts_link_and_session():
    read = facts(heads=4, calibrated=(1,), code=3, description="Not authorized",
                 session={"camera": 3, "current_target": {"x": 0.25, "y": -0.5}})
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": read}})
    assert (unit["model"], unit["firmware"], unit["heads"], unit["heads_count"]) == ("Q6000-E", "6.50.1", 4, 4)
    assert unit["calibrated_heads"] == [1]
    assert unit["link"] == {"code": 3, "description": "Not authorized", "protocols": [
        {"name": "HTTP", "code": 3, "description": "Not authorized"},
        {"name": "HTTPS", "code": 3, "description": "Not authorized"},
        {"name": "RTSP", "code": 3, "description": "Not authorized"}]}
    assert unit["link_class"] == "3" and unit["link_ok"] is False
    assert unit["session"] == {"camera": 3, "target": {"x": 0.25, "y": -0.5}}
    assert unit["drift"] == [] and unit["measured"] == 0
    assert [(h["camera"], h["calibrated"], h["session"]) for h in unit["heads_drawn"]] == \
        [(1, True, False), (2, False, False), (3, False, True), (4, False, False)]


def test_what_the_facts_leave_out_is_said_so():
    bare = {"changed": False, "ansible_facts": {"q6000": {"heads": "2"}}}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": bare}})
    assert (unit["model"], unit["firmware"], unit["heads_count"]) == ("?", "?", 2)
    assert unit["link"] == {"code": None, "description": "unknown", "protocols": []}
    assert unit["link_class"] == "unknown" and unit["session"] is None
    assert [h["calibrated"] for h in unit["heads_drawn"]] == [None, None]


def test_the_heads_drawn_are_the_devices_and_those_with_a_point_set():
    variables = {"q6000_report_facts": facts(heads=2),
                 "q6000_calibration_heads": [point_set("4", (0.1, 0.1)), point_set(1, (0.2, 0.2))]}
    [unit] = report_units(["cam-a"], {"cam-a": variables})
    assert [h["camera"] for h in unit["heads_drawn"]] == [1, 2, 4]
    assert [len(h["points"]) for h in unit["heads_drawn"]] == [1, 0, 1]
    # A failed unit: those with a point set or measured in this run.
    failed = dict(variables, q6000_report_facts={"failed": True, "msg": "HTTP 500"},
                  q6000_calibration_result={"heads": [points_drift(3, [0.1])]})
    [unit] = report_units(["cam-a"], {"cam-a": failed})
    assert [h["camera"] for h in unit["heads_drawn"]] == [1, 3, 4]
    assert [h["calibrated"] for h in unit["heads_drawn"]] == [None, None, None]


def test_each_point_lands_on_the_plane_with_its_label_beside_it():
    heads = [point_set(1, (-0.6, 0.5), (0.8, 0.8), (-1, -1), ("0.5", "-0.25"))]
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(), "q6000_calibration_heads": heads}})
    points = unit["heads_drawn"][0]["points"]
    # x: (x + 1) * 80, y: (1 - y) * 45, on a 160 x 90 plane whose y points down.
    assert [(p["x"], p["y"]) for p in points] == [(32.0, 22.5), (144.0, pytest.approx(9.0)), (0.0, 90.0), (120.0, 56.25)]
    # The number right of the point and above it; left near the right edge, below near the top.
    assert [(p["label_x"], p["label_y"], p["label_end"]) for p in points] == \
        [(38.0, 17.5, False), (138.0, pytest.approx(20.0), True), (6.0, 85.0, False), (126.0, 51.25, False)]
    assert [p["number"] for p in points] == [1, 2, 3, 4]
    assert points[0]["title"] == "Point 1: x -0.6, y 0.5, pan 10.0, tilt -1.5; drift not measured"
    assert points[3]["title"] == "Point 4: x 0.5, y -0.25, pan 40.0, tilt -6.0; drift not measured"
    assert {p["drift"] for p in points} == {"none"}


def test_points_are_classed_by_their_drift_against_the_tolerance():
    heads = [point_set(2, (-0.6, 0.5), (0.6, 0.5), (0.6, -0.5), (-0.6, -0.5), (0.0, 0.05))]
    result = {"changed": True, "heads": [points_drift(2, [0.4, 0.6, 1.2, 0.5], tolerance=1.0)]}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(), "q6000_calibration_heads": heads,
                                                "q6000_calibration_result": result}})
    [head] = [h for h in unit["heads_drawn"] if h["camera"] == 2]
    # Over half the tolerance is near, over the tolerance is over; a point without a measurement is none.
    assert [p["drift"] for p in head["points"]] == ["ok", "near", "over", "ok", "none"]
    assert [p["error"] for p in head["points"]] == [0.4, 0.6, 1.2, 0.5, None]
    assert head["points"][2]["title"].endswith("; drift 1.20°")
    assert (head["measured"], head["image"], head["flagged"], head["max"], head["tolerance"]) == (True, False, True, 1.2, 1.0)
    assert head["action"] == "recalibrated" and head["moved"] is None and head["thumbnail"] is None
    assert head["status"] == "drifted" and head["rotation"] is None and head["not_measured"] is False
    assert unit["drift"] == [{"camera": 2, "image": False, "status": "drifted", "flagged": True, "moved": None,
                              "max": 1.2, "reason": None}]
    assert (unit["flagged"], unit["measured"], unit["not_measured"], unit["problem"]) == (1, 1, 0, True)


def test_an_image_check_gives_the_rotation_what_it_was_judged_against_and_the_thumbnail():
    heads = [point_set(n, (-0.6, 0.5), (0.6, 0.5), (0.0, 0.0)) for n in (1, 2, 3, 4, 5)]
    result = {"changed": False, "heads": [
        image_drift(1, moved=0.91, rotation={"yaw": 0.72, "pitch": -0.55, "roll": 0.04, "angle": 0.91},
                    uncertainty=0.03),
        image_drift(2, against="point set", recorded=[[-0.6, 0.5, 10.1, -1.4], [0.0, 0.0, 30.2, -4.4]]),
        image_drift(3, thumbnail="https://example.com/head.jpg"),
        image_drift(5, moved=0.12, against="old baseline"),
        {"camera": 4, "action": "none", "drift": None}]}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(heads=5), "q6000_calibration_heads": heads,
                                                "q6000_calibration_result": result}})
    first, second, third, fourth, fifth = unit["heads_drawn"]
    assert (first["image"], first["status"], first["flagged"], first["moved"]) == (True, "drifted", True, 0.91)
    assert first["rotation"] == {"yaw": 0.72, "pitch": -0.55, "roll": 0.04, "angle": 0.91}
    assert (first["uncertainty"], first["against"], first["pairs"], first["max"]) == (0.03, "baseline", 2, 0.41)
    # The mean offset and the baseline it was compared with are gone from the drift.
    assert "offset" not in first and "baseline" not in first
    assert first["baseline_recorded"] is False
    assert first["thumbnail"] == THUMBNAIL and first["action"] is None
    assert [p["drift"] for p in first["points"]] == ["ok", "none", "over"]
    titles = [p["title"] for p in first["points"]]
    assert titles[0].endswith("; drift 0.10° (off pan +0.08°, tilt -0.06°)")
    assert titles[1].endswith("; drift not measured: no consistent mapping of the target into the PTZ's picture")
    # Its first check: against its point set, and the correspondences recorded now as its baseline.
    assert (second["against"], second["baseline_recorded"], second["status"], second["flagged"]) == \
        ("point set", True, "ok", False)
    # Only a data URI is shown: the page fetches nothing.
    assert third["thumbnail"] is None and third["baseline_recorded"] is False
    # A head the check did not look at.
    assert (fourth["measured"], fourth["image"], fourth["tolerance"], fourth["status"]) == (False, False, None, None)
    # Against an old {pan, tilt} baseline: no rotation, moved is the move of the mean offset.
    assert (fifth["rotation"], fifth["uncertainty"], fifth["moved"], fifth["against"]) == \
        (None, None, 0.12, "old baseline")
    assert [(d["camera"], d["image"], d["status"], d["flagged"], d["moved"]) for d in unit["drift"]] == \
        [(1, True, "drifted", True, 0.91), (2, True, "ok", False, 0.05), (3, True, "ok", False, 0.05),
         (5, True, "ok", False, 0.12)]
    assert (unit["flagged"], unit["measured"], unit["not_measured"]) == (1, 4, 0)


def test_a_head_not_measured_is_grey_with_its_reason_and_no_problem_of_the_unit():
    heads = [point_set(n, (-0.6, 0.5), (0.6, 0.5), (0.0, 0.0)) for n in (1, 2, 3)]
    result = {"changed": False, "warnings": ["head 2 not measured: PTZ in use"], "heads": [
        image_drift(1, moved=0.05),
        not_measured(2, "PTZ in use"),
        not_measured(3, "2 of 5 points found: fewer than 3 well-spread pairs", found=1)]}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(heads=3), "q6000_calibration_heads": heads,
                                                "q6000_calibration_result": result}})
    first, second, third = unit["heads_drawn"]
    assert (first["status"], first["measured"], first["not_measured"]) == ("ok", True, False)
    assert (second["status"], second["not_measured"], second["measured"], second["flagged"]) == \
        ("not_measured", True, False, False)
    assert second["reason"] == "PTZ in use" and first["reason"] is None
    assert (second["moved"], second["rotation"], second["uncertainty"], second["max"]) == (None, None, None, None)
    assert [p["drift"] for p in second["points"]] == ["none"] * 3
    # The points it did find are still drawn by their error.
    assert [p["drift"] for p in third["points"]] == ["ok", "none", "none"] and third["max"] == 0.1
    assert third["reason"] == "2 of 5 points found: fewer than 3 well-spread pairs"
    assert [(d["camera"], d["status"], d["flagged"], d["moved"], d["reason"]) for d in unit["drift"]] == [
        (1, "ok", False, 0.05, None), (2, "not_measured", False, None, "PTZ in use"),
        (3, "not_measured", False, None, "2 of 5 points found: fewer than 3 well-spread pairs")]
    # Counted apart, not as flagged nor measured: no problem of the unit.
    assert (unit["flagged"], unit["measured"], unit["not_measured"], unit["problem"]) == (0, 1, 2, False)
    summary = report_summary([unit])
    assert (summary["flagged"], summary["measured"], summary["not_measured"], summary["drifted"],
            summary["not_measured_units"]) == (0, 1, 2, [], ["cam-a"])


def macros():
    """The report's macros (playbooks/templates/report_macros.j2), as report.html.j2 imports them."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES))).get_template("report_macros.j2").module


def test_the_page_shows_not_measured_in_grey_with_its_reason_and_the_rotation():
    heads = [point_set(n, (-0.6, 0.5), (0.6, 0.5), (0.0, 0.0)) for n in (1, 2, 3)]
    result = {"changed": False, "heads": [
        image_drift(1, moved=0.91, rotation={"yaw": 0.72, "pitch": -0.55, "roll": 0.04, "angle": 0.91},
                    uncertainty=0.03),
        not_measured(2, "too uncertain (2 x 0.09 > 0.15) <b>"),
        image_drift(3, moved=0.12, against="old baseline")]}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(heads=3), "q6000_calibration_heads": heads,
                                                "q6000_calibration_result": result}})
    plane = report_summary([unit])["plane"]
    draw = macros()
    first, second, third = (str(draw.head("cam-a", head, plane)) for head in unit["heads_drawn"])
    assert '<span class="drift over">moved 0.91° (tolerance 0.3°)</span> <span class="flag">drifted</span>' in first
    assert ('<span class="rotation">rotation yaw +0.72°, pitch -0.55°, roll +0.04°: angle 0.91° ± 0.03°; against its'
            ' baseline; 2 pairs; worst point 0.41°</span>') in first
    assert "offset" not in first
    # Grey, with its reason as text (escaped), neither drifted nor flagged, and no rotation nor move.
    assert '<figure class="head not-measured" id="head-cam-a-2"' in second
    assert ('<span class="drift not-measured">not measured: too uncertain (2 x 0.09 &gt; 0.15) &lt;b&gt;</span>'
            in second)
    assert "drifted" not in second and "moved" not in second and "rotation" not in second
    assert "no rotation: moved is the move of the mean offset; against its old baseline (pan, tilt)" in third
    assert '<span class="status-ok">ok</span>' in third
    summary = str(draw.drift_summary(unit["drift"]))
    assert re.findall(r"<span[^>]*>[^<]*</span>", summary) == [
        '<span class="over" title="drifted; worst point 0.41°">head 1 moved 0.91°</span>',
        '<span class="not-measured">head 2 not measured (too uncertain (2 x 0.09 &gt; 0.15) &lt;b&gt;)</span>',
        '<span title="ok; worst point 0.41°">head 3 moved 0.12°</span>']
    # The stylesheet greys what was not measured.
    style = (TEMPLATES / "report_style.css.j2").read_text(encoding="utf-8")
    assert re.search(r"^\.drift\.not-measured \{ color: #6b7280; \}$", style, re.M)


def test_a_result_of_the_shape_before_the_status_is_read_by_its_flag():
    old = {"camera": 1, "action": "none", "drift": {"method": "image", "pan": 1.0, "tilt": 0.0, "moved": 0.9,
                                                    "baseline": {"pan": 0.1, "tilt": 0.0}, "max": 0.5,
                                                    "tolerance": 0.3, "flagged": True, "points": []}}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(heads=1),
                                                "q6000_calibration_result": {"heads": [old]}}})
    [head] = unit["heads_drawn"]
    assert (head["status"], head["flagged"], head["moved"], head["rotation"]) == ("drifted", True, 0.9, None)
    assert (unit["flagged"], unit["measured"], unit["not_measured"]) == (1, 1, 0)


def test_the_open_sessions_target_is_a_cross_on_its_head_only():
    read = facts(session={"camera": 3, "current_target": {"x": 0.25, "y": -0.5}})
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": read}})
    targets = {h["camera"]: h["target"] for h in unit["heads_drawn"]}
    assert targets[1] is None and targets[2] is None and targets[4] is None
    # report.html.j2 draws it as M94.0 67.5h12M100.0 61.5v12.
    assert targets[3] == {"x": 0.25, "y": -0.5, "at": {"x": 100.0, "y": 67.5}, "size": 12,
                          "horizontal": {"x": 94.0, "y": 67.5}, "vertical": {"x": 100.0, "y": 61.5}}
    without = facts(session={"camera": 3, "current_target": None})
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": without}})
    assert [h["target"] for h in unit["heads_drawn"]] == [None] * 4
    assert unit["session"] == {"camera": 3, "target": None} and unit["heads_drawn"][2]["session"] is True


def test_a_skipped_check_is_no_error():
    result = {"skipped": True, "msg": "Conditional result was False", "changed": False}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(), "q6000_calibration_result": result}})
    assert unit["check_error"] == "" and unit["problem"] is False


def test_texts_come_back_as_they_came_for_the_template_to_escape():
    heads = [{"camera": 1, "points": [{"x": 0.1, "y": 0.2, "pan": "<script>alert(1)</script>", "tilt": 1}]}]
    read = facts(model="<b>Q6000-E</b>")
    [unit] = report_units(["cam-<1>"], {"cam-<1>": {"q6000_report_facts": read, "q6000_calibration_heads": heads}})
    assert unit["name"] == "cam-<1>" and unit["model"] == "<b>Q6000-E</b>"
    assert unit["heads_drawn"][0]["points"][0]["title"] == \
        "Point 1: x 0.1, y 0.2, pan <script>alert(1)</script>, tilt 1; drift not measured"


def test_the_inputs_are_left_as_they_were():
    hostvars = {"cam-a": {"q6000_report_facts": facts(session={"camera": 1, "current_target": {"x": 0, "y": 0}}),
                          "q6000_calibration_heads": [point_set(1, (0.1, 0.1))],
                          "q6000_calibration_result": {"heads": [image_drift(1)]}}}
    before = copy.deepcopy(hostvars)
    report_summary(report_units(["cam-a"], hostvars))
    assert hostvars == before


# --- report_summary -----------------------------------------------------------------------------------------

def test_the_summary_counts_the_units_read_and_every_measured_head():
    hostvars = {
        "cam-a": {"q6000_report_facts": facts(heads=4, calibrated=(1, 2)),
                  "q6000_calibration_result": {"heads": [points_drift(1, [0.1]), points_drift(2, [3.0])]}},
        "cam-b": {"q6000_report_facts": facts(heads=4, calibrated=(1, 2, 3, 4), code=3),
                  "q6000_calibration_result": {"heads": [not_measured(2)]}},
        "cam-c": {"q6000_report_facts": {"failed": True, "msg": "HTTP 500"},
                  "q6000_calibration_result": {"heads": [points_drift(1, [0.1])]}},
        "cam-d": {"q6000_report_facts": facts(heads=4, calibrated=(1,)),
                  "q6000_calibration_result": {"heads": [image_drift(1, moved=1.0), image_drift(3, moved=0.5)]}},
    }
    units = report_units(["cam-a", "cam-b", "cam-c", "cam-d"], hostvars)
    summary = report_summary(units)
    assert {k: v for k, v in summary.items() if k != "plane"} == {
        "units": 4, "link_ok": 2, "heads": 12, "calibrated": 7, "measured": 5, "flagged": 3, "not_measured": 1,
        "failed": ["cam-c"], "drifted": ["cam-a", "cam-d"], "not_measured_units": ["cam-b"]}
    assert summary["plane"] == {"width": 160, "height": 90, "middle": {"x": 80, "y": 45}, "view_box": "-10 -10 180 110"}


def test_an_empty_fleet():
    assert report_units([], {}) == []
    summary = report_summary([])
    assert (summary["units"], summary["link_ok"], summary["heads"], summary["failed"], summary["drifted"],
            summary["not_measured"], summary["not_measured_units"]) == (0, 0, 0, [], [], 0, [])


# --- rollout_summary ----------------------------------------------------------------------------------------

def test_the_rollout_sorts_units_by_outcome():
    ok, changed = {"changed": False}, {"changed": True}
    hostvars = HostVars({
        "cam-1": {"q6000_remote_camera_result": changed, "q6000_calibration_result": ok},
        "cam-2": {"q6000_remote_camera_result": ok, "q6000_calibration_result": ok},
        "cam-3": {"q6000_remote_camera_result": {"failed": True, "msg": "HTTP 500"}},
        "cam-4": {"q6000_remote_camera_result": {"unreachable": True, "msg": "refused"}},
        "cam-5": {},
        "cam-6": {"q6000_remote_camera_result": ok, "q6000_calibration_result": {"unreachable": True}},
        "cam-7": {"q6000_remote_camera_result": ok},
        "cam-8": {"q6000_remote_camera_result": ok, "q6000_calibration_result": changed},
        "cam-9": {"q6000_remote_camera_result": ok, "q6000_calibration_result": {"failed": True, "changed": False}},
    })
    names = ["cam-%d" % n for n in range(1, 10)]
    assert rollout_summary(names, hostvars) == {
        "changed": ["cam-1", "cam-8"], "failed": ["cam-3", "cam-7", "cam-9"], "untouched": ["cam-2"],
        "not_reached": ["cam-4", "cam-5", "cam-6"], "units": 9}


# --- facts_rows ---------------------------------------------------------------------------------------------

def test_the_facts_table_words_each_unit():
    hostvars = {
        "cam-1": {"ansible_facts": facts(calibrated=(1, 2))["ansible_facts"]},
        "cam-2": {"ansible_facts": facts(calibrated=(), code=3, description="Not authorized",
                                         session={"camera": 3, "current_target": None})["ansible_facts"]},
        "cam-3": {"ansible_facts": {}},
        "cam-4": {"ansible_facts": {"q6000": {"session": None}}},
    }
    assert facts_rows(["cam-1", "cam-2", "cam-3", "cam-4", "cam-5"], hostvars) == [
        {"unit": "cam-1", "facts": True, "model": "Q6000-E", "firmware": "6.50.1", "link": "0 Connection OK",
         "calibrated": "1,2", "session": "none"},
        {"unit": "cam-2", "facts": True, "model": "Q6000-E", "firmware": "6.50.1", "link": "3 Not authorized",
         "calibrated": "none", "session": "camera 3"},
        {"unit": "cam-3", "facts": False},
        {"unit": "cam-4", "facts": True, "model": "-", "firmware": "-", "link": "-", "calibrated": "-",
         "session": "none"},
        {"unit": "cam-5", "facts": False},
    ]


def test_the_filter_module_names_its_filters():
    assert sorted(FilterModule().filters()) == ["facts_rows", "report_summary", "report_units", "rollout_summary"]
