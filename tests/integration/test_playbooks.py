# -*- coding: utf-8 -*-
"""The collection's roles and playbooks against the twin, as a site operator runs them."""

from __future__ import annotations

import functools
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import textwrap
import time

import pytest
import yaml

from tests.integration.conftest import BIN, COLLECTIONS, PLAYBOOKS, device, fresh_units
from tests.sites import truth_points, write_site as site_inventory

SITE = PLAYBOOKS / "site.yml"
FACTS = PLAYBOOKS / "facts.yml"
CAPTURE = PLAYBOOKS / "capture_calibration.yml"


def once(run, task):
    """The result of a task that runs once for its play (run_once, on the controller), whichever unit it ran for."""
    found = run.results(task)
    assert len(found) == 1, "expected one result of %r, got %d:\n%s" % (task, len(found), run.output)
    return found[0]


def summary(run):
    return once(run, "Show the summary")["result"]["msg"]


def test_a_site_rolls_out_then_a_rerun_changes_nothing_in_three_requests_per_unit(ansible, twin, workdir):
    units = fresh_units(twin, 3)
    inventory = site_inventory(twin, workdir / ("site-rollout-%s" % ansible.execution), units)
    # Three units of the fleet, and not localhost: the summary still runs, and counts these three.
    limit = ",".join(units)
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


def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_summary_under_limit_counts_the_units_that_failed_or_were_not_reached(ansible, twin, workdir):
    units = fresh_units(twin, 3)
    failing, healthy, gone = sorted(units)
    inventory = site_inventory(twin, workdir / ("site-summary-%s" % ansible.execution), units, cameras=(1,))
    twin.fault(failing, "/axis-cgi/remotecameracontrol/getvapixparams.cgi", "http500", count=5)
    with open(inventory.parent / "host_vars" / ("%s.yml" % gone), "a") as host_vars:
        host_vars.write("q6000_port: %d\nq6000_retries: 0\n" % closed_port())
    run = ansible(SITE, inventory, limit=",".join(units),
                  extra_vars={"q6000_serial": "100%", "q6000_max_fail_percentage": 70})
    assert run.rc != 0, run.output
    assert run.results("Apply the link to the PTZ", gone)[0]["status"] == "unreachable"
    # Two units have left the plays; the summary runs for the third, on the controller, and counts all three.
    assert once(run, "Show the summary")["host"] == healthy
    assert summary(run) == "3 units: 1 changed, 1 failed, 0 untouched, 1 not reached. Failed: %s. Not reached: %s." \
        % (failing, gone)
    twin.reset(failing)


def test_a_failing_canary_stops_the_rollout_before_the_other_units(ansible, twin, workdir):
    units = fresh_units(twin, 3)
    inventory = site_inventory(twin, workdir / ("site-canary-%s" % ansible.execution), units)
    canary = sorted(units)[0]
    twin.fault(canary, "/axis-cgi/remotecameracontrol/getvapixparams.cgi", "http500", count=5)
    for unit in units[1:]:
        twin.reset(unit)
    run = ansible(SITE, inventory, limit=",".join(units))
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
    ({"q6000_auth": "ntlm"}, "q6000_auth"),
    ({"q6000_timeout": "soon"}, "q6000_timeout"),
    ({"q6000_retries": "twice"}, "q6000_retries"),
    ({"q6000_ptz_port": "ptz"}, "q6000_ptz_port"),
    ({"q6000_ptz_use_https": "sometimes"}, "q6000_ptz_use_https"),
    ({"q6000_remote_allow_password_over_http": "maybe"}, "q6000_remote_allow_password_over_http"),
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


