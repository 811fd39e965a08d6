# -*- coding: utf-8 -*-
"""The fleet filters (plugins/filter/fleet.py): q6000_results, the drift history lines, their trend and plot."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.vapix.q6000.plugins.filter import fleet
from ansible_collections.vapix.q6000.plugins.filter.fleet import (FilterModule, drift_history, drift_history_append,
                                                                  drift_history_lines, drift_history_summary,
                                                                  run_results, theil_sen)

HEADS = [{"camera": 1, "points": []}, {"camera": 3, "points": []}]


def image_head(camera, moved, flagged=False, action="none", against="baseline"):
    return {"camera": camera, "action": action, "drift": {
        "method": "image", "status": "drifted" if flagged else "ok", "moved": moved, "flagged": flagged,
        "tolerance": 0.3, "max": 0.4, "pairs": 14, "reason": None, "against": against, "thumbnail": None,
        "rotation": {"yaw": moved, "pitch": 0.0, "roll": 0.0, "angle": moved}, "uncertainty": 0.02,
        "points": [{"error": 0.1, "pan": 0.1, "tilt": 0.0}, {"error": None, "reason": "no match"}]}}


def unmeasured_head(camera, reason="PTZ in use"):
    """A head the image check could not judge: not_measured, action none, nothing moved."""
    return {"camera": camera, "action": "none", "drift": {
        "method": "image", "status": "not_measured", "moved": None, "flagged": False, "tolerance": 0.3, "max": None,
        "pairs": 0, "reason": reason, "against": "point set", "thumbnail": None, "rotation": None, "uncertainty": None,
        "points": [{"error": None, "pan": None, "tilt": None, "reason": reason}]}}


# --- q6000_results --------------------------------------------------------------------------------------------

def test_check_results_say_ok_drifted_failed_and_unreachable():
    hostvars = {
        "ok": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": False, "heads": [image_head(1, 0.1), image_head(3, 0.05)]}},
        "knocked": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": False, "msg": "the image drift check found 1 head(s) moved",
            "heads": [image_head(1, 1.0, flagged=True), {"camera": 3, "action": "none"}]}},
        "fixed": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": True, "heads": [image_head(1, 1.0, True, "recalibrated"), image_head(3, 0.1)]}},
        "broken": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": False, "msg": "HTTP 500 from image.cgi", "heads": [image_head(1, 0.1)]}},
        "away": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "unreachable": True, "msg": "no answer"}},
        "stopped": {"q6000_calibration_heads": HEADS},
        "empty": {"q6000_calibration_result": {"skipped": True}},
    }
    results = run_results(list(hostvars) + ["unknown"], hostvars, "check")
    assert results["ok"] == {"status": "ok", "heads_drifted": [], "heads_not_measured": [], "changed": False}
    assert results["knocked"] == {"status": "drifted", "heads_drifted": [1], "heads_not_measured": [3],
                                  "changed": False}
    assert results["fixed"] == {"status": "ok", "heads_drifted": [1], "heads_not_measured": [], "changed": True}
    assert results["broken"]["status"] == "failed" and results["broken"]["heads_not_measured"] == [3]
    assert results["away"]["status"] == "unreachable"
    assert results["stopped"]["status"] == "failed"
    assert results["empty"]["status"] == "ok"
    assert results["unknown"]["status"] == "ok"


def test_a_head_not_measured_is_listed_and_the_unit_stays_ok():
    hostvars = {
        "busy": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": False, "warnings": ["camera 3 not measured: PTZ in use"],
            "heads": [image_head(1, 0.1), unmeasured_head(3)]}},
        "dark": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": False, "heads": [unmeasured_head(1, "the picture is too dark"),
                                        unmeasured_head(3, "the picture is too dark")]}},
        "both": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": False, "msg": "the image drift check found 1 head(s) moved",
            "heads": [image_head(1, 1.0, flagged=True), unmeasured_head(3)]}},
        # A head not declared in the inventory but looked at: listed too, after the declared ones.
        "extra": {"q6000_calibration_heads": HEADS, "q6000_calibration_result": {
            "changed": False, "heads": [image_head(1, 0.1), image_head(3, 0.1), unmeasured_head(2)]}},
    }
    results = run_results(list(hostvars), hostvars, "check")
    assert results["busy"] == {"status": "ok", "heads_drifted": [], "heads_not_measured": [3], "changed": False}
    assert results["dark"] == {"status": "ok", "heads_drifted": [], "heads_not_measured": [1, 3], "changed": False}
    assert results["both"] == {"status": "drifted", "heads_drifted": [1], "heads_not_measured": [3],
                               "changed": False}
    assert results["extra"] == {"status": "ok", "heads_drifted": [], "heads_not_measured": [2], "changed": False}
    # site.yml with the image check: the same.
    site = {"u": {"q6000_remote_camera_result": {"changed": False}, "q6000_calibration_heads": HEADS,
                  "q6000_calibration_result": {"changed": False, "heads": [image_head(1, 0.1), unmeasured_head(3)]}}}
    assert run_results(["u"], site, "site")["u"] == {"status": "ok", "heads_drifted": [], "heads_not_measured": [3],
                                                     "changed": False}


def test_site_and_capture_results():
    hostvars = {
        "a": {"q6000_remote_camera_result": {"changed": True}, "q6000_calibration_result": {"changed": False}},
        "b": {"q6000_remote_camera_result": {"failed": True, "msg": "link down"}},
        "c": {"q6000_remote_camera_result": {"unreachable": True}},
    }
    assert {name: r["status"] for name, r in run_results(["a", "b", "c"], hostvars, "site").items()} == {
        "a": "ok", "b": "failed", "c": "unreachable"}
    assert run_results(["a"], hostvars, "site")["a"]["changed"] is True
    capture = {"x": {"q6000_capture_cameras": ["1", "2"], "q6000_capture_result": {"heads": [{"camera": 1}]}},
               "y": {"q6000_capture_result": {"failed": True, "msg": "grey picture", "heads": []}},
               "z": {"q6000_captured_heads": [], "q6000_capture_camera": 2}}
    results = run_results(["x", "y", "z"], capture, "capture")
    assert results["x"] == {"status": "ok", "heads_drifted": [], "heads_not_measured": [2], "changed": True}
    assert results["y"]["status"] == "failed" and results["y"]["heads_not_measured"] == [1, 2, 3, 4]
    assert results["z"] == {"status": "ok", "heads_drifted": [], "heads_not_measured": [], "changed": True}
    with pytest.raises(ValueError):
        run_results([], {}, "report")


# --- history lines ----------------------------------------------------------------------------------------------

def test_a_line_per_head_the_image_check_looked_at():
    result = {"heads": [image_head(1, 0.12), image_head(2, 1.1, True, "recalibrated"), {"camera": 3, "action": "none"},
                        {"camera": 4, "drift": {"method": "points", "status": "ok", "max": 0.1}},
                        unmeasured_head(5, "too uncertain (2 x 0.09 > 0.15)"),
                        image_head(6, 0.2, against="old baseline")]}
    result["heads"][5]["drift"].update(rotation=None, uncertainty=None)
    lines = [json.loads(line) for line in drift_history_lines(result, now="2026-12-06T02:00:00Z")]
    assert [line["camera"] for line in lines] == [1, 2, 5, 6]
    first, second, third, fourth = lines
    assert first == {"time": "2026-12-06T02:00:00Z", "camera": 1, "status": "ok", "moved": 0.12,
                     "rotation": {"yaw": 0.12, "pitch": 0.0, "roll": 0.0, "angle": 0.12}, "uncertainty": 0.02,
                     "against": "baseline", "reason": None, "flagged": False, "max": 0.4, "pairs": 14, "points": 2,
                     "tolerance": 0.3, "version": first["version"], "recapture": False}
    assert first["version"] and first["version"] == fleet._collection_version()
    assert second["status"] == "recaptured" and second["recapture"] is True and second["flagged"] is True
    # Not measured: a line all the same, with its reason and no move.
    assert third == {"time": "2026-12-06T02:00:00Z", "camera": 5, "status": "not_measured", "moved": None,
                     "rotation": None, "uncertainty": None, "against": "point set",
                     "reason": "too uncertain (2 x 0.09 > 0.15)", "flagged": False, "max": None, "pairs": 0,
                     "points": 1, "tolerance": 0.3, "version": third["version"], "recapture": False}
    assert (fourth["status"], fourth["moved"], fourth["rotation"], fourth["against"]) == \
        ("ok", 0.2, None, "old baseline")
    # The offsets and the baseline of the shape before are no longer written.
    assert all(key not in line for line in lines for key in ("pan", "tilt", "baseline"))
    assert drift_history_lines({"skipped": True}) == []


def test_the_history_keeps_its_last_lines():
    text = "".join('{"n": %d}\n' % n for n in range(5))
    assert drift_history_append(text, ['{"n": 5}', '{"n": 6}'], 4) == "".join('{"n": %d}\n' % n for n in range(3, 7))
    assert drift_history_append("", ["a"], 400) == "a\n"
    assert drift_history_append(None, [], 400) == ""
    with pytest.raises(ValueError):
        drift_history_append("", [], 0)


# --- trend ----------------------------------------------------------------------------------------------------

def test_theil_sen_ignores_an_outlier():
    points = [(t, 0.01 * t) for t in range(10)] + [(10, 5.0)]
    slope, intercept = theil_sen(points)
    assert slope == pytest.approx(0.01) and intercept == pytest.approx(0.0, abs=1e-9)
    assert theil_sen([(1, 1.0), (1, 2.0)]) is None


def history(values, start="2026-11-01T02:00:00Z", recapture_at=None, tolerance=0.3, camera=1):
    begin = datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
    lines = []
    for day, moved in enumerate(values):
        when = (begin + datetime.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(json.dumps({"time": when, "camera": camera, "status": "ok", "moved": moved,
                                 "flagged": moved > tolerance, "tolerance": tolerance,
                                 "recapture": day == recapture_at}))
    return "\n".join(lines) + "\n"


def test_a_slow_drift_is_flagged_with_the_date_it_crosses():
    # 0.01 degree a day from 0.05: crosses 0.3 on day 25, i.e. 2026-11-26; checked on day 9 (2026-11-10).
    found = drift_history({"u": history([0.05 + 0.01 * d for d in range(10)])}, now="2026-11-10T12:00:00Z")
    head = found["u"]["heads"][1]
    assert head["checks"] == 10 and head["latest"]["moved"] == pytest.approx(0.14)
    assert head["trend"]["slow_drift"] is True and head["trend"]["crosses"] == "2026-11-26"
    assert head["trend"]["slope_per_day"] == pytest.approx(0.01)
    assert head["plot"]["trend"] is not None and head["plot"]["line"].count(",") == 10
    # Beyond the horizon: not flagged.
    later = drift_history({"u": history([0.05 + 0.01 * d for d in range(10)])}, now="2026-11-10T12:00:00Z", days=10)
    assert later["u"]["heads"][1]["trend"]["slow_drift"] is False


def test_steady_heads_too_few_checks_and_recaptures_raise_nothing():
    steady = drift_history({"u": history([0.1, 0.12, 0.09, 0.11, 0.1, 0.1, 0.12, 0.08, 0.1])}, now="2026-11-10T00:00:00Z")
    assert steady["u"]["heads"][1]["trend"]["slow_drift"] is False
    few = drift_history({"u": history([0.05, 0.1, 0.15, 0.2, 0.25, 0.28])}, now="2026-11-06T00:00:00Z")
    assert few["u"]["heads"][1]["trend"] == {"checks": 6, "slope_per_day": None, "crosses": None, "slow_drift": False}
    # A recapture restarts the trend: the rise before it does not count.
    values = [0.05 + 0.03 * d for d in range(9)] + [0.05] * 5
    after = drift_history({"u": history(values, recapture_at=8)}, now="2026-11-14T00:00:00Z")
    assert after["u"]["heads"][1]["trend"]["checks"] == 5
    assert after["u"]["heads"][1]["plot"]["recaptures"]


def old_history(values, start="2026-11-01T02:00:00Z", tolerance=0.3, camera=1):
    """History lines as the versions before the rotation wrote them: offsets, moved and the baseline."""
    begin = datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
    return "".join(json.dumps({
        "time": (begin + datetime.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ"), "camera": camera,
        "status": "drifted" if moved > tolerance else "ok", "pan": moved, "tilt": -0.01, "moved": moved,
        "baseline": {"pan": 0.0, "tilt": 0.0}, "flagged": moved > tolerance, "max": 0.4, "pairs": 5, "points": 5,
        "tolerance": tolerance, "version": "0.3.0", "recapture": False}) + "\n" for day, moved in enumerate(values))


def new_lines(values, start, camera=1, reason="PTZ in use"):
    """Lines drift_history_lines writes now, one a day from `start`; a value of none is a check not measured."""
    lines = []
    begin = datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
    for day, moved in enumerate(values):
        head = unmeasured_head(camera, reason) if moved is None else image_head(camera, moved)
        when = (begin + datetime.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines += drift_history_lines({"heads": [head]}, version="0.4.0", now=when)
    return "".join(line + "\n" for line in lines)


def test_old_history_lines_are_still_read(monkeypatch):
    warned = []
    monkeypatch.setattr(fleet, "_warn", warned.append)
    # 0.01 degree a day from 0.05 over ten days: seven old lines, then three written now.
    text = old_history([0.05 + 0.01 * d for d in range(7)]) + new_lines([0.12, 0.13, 0.14], "2026-11-08T02:00:00Z")
    found = drift_history({"u": text}, now="2026-11-10T12:00:00Z")
    head = found["u"]["heads"][1]
    assert warned == [] and found["u"]["skipped"] == []
    assert (head["checks"], head["not_measured"], head["last_not_measured"]) == (10, 0, None)
    assert head["trend"]["slope_per_day"] == pytest.approx(0.01) and head["trend"]["crosses"] == "2026-11-26"
    assert head["latest"]["moved"] == pytest.approx(0.14) and head["latest"]["rotation"]["angle"] == 0.14
    # Only old lines: read as they were, offsets and baseline kept.
    only_old = drift_history({"u": old_history([0.1, 0.2, 0.5])}, now="2026-11-04T00:00:00Z")["u"]["heads"][1]
    assert only_old["checks"] == 3 and only_old["flagged"] is True
    assert (only_old["latest"]["pan"], only_old["latest"]["baseline"], only_old["latest"]["status"]) == \
        (0.5, {"pan": 0.0, "tilt": 0.0}, "drifted")


def test_checks_not_measured_are_left_out_of_the_trend_and_the_plot(monkeypatch):
    warned = []
    monkeypatch.setattr(fleet, "_warn", warned.append)
    # The same slow drift as above, with a check not measured every third day and the last one not measured.
    values = [0.05 + 0.01 * d for d in range(10)]
    mixed = [None if d % 3 == 2 else value for d, value in enumerate(values)] + [None]
    found = drift_history({"u": new_lines(mixed, "2026-11-01T02:00:00Z")}, now="2026-11-11T12:00:00Z")
    head = found["u"]["heads"][1]
    assert warned == [] and found["u"]["skipped"] == []
    assert (head["checks"], head["not_measured"]) == (7, 4)
    assert head["trend"]["checks"] == 7 and head["trend"]["slope_per_day"] == pytest.approx(0.01)
    assert head["trend"]["slow_drift"] is True and head["trend"]["crosses"] == "2026-11-26"
    # The plot has the seven measured checks only; the latest is the last measured one, the newer miss beside it.
    assert head["plot"]["line"].count(",") == 7
    assert head["latest"]["at"] == "2026-11-10 02:00 UTC" and head["latest"]["moved"] == pytest.approx(0.14)
    assert head["last_not_measured"]["at"] == "2026-11-11 02:00 UTC"
    assert head["last_not_measured"]["reason"] == "PTZ in use" and head["flagged"] is False
    # None of them drawn at 0 (the plot's bottom, y 48): every point is a measured move.
    assert [float(point.split(",")[1]) for point in head["plot"]["line"].split()] == \
        [round(48 - value / 0.45 * 48, 1) for value in mixed if value is not None]


def test_a_head_never_measured_has_no_latest_trend_nor_plot():
    found = drift_history({"u": new_lines([None, None], "2026-11-01T02:00:00Z", camera=2, reason="too dark"),
                           "v": history([0.1] * 3)}, now="2026-11-03T00:00:00Z")
    head = found["u"]["heads"][2]
    assert (head["checks"], head["not_measured"], head["latest"], head["plot"], head["flagged"]) == \
        (0, 2, None, None, False)
    assert head["trend"] == {"checks": 0, "slope_per_day": None, "crosses": None, "slow_drift": False}
    assert head["last_not_measured"]["reason"] == "too dark"
    summary = drift_history_summary(found, ["u", "v"])
    assert (summary["heads"], summary["flagged"], summary["not_measured"], summary["without_history"]) == \
        (2, 0, 1, [])


def test_a_line_that_does_not_parse_is_skipped_with_a_warning(monkeypatch):
    warned = []
    monkeypatch.setattr(fleet, "_warn", warned.append)
    text = history([0.1, 0.1]) + "not json\n" + '{"time": "yesterday", "camera": 1, "moved": 0}\n[1]\n'
    found = drift_history({"u": text}, now="2026-11-03T00:00:00Z")
    assert found["u"]["skipped"] == [3, 4, 5] and found["u"]["heads"][1]["checks"] == 2
    assert len(warned) == 3 and all("q6000_history.jsonl of u: line" in w for w in warned)


def test_the_summary_puts_drifted_then_slow_units_first():
    texts = {"quiet": history([0.1] * 8), "slow": history([0.05 + 0.01 * d for d in range(10)]),
             "knocked": history([0.1] * 7 + [1.0]), "new": ""}
    found = drift_history(texts, now="2026-11-10T12:00:00Z")
    summary = drift_history_summary(found, ["quiet", "slow", "knocked", "new"])
    assert summary["order"] == ["knocked", "slow", "quiet", "new"]
    assert summary["drifted"] == ["knocked"] and summary["slow_drift"] == ["slow"]
    assert summary["without_history"] == ["new"] and summary["heads"] == 3 and summary["flagged"] == 1
    assert summary["not_measured"] == 0


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {"run_results", "drift_history_lines", "drift_history_append",
                                             "drift_history", "drift_history_read", "drift_history_summary",
                                             "store_writes"}


def test_the_git_stores_writes(tmp_path):
    from ansible_collections.vapix.q6000.plugins.filter.fleet import store_writes

    host_vars = tmp_path / "host_vars"
    (host_vars / "b").mkdir(parents=True)
    (host_vars / "b" / "q6000_history.jsonl").write_text('{"n": 1}\n{"n": 2}\n')
    (host_vars / "a.yml").write_text("# kept\nq6000_calibration_heads: []\n")
    heads = [{"camera": 1, "points": [{"x": 0.1, "y": 0.2, "pan": 1.0, "tilt": 2.0}], "baseline": {"pan": 0.0, "tilt": 0.1}}]
    hostvars = {"a": {"q6000_store_pending_heads": heads}, "b": {"q6000_store_pending_history": ['{"n": 3}']},
                "c": {}, "../x": {"q6000_store_pending_heads": heads}}
    writes = store_writes(["a", "b", "c", "../x"], hostvars, str(host_vars), keep=2)
    assert writes[0] == {"path": str(host_vars / "a" / "main.yml"), "content": None, "move_from": str(host_vars / "a.yml")}
    assert writes[1]["path"] == str(host_vars / "a" / "q6000_calibration.yml")
    assert writes[1]["content"].startswith("---\n# Calibration point sets of a, captured")
    import yaml
    assert yaml.safe_load(writes[1]["content"]) == {"q6000_calibration_heads": heads}
    assert writes[2] == {"path": str(host_vars / "b" / "q6000_history.jsonl"), "move_from": None,
                         "content": '{"n": 2}\n{"n": 3}\n'}
    assert len(writes) == 3
