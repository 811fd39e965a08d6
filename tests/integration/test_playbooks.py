# -*- coding: utf-8 -*-
"""The collection's roles and playbooks against the twin, as a site operator runs them."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time

import pytest
import yaml

from tests.integration.conftest import BIN, COLLECTIONS, PLAYBOOKS, device, fresh_units
from tests.sites import truth_points, write_site as site_inventory

SITE = PLAYBOOKS / "site.yml"
FACTS = PLAYBOOKS / "facts.yml"
CAPTURE = PLAYBOOKS / "capture_calibration.yml"


def summary(run):
    return run.result("Show the summary", "localhost")["msg"]


def test_a_site_rolls_out_then_a_rerun_changes_nothing_in_three_requests_per_unit(ansible, twin, workdir):
    units = fresh_units(twin, 3)
    inventory = site_inventory(twin, workdir / "site-rollout", units)
    limit = ",".join(units + ["localhost"])
    first = ansible(SITE, inventory, limit=limit, extra_vars={"q6000_target": "q6000"})
    assert first.rc == 0, first.output
    assert summary(first) == "3 units: 3 changed, 0 failed, 0 untouched, 0 not reached."
    for unit in units:
        assert twin.state(unit)["calibrated"] == {"1": True, "2": True, "3": True, "4": True}
        assert twin.state(unit)["status"] == 0
        twin.reset(unit)

    second = ansible(SITE, inventory, limit=limit)
    assert second.rc == 0, second.output
    assert summary(second) == "3 units: 0 changed, 0 failed, 3 untouched, 0 not reached."
    for unit in units:
        counters = twin.counters(unit)
        assert sum(counters["cgi"].values()) == 3, counters
        assert counters["unauthorized"] <= 2


def test_a_failing_canary_stops_the_rollout_before_the_other_units(ansible, twin, workdir):
    units = fresh_units(twin, 3)
    inventory = site_inventory(twin, workdir / "site-canary", units)
    canary = sorted(units)[0]
    twin.fault(canary, "/axis-cgi/remotecameracontrol/getvapixparams.cgi", "http500", count=5)
    for unit in units[1:]:
        twin.reset(unit)
    run = ansible(SITE, inventory, limit=",".join(units + ["localhost"]))
    assert run.rc != 0
    assert "HTTP 500" in run.result("Apply the link to the PTZ", canary)["msg"]
    for unit in sorted(units)[1:]:
        assert twin.counters(unit)["cgi"] == {}, "the rollout went on past the failed canary"
    twin.reset(canary)


@pytest.mark.parametrize("variables, message", [
    ({"q6000_remote_http_port": "eighty"}, "q6000_remote_http_port"),
    ({"q6000_recalibrate": "sometimes"}, "q6000_recalibrate"),
    ({"q6000_remote_wait": "perhaps"}, "q6000_remote_wait"),
    ({"q6000_calibration_heads": "camera 1"}, "q6000_calibration_heads"),
    ({"q6000_port": "http"}, "q6000_port"),
])
def test_bad_role_variables_fail_before_any_device_is_touched(ansible, twin, workdir, variables, message):
    unit = next(twin.unused)
    inventory = site_inventory(twin, workdir / ("site-bad-%s" % unit), [unit])
    twin.reset(unit)
    run = ansible(SITE, inventory, limit=unit, extra_vars=dict(variables, q6000_serial=1))
    assert run.rc != 0
    assert message in run.output
    assert twin.counters(unit)["cgi"] == {}
    assert twin.hosts[unit]["q6000_password"] not in run.output


def test_facts_playbook_prints_a_table(ansible, twin):
    units = fresh_units(twin, 2)
    run = ansible(FACTS, twin.inventory_path, limit=",".join(units + ["localhost"]))
    assert run.rc == 0, run.output
    lines = run.result("One line per unit", "localhost")["msg"]
    assert lines[0].split() == ["unit", "model", "firmware", "link", "calibrated", "session"]
    for unit in units:
        line = next(line for line in lines if line.startswith(unit))
        assert re.match(r"%s\s+Q6000-E\s+6\.50\.1\s+3 Not authorized\s+none\s+none$" % unit, line), line


def test_capture_unattended_writes_points_that_the_rollout_applies(ansible, twin, workdir):
    unit = next(twin.unused)
    directory = workdir / "site-capture"
    inventory = site_inventory(twin, directory, [])
    targets = [{"x": -0.6, "y": 0.5}, {"x": 0.6, "y": 0.45}, {"x": 0.55, "y": -0.5}, {"x": -0.5, "y": -0.55}]
    positions = [dict(zip(("pan", "tilt"), twin.truth(unit, 2, t["x"], t["y"]))) for t in targets]
    capture = ansible(CAPTURE, inventory, extra_vars={"q6000_capture_unit": unit, "q6000_capture_camera": 2,
                                                      "q6000_capture_targets": targets,
                                                      "q6000_capture_positions": positions})
    assert capture.rc == 0, capture.output
    written = yaml.safe_load((directory / "host_vars" / unit / "q6000_calibration.yml").read_text())
    [head] = written["q6000_calibration_heads"]
    assert head["camera"] == 2
    for point, target, position in zip(head["points"], targets, positions):
        assert (point["x"], point["y"]) == (target["x"], target["y"])
        assert point["pan"] == pytest.approx(position["pan"], abs=0.001)
        assert point["tilt"] == pytest.approx(position["tilt"], abs=0.001)
    assert twin.state(unit)["calibrated"]["2"] is False

    rollout = ansible(SITE, inventory, limit=unit + ",localhost", extra_vars={"q6000_remote_wait": True})
    assert rollout.rc == 0, rollout.output
    assert twin.state(unit)["calibrated"] == {"1": False, "2": True, "3": False, "4": False}


def test_capture_with_an_operator_at_the_prompts(twin, workdir):
    """The operator aims the PTZ between prompts; the playbook records where it looks and saves the head."""
    unit = next(twin.unused)
    directory = workdir / "site-operator"
    inventory = site_inventory(twin, directory, [])
    targets = truth_points(twin, unit, 4, ((-0.6, 0.5), (0.6, 0.5), (0.6, -0.5), (-0.6, -0.5), (0.0, 0.05)))
    device(twin, unit, "remotecameracontrol/setvapixparams.cgi", password=twin.hosts[unit]["q6000_remote_password"])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(CAPTURE),
               "-e", "q6000_capture_unit=%s q6000_capture_camera=4 q6000_capture_save=true" % unit]
    pid, master = pty.fork()
    if pid == 0:
        os.execve(command[0], command, env)
    seen = b""
    prompts = 0
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            ready, _writable, _failed = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if seen.count(b"then press Enter") > prompts:
                target = targets[prompts]
                device(twin, unit, "ptz:com/ptz.cgi", pan=target["pan"], tilt=target["tilt"])
                prompts += 1
                os.write(master, b"\r")
    finally:
        _pid, status = os.waitpid(pid, 0)
        os.close(master)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert prompts == 5
    assert "at x=-0.6, y=0.5 of the head's image (left, top)" in " ".join(text.split())
    written = yaml.safe_load((directory / "host_vars" / unit / "q6000_calibration.yml").read_text())
    assert [p["pan"] for p in written["q6000_calibration_heads"][0]["points"]] == \
        pytest.approx([t["pan"] for t in targets], abs=0.001)
    assert twin.state(unit)["calibrated"]["4"] is True
    assert twin.hosts[unit]["q6000_remote_password"] not in text


EXAMPLE = PLAYBOOKS.parent / "inventories" / "example"


def test_the_example_site_keeps_no_secret_in_clear_and_its_point_sets_are_valid():
    from ansible_collections.vapix.q6000.plugins.module_utils.calibration import validate

    for path in EXAMPLE.rglob("*.yml"):
        for line in path.read_text().splitlines():
            if re.search(r"password\s*:", line) and "update_password" not in line and not line.lstrip().startswith("#"):
                assert "lookup('ansible.builtin.env'" in line or "vault_" in line, (path, line)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), Q6000_PASSWORD="from-env",
               Q6000_PTZ_PASSWORD="ptz-from-env")
    shown = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(EXAMPLE / "hosts.yml"), "--list"],
                           env=env, capture_output=True, text=True, check=True)
    hostvars = json.loads(shown.stdout)["_meta"]["hostvars"]
    assert sorted(hostvars) == ["cam-lobby-01", "cam-lobby-02", "cam-park-01"]
    for unit, variables in hostvars.items():
        heads = variables.get("q6000_calibration_heads")
        if heads:
            validate({"heads": heads, "recalibrate": "when_uncalibrated", "min_points": 4, "abort_ongoing": False,
                      "drift_tolerance": 1.0, "remote_username": None, "remote_password": None})
    syntax = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(EXAMPLE / "hosts.yml"), "--syntax-check",
                             str(PLAYBOOKS / "site.yml")], env=env, capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