def test_the_ptz_password_is_refused_over_http_unless_the_site_allows_it(ansible, twin, workdir):
    unit = next(twin.unused)
    directory = workdir / ("site-http-%s" % unit)
    inventory = site_inventory(twin, directory, [unit], cameras=(1,))
    (directory / "group_vars" / "q6000" / "lab.yml").unlink()
    twin.reset(unit)
    run = ansible(SITE, inventory, limit=unit, extra_vars={"q6000_serial": 1})
    assert run.rc != 0
    message = run.result("Apply the link to the PTZ", unit)["msg"]
    assert "remote_password" in message and "use_https=true" in message and "allow_password_over_http" in message
    assert twin.counters(unit)["cgi"] == {}
    assert twin.state(unit)["link"]["password_set"] is False
    assert twin.hosts[unit]["q6000_remote_password"] not in run.output

    allowed = ansible(SITE, inventory, limit=unit, extra_vars={"q6000_serial": 1,
                                                               "q6000_remote_allow_password_over_http": True})
    assert allowed.rc == 0, allowed.output
    assert twin.state(unit)["status"] == 0
    assert twin.hosts[unit]["q6000_remote_password"] not in allowed.output


@pytest.mark.parametrize("variables, fault, count, message", [
    # Reads are retried twice by default: with no retry, one HTTP 503 fails the read.
    ({"q6000_retries": 0}, "http503", 1, "HTTP 503"),
    # Three answers 1.5 s late (the read and its two retries) are in time for the default of 10 s.
    ({"q6000_timeout": 0.5}, "latency", 3, "within 0.5s"),
    ({"q6000_auth": "basic"}, None, 0, "auth: basic would send the password in clear"),
])
def test_the_connection_variables_reach_the_modules(ansible, twin, variables, fault, count, message):
    unit = next(twin.unused)
    cgi = "/axis-cgi/remotecameracontrol/getvapixparams.cgi"
    subset = {"q6000_facts_subset": ["connection"]}
    if fault:
        # Without the variable the same faults are survived: the variable is what makes the difference.
        twin.fault(unit, cgi, fault, count=count, seconds=1.5)
        survived = ansible(FACTS, twin.inventory_path, limit=unit, extra_vars=subset)
        assert survived.rc == 0, survived.output
        twin.reset(unit)
        twin.fault(unit, cgi, fault, count=count, seconds=1.5)
    run = ansible(FACTS, twin.inventory_path, limit=unit, extra_vars=dict(variables, **subset))
    assert run.rc != 0
    assert message in run.result("Read identity, link and calibration", unit)["msg"]
    twin.reset(unit)


def test_facts_playbook_prints_a_table_under_limit(ansible, twin):
    units = fresh_units(twin, 2)
    run = ansible(FACTS, twin.inventory_path, limit=",".join(units))
    assert run.rc == 0, run.output
    lines = once(run, "One line per unit")["result"]["msg"]
    assert lines[0].split() == ["unit", "model", "firmware", "link", "calibrated", "session"]
    assert len(lines) == 3
    for unit in units:
        line = next(line for line in lines if line.startswith(unit))
        assert re.match(r"%s\s+Q6000-E\s+6\.50\.1\s+3 Not authorized\s+none\s+none$" % unit, line), line


# --- capture_calibration.yml -----------------------------------------------------------------------------------

TARGETS = [{"x": -0.6, "y": 0.5}, {"x": 0.6, "y": 0.45}, {"x": 0.55, "y": -0.5}, {"x": -0.5, "y": -0.55}]


def positions_of(twin, unit, camera, targets=None):
    targets = TARGETS if targets is None else targets
    return [dict(zip(("pan", "tilt"), twin.truth(unit, camera, t["x"], t["y"]))) for t in targets]


def capture_vars(unit, camera, positions=None, targets=None, **more):
    targets = TARGETS if targets is None else targets
    extra = {"q6000_capture_unit": unit, "q6000_capture_camera": camera, "q6000_capture_targets": targets}
    if positions is not None:
        extra["q6000_capture_positions"] = positions
    return dict(extra, **more)


def link_local_remote_url(twin, unit):
    """The PTZ address the Q6000-E reports (auto discovery, as from the factory): one the controller cannot use."""
    host = twin.state(unit)["link"]["host"]
    assert host.startswith("169.254."), host
    return host


def ptz_at_rest(twin, unit):
    ptz = twin.state(unit)["ptz"]
    assert ptz["moving"] is False
    return ptz


