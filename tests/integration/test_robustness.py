# -*- coding: utf-8 -*-
"""Two runs on one unit, interrupted runs, encodings, authentication and TLS, secrets at -vvvv."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.emulator.process import Twin
from tests.integration.conftest import BIN, PLAYBOOKS, play, secrets_of
from tests.sites import truth_points, write_site

CAL = "/axis-cgi/ptremotecalibration/"


def calibrate(twin, unit, camera=1):
    return {"name": "calibrate", "vapix.q6000.remote_calibration": {
        "heads": [{"camera": camera, "points": truth_points(twin, unit, camera)}], "recalibrate": "always"}}


def start(ansible, plays, inventory, limit):
    """Start ansible-playbook in its own process group (as a terminal would), without waiting."""
    path = ansible.workdir / ("background-%s-%s.yml" % (limit, time.monotonic_ns()))
    import yaml

    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(path), "--limit", limit]
    if ansible.execution != "auto":
        command += ["-e", "vapix_q6000_execution=%s" % ansible.execution]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(PLAYBOOKS.parent / ".venv" / "collections"),
               ANSIBLE_NOCOLOR="1")
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_for_session(twin, unit, timeout=30):
    deadline = time.monotonic() + timeout
    while twin.state(unit)["session"] is None:
        assert time.monotonic() < deadline, "no session was started"
        time.sleep(0.1)


def wait_for_no_session(twin, unit, output, timeout=10):
    """An interrupted run aborts its session on the way out, a moment after it was signalled."""
    deadline = time.monotonic() + timeout
    while twin.state(unit)["session"] is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert twin.state(unit)["session"] is None, output


def test_two_runs_on_one_unit_one_wins_the_other_names_the_session(ansible, twin, unit):
    # The first run holds its session (slow answers) until the second has tried, however slow the second
    # is to start on a busy machine; then its remaining delays are disarmed.
    twin.fault(unit, CAL + "ontarget.cgi", "latency", count=4, seconds=4)
    first = start(ansible, play([calibrate(twin, unit)]), twin.inventory_path, unit)
    wait_for_session(twin, unit)
    second = start(ansible, play([calibrate(twin, unit)]), twin.inventory_path, unit)
    second_output = second.communicate(timeout=120)[0]
    assert first.poll() is None, "the first run ended before the second had tried: the test proves nothing"
    twin.reset(unit)
    outputs = [first.communicate(timeout=120)[0], second_output]
    assert first.returncode == 0, outputs[0]
    assert second.returncode != 0, outputs[1]
    assert "another calibration session is open on this device (camera 1" in outputs[1]
    assert twin.state(unit)["session"] is None
    assert twin.state(unit)["calibrated"]["1"] is True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_aborts_its_session(ansible, twin, unit, signum):
    twin.fault(unit, CAL + "ontarget.cgi", "latency", count=3, seconds=3)
    process = start(ansible, play([calibrate(twin, unit, 2)]), twin.inventory_path, unit)
    wait_for_session(twin, unit)
    time.sleep(0.5)
    os.killpg(process.pid, signum)
    output = process.communicate(timeout=60)[0]
    assert process.returncode != 0, output
    wait_for_no_session(twin, unit, output)
    assert twin.state(unit)["calibrated"]["2"] is False
    assert twin.counters(unit)["cgi"].get(CAL + "abort.cgi") == 1, output
    twin.reset(unit)


def test_arguments_with_reserved_and_non_ascii_characters_round_trip(ansible, twin, unit):
    name = "opérateur & co=1#2 + ü"
    task = {"name": "link", "vapix.q6000.remote_camera_params": {"remote_username": name, "update_password": "never"}}
    first = ansible(play([task]), twin.inventory_path, limit=unit)
    assert first.rc == 0, first.output
    assert first.result("link", unit)["params"]["username"] == name
    assert twin.state(unit)["link"]["username"] == name
    again = ansible(play([task]), twin.inventory_path, limit=unit)
    assert again.result("link", unit)["changed"] is False


def test_basic_authentication_needs_https_or_an_explicit_opt_in(ansible, twin, unit):
    facts = {"name": "facts", "vapix.q6000.calibration_facts": {"gather_subset": ["calibration"]}}
    twin.reset(unit)
    refused = ansible(play([facts], defaults={"auth": "basic"}), twin.inventory_path, limit=unit)
    assert refused.rc != 0
    assert refused.result("facts", unit)["msg"].startswith("auth: basic would send the password in clear")
    assert twin.counters(unit)["cgi"] == {} and twin.counters(unit)["unauthorized"] == 0
    opted = play([facts], defaults={"auth": "basic", "allow_basic_over_http": True})
    assert ansible(opted, twin.inventory_path, limit=unit).rc != 0
    twin.settings(unit, allow_basic=True)
    try:
        run = ansible(opted, twin.inventory_path, limit=unit)
        assert run.rc == 0, run.output
    finally:
        twin.settings(unit, allow_basic=False)


@pytest.fixture(scope="module")
def tls_twin(workdir):
    with Twin(units=2, workdir=workdir / "tls-twin", tls=True) as fleet:
        yield fleet


def test_certificates_are_verified_by_default(ansible, tls_twin):
    unit = sorted(tls_twin.hosts)[0]
    facts = {"name": "facts", "vapix.q6000.calibration_facts": {"gather_subset": ["calibration"]}}
    trusted = ansible(play([facts]), tls_twin.inventory_path, limit=unit)
    assert trusted.rc == 0, trusted.output
    untrusted = ansible(play([facts], defaults={"ca_path": None}), tls_twin.inventory_path, limit=unit)
    assert untrusted.rc != 0
    assert "TLS failed" in untrusted.result("facts", unit)["msg"]
    assert "check validate_certs and ca_path" in untrusted.result("facts", unit)["msg"]
    unverified = ansible(play([facts], defaults={"ca_path": None, "validate_certs": False}),
                         tls_twin.inventory_path, limit=unit)
    assert unverified.rc == 0, unverified.output


def test_no_secret_anywhere_in_a_verbose_rollout_with_a_drift_check(ansible, twin, workdir):
    units = [next(twin.unused) for _unit in range(2)]
    inventory = write_site(twin, workdir / ("site-secrets-%s" % ansible.execution), units, cameras=(1,))
    for extra in ({}, {"q6000_recalibrate": "when_drifted", "q6000_remote_update_password": "always"}):
        run = ansible(PLAYBOOKS / "site.yml", inventory, limit=",".join(units + ["localhost"]), verbosity=4,
                      diff=True, extra_vars=dict(extra, q6000_serial="100%"))
        assert run.rc == 0, run.output
        for unit in units:
            for secret in secrets_of(twin, unit):
                assert secret not in run.output
                assert secret not in str(run.records)
