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


def image_head(camera, moved, flagged=False, action="none", pan=0.1, tilt=-0.05):
    return {"camera": camera, "action": action, "drift": {
        "method": "image", "pan": pan, "tilt": tilt, "moved": moved, "flagged": flagged, "tolerance": 0.3,
        "max": 0.4, "baseline": {"pan": 0.0, "tilt": 0.0},
        "points": [{"error": 0.1, "pan": 0.1, "tilt": 0.0}, {"error": None, "reason": "no match"}]}}


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

def test_a_line_per_measured_head():
    result = {"heads": [image_head(1, 0.12), image_head(2, 1.1, True, "recalibrated"), {"camera": 3, "action": "none"},
                        {"camera": 4, "drift": {"method": "points", "max": 0.1}}]}
    lines = [json.loads(line) for line in drift_history_lines(result, now="2026-12-06T02:00:00Z")]
    assert [line["camera"] for line in lines] == [1, 2]
    first, second = lines
    assert first == {"time": "2026-12-06T02:00:00Z", "camera": 1, "status": "ok", "pan": 0.1, "tilt": -0.05,
                     "moved": 0.12, "baseline": {"pan": 0.0, "tilt": 0.0}, "flagged": False, "max": 0.4, "pairs": 1,
                     "points": 2, "tolerance": 0.3, "version": first["version"], "recapture": False}
    assert first["version"] and first["version"] == fleet._collection_version()
    assert second["status"] == "recaptured" and second["recapture"] is True and second["flagged"] is True
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