def test_capture_unattended_reaches_the_ptz_at_ptz_hostname_and_the_rollout_applies_the_points(ansible, twin, workdir):
    unit = next(twin.unused)
    directory = workdir / ("site-capture-%s" % unit)
    inventory = site_inventory(twin, directory, [])
    link_local_remote_url(twin, unit)
    # The rollout saves these points: far targets, as an operator picks them (near ones carry parallax).
    targets = [{"x": p["x"], "y": p["y"]} for p in truth_points(twin, unit, 2)[:4]]
    positions = positions_of(twin, unit, 2, targets)
    twin.reset(unit)
    capture = ansible(CAPTURE, inventory, extra_vars=capture_vars(unit, 2, positions, targets))
    assert capture.rc == 0, capture.output
    assert [r["action"] for r in capture.results("Aim the PTZ at the given position", unit)] == \
        ["vapix.q6000.remote_ptz"] * len(targets)
    assert twin.counters(unit)["cgi"]["ptz:/axis-cgi/com/ptz.cgi"] > len(targets)
    assert ptz_at_rest(twin, unit)["pan"] == pytest.approx(positions[-1]["pan"], abs=0.001)
    written = yaml.safe_load((directory / "host_vars" / unit / "q6000_calibration.yml").read_text())
    [head] = written["q6000_calibration_heads"]
    assert head["camera"] == 2
    for point, target, position in zip(head["points"], targets, positions):
        assert (point["x"], point["y"]) == (target["x"], target["y"])
        assert point["pan"] == pytest.approx(position["pan"], abs=0.001)
        assert point["tilt"] == pytest.approx(position["tilt"], abs=0.001)
    assert twin.state(unit)["calibrated"]["2"] is False
    for secret in (twin.hosts[unit]["q6000_password"], twin.hosts[unit]["q6000_remote_password"]):
        assert secret not in capture.output

    rollout = ansible(SITE, inventory, limit=unit, extra_vars={"q6000_remote_wait": True})
    assert rollout.rc == 0, rollout.output
    assert twin.state(unit)["calibrated"] == {"1": False, "2": True, "3": False, "4": False}


def test_capture_without_ptz_hostname_names_it_and_moves_nothing(ansible, twin, workdir):
    """The fallback, the URL the Q6000-E reports, is link-local here: refused before the PTZ is touched."""
    unit = next(twin.unused)
    directory = workdir / ("site-no-ptz-hostname-%s" % unit)
    inventory = site_inventory(twin, directory, [])
    host = link_local_remote_url(twin, unit)
    before = ptz_at_rest(twin, unit)
    twin.reset(unit)
    extra = capture_vars(unit, 1, positions_of(twin, unit, 1), q6000_ptz_hostname=None)
    run = ansible(CAPTURE, inventory, extra_vars=extra)
    assert run.rc != 0
    message = run.result("Aim the PTZ at the given position", unit)["msg"]
    assert message.startswith("ptz_hostname: ") and host in message and "link-local" in message
    assert [path for path in twin.counters(unit)["cgi"] if path.startswith("ptz:")] == []
    assert ptz_at_rest(twin, unit) == before
    assert not (directory / "host_vars" / unit).exists()


