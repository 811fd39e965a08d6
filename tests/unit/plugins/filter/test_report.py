# -*- coding: utf-8 -*-
"""The reports' filters (plugins/filter/report.py) on variables shaped like what the playbooks register."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import pytest

from ansible_collections.vapix.q6000.plugins.filter.report import (FilterModule, facts_rows, report_summary,
                                                                   report_units, rollout_summary)

THUMBNAIL = "data:image/jpeg;base64,/9j/4AAQSkZJRgABA"


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


def image_drift(camera, moved=0.05, baseline=None, recorded=None, thumbnail=THUMBNAIL, tolerance=0.3):
    """A head of remote_calibration's result after drift_method=image: per point its offsets, or why not."""
    head = {"camera": camera, "action": "none", "points": 3,
            "drift": {"method": "image", "moved": moved, "pan": moved + 0.1, "tilt": -0.02, "max": 0.41,
                      "tolerance": tolerance, "flagged": moved > tolerance, "baseline": baseline,
                      "thumbnail": thumbnail,
                      "points": [{"error": 0.1, "pan": 0.08, "tilt": -0.06, "x": -0.6, "y": 0.5},
                                 {"error": None, "pan": None, "tilt": None, "x": 0.6, "y": 0.5,
                                  "reason": "no consistent mapping of the target into the PTZ's picture"},
                                 {"error": 0.41, "pan": 0.4, "tilt": 0.09, "x": 0.0, "y": 0.0}]}}
    if recorded:
        head["baseline"] = recorded
    return head


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
    assert unit["drift"] == [{"camera": 2, "image": False, "flagged": True, "moved": None, "max": 1.2}]
    assert (unit["flagged"], unit["measured"], unit["problem"]) == (1, 1, True)


def test_an_image_check_gives_offsets_baselines_and_the_thumbnail():
    heads = [point_set(n, (-0.6, 0.5), (0.6, 0.5), (0.0, 0.0)) for n in (1, 2, 3, 4)]
    result = {"changed": False, "heads": [
        image_drift(1, moved=0.91, baseline={"pan": 0.079, "tilt": -0.024}),
        image_drift(2, recorded={"pan": -0.012, "tilt": 0.128}),
        image_drift(3, thumbnail="https://example.com/head.jpg"),
        {"camera": 4, "action": "none", "drift": None}]}
    [unit] = report_units(["cam-a"], {"cam-a": {"q6000_report_facts": facts(), "q6000_calibration_heads": heads,
                                                "q6000_calibration_result": result}})
    first, second, third, fourth = unit["heads_drawn"]
    assert (first["image"], first["flagged"], first["moved"], first["offset"]) == (True, True, 0.91, {"pan": 1.01, "tilt": -0.02})
    assert first["baseline"] == {"pan": 0.079, "tilt": -0.024} and first["baseline_recorded"] is False
    assert first["thumbnail"] == THUMBNAIL and first["action"] is None
    assert [p["drift"] for p in first["points"]] == ["ok", "none", "over"]
    titles = [p["title"] for p in first["points"]]
    assert titles[0].endswith("; drift 0.10° (off pan +0.08°, tilt -0.06°)")
    assert titles[1].endswith("; drift not measured: no consistent mapping of the target into the PTZ's picture")
    # Its first check: no baseline before, one recorded now.
    assert second["baseline"] is None and second["baseline_recorded"] is True and not second["flagged"]
    # Only a data URI is shown: the page fetches nothing.
    assert third["thumbnail"] is None and third["baseline_recorded"] is False
    # A head the check did not measure.
    assert (fourth["measured"], fourth["image"], fourth["tolerance"]) == (False, False, None)
    assert [(d["camera"], d["image"], d["flagged"], d["moved"]) for d in unit["drift"]] == \
        [(1, True, True, 0.91), (2, True, False, 0.05), (3, True, False, 0.05)]
    assert (unit["flagged"], unit["measured"]) == (1, 3)


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
        "cam-b": {"q6000_report_facts": facts(heads=4, calibrated=(1, 2, 3, 4), code=3)},
        "cam-c": {"q6000_report_facts": {"failed": True, "msg": "HTTP 500"},
                  "q6000_calibration_result": {"heads": [points_drift(1, [0.1])]}},
        "cam-d": {"q6000_report_facts": facts(heads=4, calibrated=(1,)),
                  "q6000_calibration_result": {"heads": [image_drift(1, moved=1.0), image_drift(3, moved=0.5)]}},
    }
    units = report_units(["cam-a", "cam-b", "cam-c", "cam-d"], hostvars)
    summary = report_summary(units)
    assert {k: v for k, v in summary.items() if k != "plane"} == {
        "units": 4, "link_ok": 2, "heads": 12, "calibrated": 7, "measured": 5, "flagged": 3,
        "failed": ["cam-c"], "drifted": ["cam-a", "cam-d"]}
    assert summary["plane"] == {"width": 160, "height": 90, "middle": {"x": 80, "y": 45}, "view_box": "-10 -10 180 110"}


def test_an_empty_fleet():
    assert report_units([], {}) == []
    summary = report_summary([])
    assert (summary["units"], summary["link_ok"], summary["heads"], summary["failed"], summary["drifted"]) == (0, 0, 0, [], [])


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
