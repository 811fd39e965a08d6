# -*- coding: utf-8 -*-
"""The modules' core scenarios under each firmware variance the twin can show (its switches, README).

Each case takes a fresh unit, switches that unit's firmware behaviours, and runs: the link twice, facts,
calibration twice, a when_drifted check, the PTZ's facts and a move, and the capture playbook. The matrix runs
on the controller-side path only: both paths share the client, which is what the variance exercises.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import PLAYBOOKS, Runner, play
from tests.sites import truth_points

ACCOUNT = {"remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}"}
# What the Q6000-E reports for its PTZ is used only where a case says so (a routable remote URL).
REMOTE_URL_ONLY = {"ptz_hostname": None, "ptz_port": None}

# Each case switches several behaviours at once, so that every switch (and every value of it) runs the whole
# scenario while the matrix stays short; a case that fails names its switches, and the twin's own suite
# (tests/twin/) tries each switch alone. Two behaviours that use the address the Q6000-E reports are cases of
# their own.
VARIANCES = {
    "crlf-xml, http-1.0, error-as-400, target-zero, md5-sess": ({
        "xml_preamble": "crlf", "http10": True, "error_status": 400, "current_target": "zero",
        "digest_algorithm": "MD5-sess"}, {}),
    "blank-line-xml, error-as-500, target-empty, no-algorithm, no-root": ({
        "xml_preamble": "blank", "error_status": 500, "current_target": "empty", "digest_algorithm": "none",
        "param_prefix": False}, {}),
    "param-lacks-groups, deprecated-false, error-no-space, two-decimals": ({
        "param_lacks": ["Brand.ProdFullName", "Properties.System"], "deprecated_false": True, "error_space": False,
        "position_decimals": 2}, {}),
    "motor-late, zoom-2500, slow-save, stale-nonces": ({
        "ptz_start_delay": 0.3, "ptz_start_zoom": 2500, "save_delay": 2.0, "nonce_lifetime": 1.0}, {}),
    "remote-url-without-slash": ({"remote_url_slash": False, "discovery_link_local": False}, REMOTE_URL_ONLY),
    "reachable-discovery": ({"discovery_link_local": False}, REMOTE_URL_ONLY),
}


@pytest.fixture(scope="module")
def controller(workdir):
    return Runner(workdir, "auto")


def scenario(twin, unit):
    heads = [{"camera": c, "points": truth_points(twin, unit, c)} for c in (1, 2)]
    link = {"vapix.q6000.remote_camera_params": dict(
        ACCOUNT, remote_host="{{ q6000_remote_host }}", http_port="{{ q6000_remote_http_port }}",
        wait_for_connection=True, wait_timeout=20)}
    calibrate = {"vapix.q6000.remote_calibration": {"heads": heads}}
    return [
        dict(link, name="link", register="link"),
        dict(link, name="link again", register="link_again"),
        {"name": "facts", "vapix.q6000.calibration_facts": {}, "register": "facts"},
        dict(calibrate, name="calibrate"),
        dict(calibrate, name="calibrate again"),
        {"name": "drift", "vapix.q6000.remote_calibration": {
            "heads": heads, "recalibrate": "when_drifted", "drift_tolerance": 0.3}},
        {"name": "ptz facts", "vapix.q6000.calibration_facts": {"gather_subset": ["calibration", "ptz"]}},
        {"name": "aim", "vapix.q6000.remote_ptz": {"pan": 33.3, "tilt": -22.2}},
    ]


@pytest.mark.parametrize("variance", list(VARIANCES))
def test_core_scenarios_under_firmware_variance(controller, twin, unit, variance, tmp_path):
    settings, defaults = VARIANCES[variance]
    twin.settings(unit, **settings)
    run = controller(play(scenario(twin, unit), defaults=dict(ACCOUNT, **defaults)), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    assert run.result("link", unit)["changed"] is True
    assert run.result("link", unit)["status"]["code"] == 0
    assert run.result("link again", unit)["changed"] is False
    facts = run.result("facts", unit)["ansible_facts"]["q6000"]
    assert facts["model"] == "Q6000-E" and facts["heads"] == 4
    assert facts["session"] is None
    assert run.result("calibrate", unit)["changed"] is True
    assert run.result("calibrate again", unit)["changed"] is False
    drift = run.result("drift", unit)
    assert drift["changed"] is False
    assert all(head["drift"]["max"] < 0.3 for head in drift["heads"]), drift["heads"]
    assert run.result("ptz facts", unit)["ansible_facts"]["q6000"]["calibrated_heads"] == [1, 2]
    assert run.result("aim", unit)["position"]["pan"] == pytest.approx(33.3, abs=0.001)
    state = twin.state(unit)
    assert state["session"] is None
    assert state["ptz"]["zoom"] == settings.get("ptz_start_zoom", 1)

    far = truth_points(twin, unit, 3)[:4]  # far content: the device's fit takes them despite the parallax
    targets = [{"x": p["x"], "y": p["y"]} for p in far]
    positions = [{"pan": p["pan"], "tilt": p["tilt"]} for p in far]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(Path(twin.inventory_path).read_text())
    capture = controller(PLAYBOOKS / "capture_calibration.yml", inventory, extra_vars={
        "q6000_capture_unit": unit, "q6000_capture_camera": 3, "q6000_capture_targets": targets,
        "q6000_capture_positions": positions, "q6000_capture_save": True})
    assert capture.rc == 0, capture.output
    written = yaml.safe_load((tmp_path / "host_vars" / unit / "q6000_calibration.yml").read_text())
    [head] = written["q6000_calibration_heads"]
    assert head["camera"] == 3 and len(head["points"]) == 4
    for point, position in zip(head["points"], positions):
        assert point["pan"] == pytest.approx(position["pan"], abs=0.01)
        assert point["tilt"] == pytest.approx(position["tilt"], abs=0.01)
    assert twin.state(unit)["calibrated"]["3"] is True
    assert twin.state(unit)["session"] is None