def test_capture_moves_the_units_host_vars_file_unchanged_into_its_folder(ansible, twin, workdir):
    from ansible.parsing.vault import VaultLib, VaultSecret

    unit = next(twin.unused)
    directory = workdir / ("site-move-%s" % unit)
    inventory = site_inventory(twin, directory, [])
    vault_password = directory / "vault-password"
    vault_password.write_text("site-vault-password\n")
    vault = VaultLib([("default", VaultSecret(b"site-vault-password"))])
    ciphertext = vault.encrypt("kept-in-the-vault").decode()
    old_heads = [{"camera": 1, "points": truth_points(twin, unit, 1)},
                 {"camera": 2, "points": truth_points(twin, unit, 2, ((-0.5, 0.5), (0.5, 0.5), (0.5, -0.5), (-0.5, -0.5)))}]
    original = ("---\n# Notes on %s, by hand: kept as they are.\n" % unit
                + "q6000_site_note: lobby, north wall   # where it hangs\n"
                + "q6000_site_secret: !vault |\n" + textwrap.indent(ciphertext, "  ") + "\n"
                + yaml.safe_dump({"q6000_calibration_heads": old_heads}, sort_keys=False)).encode()
    (directory / "host_vars" / ("%s.yml" % unit)).write_bytes(original)
    positions = positions_of(twin, unit, 2)
    run = ansible(CAPTURE, inventory, extra_vars=capture_vars(unit, 2, positions),
                  args=["--vault-password-file", str(vault_password)])
    assert run.rc == 0, run.output
    folder = directory / "host_vars" / unit
    assert not (directory / "host_vars" / ("%s.yml" % unit)).exists()
    assert sorted(path.name for path in folder.iterdir()) == ["main.yml", "q6000_calibration.yml"]
    assert (folder / "main.yml").read_bytes() == original
    written = yaml.safe_load((folder / "q6000_calibration.yml").read_text())["q6000_calibration_heads"]
    assert [head["camera"] for head in written] == [1, 2]
    assert written[0] == old_heads[0]
    assert [p["pan"] for p in written[1]["points"]] == pytest.approx([p["pan"] for p in positions], abs=0.001)
    assert not list((directory / "host_vars").glob(".*"))

    # What the inventory gives the unit now: the old file's variables, and the new point sets over its old ones.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    shown = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--host", unit,
                            "--vault-password-file", str(vault_password)],
                           env=env, capture_output=True, text=True, check=True)
    hostvars = json.loads(shown.stdout)
    assert hostvars["q6000_site_note"] == "lobby, north wall"
    assert vault.decrypt(hostvars["q6000_site_secret"]["__ansible_vault"]) == b"kept-in-the-vault"
    assert hostvars["q6000_calibration_heads"] == written


def test_capture_refuses_a_folder_whose_later_file_would_override_the_points(ansible, twin, workdir):
    """Files of host_vars/<unit>/ are read in name order: one after q6000_calibration.yml would win."""
    unit = next(twin.unused)
    directory = workdir / ("site-shadow-%s" % unit)
    inventory = site_inventory(twin, directory, [])
    folder = directory / "host_vars" / unit
    folder.mkdir()
    (folder / "aa-notes.yml").write_text("q6000_calibration_heads: []\n")
    (folder / "zz-heads.yml").write_text(yaml.safe_dump({"q6000_calibration_heads": []}))
    (folder / "zz-backup.yml~").write_text("q6000_calibration_heads: []\n")
    twin.reset(unit)
    run = ansible(CAPTURE, inventory, extra_vars=capture_vars(unit, 1, positions_of(twin, unit, 1)))
    assert run.rc != 0
    message = run.result("Check that the captured points will be what the inventory gives the unit", unit)["msg"]
    named, _set, rest = message.partition(" set q6000_calibration_heads ")
    assert named == str(folder / "zz-heads.yml") and rest.startswith("and are read after q6000_calibration.yml")
    assert twin.counters(unit)["cgi"] == {}
    assert sorted(path.name for path in folder.iterdir()) == ["aa-notes.yml", "zz-backup.yml~", "zz-heads.yml"]


@pytest.fixture
def no_terminal(monkeypatch):
    """ansible-playbook as AWX or CI start it: stdin is not a terminal (here /dev/null)."""
    monkeypatch.setattr(subprocess, "run", functools.partial(subprocess.run, stdin=subprocess.DEVNULL))


def test_capture_without_a_terminal_or_positions_fails_before_any_request(ansible, twin, workdir, no_terminal):
    unit = next(twin.unused)
    directory = workdir / ("site-no-tty-%s" % unit)
    inventory = site_inventory(twin, directory, [unit], cameras=(1,))
    before = ptz_at_rest(twin, unit)
    twin.reset(unit)
    run = ansible(CAPTURE, inventory, extra_vars=capture_vars(unit, 1))
    assert run.rc != 0
    # pause itself found no terminal: the run did not wait, and the playbook did not go on.
    assert "Not waiting for response to prompt as stdin is not interactive" in run.output
    message = run.result("Check that an operator started the capture", unit)["msg"]
    assert message.startswith("no operator started the capture") and "q6000_capture_positions" in message
    assert run.results("Read where the PTZ looks") == []
    assert twin.counters(unit)["cgi"] == {}
    assert ptz_at_rest(twin, unit) == before
    assert sorted(path.name for path in (directory / "host_vars").iterdir()) == ["%s.yml" % unit]


def test_capture_refuses_two_targets_at_one_ptz_position_and_writes_nothing(ansible, twin, workdir):
    unit = next(twin.unused)
    directory = workdir / ("site-same-%s" % unit)
    inventory = site_inventory(twin, directory, [])
    # Positions the PTZ holds exactly, so that the message's rounding is the test's.
    positions = [{k: round(v, 2) for k, v in p.items()} for p in positions_of(twin, unit, 3)]
    positions[2] = dict(positions[1])
    run = ansible(CAPTURE, inventory, extra_vars=capture_vars(unit, 3, positions))
    assert run.rc != 0
    assert run.result("Check that each target got its own PTZ position", unit)["msg"].startswith(
        "target 3 (pan, tilt %s, %s) got the PTZ position of an earlier target"
        % (round(positions[1]["pan"], 2), round(positions[1]["tilt"], 2)))
    assert not (directory / "host_vars" / unit).exists()


@pytest.mark.parametrize("name", ["../escaped", "sub/dir", "bell\x07name", "tab\tname", "."])
def test_capture_refuses_an_inventory_name_that_is_not_a_safe_folder_name(ansible, twin, workdir, name):
    """The unit's name becomes host_vars/<name>/: refused before anything, so nothing is written elsewhere."""
    unit = next(twin.unused)
    directory = workdir / ("site-name-%s" % unit) / "site"
    directory.mkdir(parents=True)
    inventory = directory / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"q6000": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {name: dict(twin.hosts[unit])}}}}}))
    twin.reset(unit)
    # The group: a host pattern cannot name every one of these (a tab splits it).
    run = ansible(CAPTURE, inventory, extra_vars=capture_vars("q6000", 1, positions_of(twin, unit, 1)))
    assert run.rc != 0
    message = run.result("Check the unit's name, which names its host_vars folder", name)["msg"]
    assert message.startswith("inventory_hostname %s cannot name" % json.dumps(name))
    assert twin.counters(unit)["cgi"] == {}
    assert sorted(path.name for path in directory.parent.rglob("*")) == ["inventory.yml", "site"]


@pytest.mark.parametrize("variables, task, message", [
    ({"q6000_capture_camera": 5}, "Check the head to capture", "q6000_capture_camera=5 is not a head"),
    ({"q6000_capture_targets": TARGETS[:2]}, "Check the targets", "q6000_capture_targets must be"),
    ({"q6000_capture_targets": TARGETS[:3] + [{"x": 1.5, "y": 0}]}, "Check the targets", "q6000_capture_targets must be"),
    ({"q6000_capture_positions": [{"pan": 0, "tilt": -10}]}, "Check the positions", "q6000_capture_positions must be"),
    ({"q6000_capture_positions": [{"pan": 0, "tilt": t} for t in (-10, -20, -30, 120)]}, "Check the positions",
     "q6000_capture_positions must be"),
    ({"q6000_capture_positions": [{"pan": p, "tilt": -10} for p in (0, 10, 20, 30)], "no account": True},
     "Check the PTZ's account", "set q6000_remote_username and q6000_remote_password"),
])
def test_capture_refuses_bad_variables_before_any_request(ansible, twin, tmp_path, variables, task, message):
    unit = next(twin.unused)
    variables = dict(variables)
    inventory = yaml.safe_load(twin.inventory_path.read_text())
    if variables.pop("no account", False):
        del inventory["all"]["children"]["q6000"]["hosts"][unit]["q6000_remote_password"]
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    twin.reset(unit)
    run = ansible(CAPTURE, tmp_path / "inventory.yml", extra_vars=dict(capture_vars(unit, 1), **variables))
    assert run.rc != 0
    assert message in run.result(task, unit)["msg"]
    assert twin.counters(unit)["cgi"] == {}


@pytest.mark.parametrize("pattern", ["q6000-9999", "q6000"])
def test_capture_refuses_a_unit_pattern_that_is_not_one_unit(ansible, twin, pattern):
    count = 0 if pattern == "q6000-9999" else len(twin.hosts)
    run = ansible(CAPTURE, twin.inventory_path, extra_vars=capture_vars(pattern, 1, []))
    assert run.rc != 0
    message = run.result("Check that q6000_capture_unit names one unit of the inventory", "localhost")["msg"]
    assert message.startswith('q6000_capture_unit="%s" names %d hosts of the inventory' % (pattern, count))
    assert run.results("Check the unit's name, which names its host_vars folder") == []


def at_a_terminal(command, env, answer, timeout=180):
    """ansible-playbook on a pseudo-terminal, as an operator runs it: answer(output so far) gives what to type.

    What is typed goes in a moment after the prompt shows, as a person types: pause flushes the terminal's input
    just after it prints the prompt. Returns (exit code, output); a run still going at the timeout is killed.
    """
    pid, master = pty.fork()
    if pid == 0:
        os.execve(command[0], command, env)
    seen = b""
    deadline = time.monotonic() + timeout
    exited = None
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
            typed = answer(seen)
            if typed:
                time.sleep(0.3)
                os.write(master, typed)
    finally:
        while exited is None:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                exited = status
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            else:
                time.sleep(0.1)
        os.close(master)
    assert exited is not None, "ansible-playbook still ran after %ss:\n%s" % (timeout, seen.decode(errors="replace"))
    return os.waitstatus_to_exitcode(exited), seen.decode(errors="replace")


START = b"To start, type the unit's name"


def test_capture_with_an_operator_at_the_prompts(twin, workdir):
    """The operator starts it with the unit's name, aims the PTZ between prompts; the points are saved."""
    unit = next(twin.unused)
    directory = workdir / "site-operator"
    inventory = site_inventory(twin, directory, [])
    # Far targets of this head, as an operator following Axis' advice picks them: with the playbook's default
    # pixels, near content's parallax makes most heads of the twin's world fail the device's fit (error 51).
    targets = truth_points(twin, unit, 4)
    device(twin, unit, "remotecameracontrol/setvapixparams.cgi", password=twin.hosts[unit]["q6000_remote_password"])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(CAPTURE),
               "-e", "q6000_capture_unit=%s q6000_capture_camera=4 q6000_capture_save=true" % unit,
               "-e", json.dumps({"q6000_capture_targets": [{"x": t["x"], "y": t["y"]} for t in targets]})]
    answered = {"start": False, "targets": 0}

    def operator(seen):
        if not answered["start"] and START in seen:
            answered["start"] = True
            return unit.encode() + b"\r"
        if seen.count(b"then press Enter") > answered["targets"]:
            target = targets[answered["targets"]]
            device(twin, unit, "ptz:com/ptz.cgi", pan=target["pan"], tilt=target["tilt"])
            answered["targets"] += 1
            return b"\r"
        return None

    code, text = at_a_terminal(command, env, operator)
    assert code == 0, text
    assert answered == {"start": True, "targets": 5}
    first = targets[0]  # far_pixels starts nearest the top-left corner
    side = "left" if first["x"] < -0.2 else ("right" if first["x"] > 0.2 else "centre")
    assert "at x=%s, y=%s of the head's image (%s, " % (first["x"], first["y"], side) in " ".join(text.split())
    written = yaml.safe_load((directory / "host_vars" / unit / "q6000_calibration.yml").read_text())
    assert [p["pan"] for p in written["q6000_calibration_heads"][0]["points"]] == \
        pytest.approx([t["pan"] for t in targets], abs=0.001)
    assert twin.state(unit)["calibrated"]["4"] is True
    assert twin.hosts[unit]["q6000_remote_password"] not in text


def test_capture_at_a_terminal_stops_when_the_operator_names_another_unit(twin, workdir):
    unit = next(twin.unused)
    directory = workdir / ("site-wrong-unit-%s" % unit)
    inventory = site_inventory(twin, directory, [])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(CAPTURE), "-e", "q6000_capture_unit=%s" % unit]
    twin.reset(unit)
    typed = []

    def someone(seen):
        if not typed and START in seen:
            typed.append(True)
            return b"q6000-999\r"
        return None

    code, text = at_a_terminal(command, env, someone)
    assert code != 0, text
    assert "The answer was not the unit's name, %s. Nothing was done." % unit in " ".join(text.split())
    assert "then press Enter" not in text
    assert twin.counters(unit)["cgi"] == {}
    assert not (directory / "host_vars" / unit).exists()


EXAMPLE = PLAYBOOKS.parent / "inventories" / "example"


def test_the_example_site_keeps_no_secret_in_clear_and_its_point_sets_are_valid(tmp_path):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.vapix.q6000.plugins.module_utils.calibration import ARGUMENT_SPEC, validate
    from ansible_collections.vapix.q6000.plugins.module_utils._runner import argument_spec

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
            # What remote_calibration's argument spec makes of them, then its own checks.
            checked = ArgumentSpecValidator(argument_spec(ARGUMENT_SPEC)).validate(
                {"hostname": "example", "username": "root", "password": "secret", "heads": heads})
            assert not checked.error_messages, unit
            validate(checked.validated_parameters)
    syntax = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(EXAMPLE / "hosts.yml"), "--syntax-check",
                             str(PLAYBOOKS / "site.yml")], env=env, capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr


def test_the_example_site_gives_every_units_ptz_a_site_address_and_https(tmp_path):
    """What the connection role makes of the example's variables, as module_defaults gets it (no device needed)."""
    from tests.integration.conftest import Runner

    keys = ["ptz_hostname", "ptz_port", "ptz_use_https", "ptz_ca_path", "use_https", "remote_username", "timeout",
            "retries", "auth"]
    shown = "{{ q6000_connection | dict2items | selectattr('key', 'in', %s) | items2dict }}" % keys
    plays = [{"name": "connection", "hosts": "q6000", "gather_facts": False,
              "roles": ["vapix.q6000.connection"],
              "tasks": [{"name": "connection", "ansible.builtin.debug": {"msg": shown}}]}]
    run = Runner(tmp_path)(plays, EXAMPLE / "hosts.yml",
                           env={"Q6000_PASSWORD": "from-env", "Q6000_PTZ_PASSWORD": "ptz-from-env"})
    assert run.rc == 0, run.output
    connection = {unit: run.result("connection", unit)["msg"] for unit in ("cam-lobby-01", "cam-lobby-02", "cam-park-01")}
    common = {"use_https": True, "ptz_use_https": None, "ptz_ca_path": None, "remote_username": "q6000-link",
              "timeout": 10, "retries": 2, "auth": "auto"}
    assert connection == {
        "cam-lobby-01": dict(common, ptz_hostname="192.0.2.111", ptz_port=None),
        # Over HTTPS the link's HTTP port is not the PTZ's: the HTTPS port is, which the inventory leaves alone.
        "cam-lobby-02": dict(common, ptz_hostname="192.0.2.112", ptz_port=None),
        "cam-park-01": dict(common, ptz_hostname="192.0.2.121", ptz_port=None),
    }
    assert "from-env" not in run.output

    # Without HTTPS the link's HTTP port is where the PTZ's web server is.
    plain = Runner(tmp_path)(plays, EXAMPLE / "hosts.yml", extra_vars={"q6000_use_https": False},
                             env={"Q6000_PASSWORD": "from-env", "Q6000_PTZ_PASSWORD": "ptz-from-env"})
    assert plain.rc == 0, plain.output
    assert [plain.result("connection", unit)["msg"]["ptz_port"] for unit in ("cam-lobby-01", "cam-lobby-02")] == [None, 8080]
