# -*- coding: utf-8 -*-
"""What a real unit does differently from the first twin: the PTZ at its site address, arguments in the query
string, sessions other clients take over, lost answers, accounts that cannot be sent, async, units that do not
answer."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from tests.integration.conftest import device, fresh_units, play, secrets_of
from tests.integration.test_robustness import start, wait_for_no_session, wait_for_session
from tests.sites import truth_points

CAL = "/axis-cgi/ptremotecalibration/"
PTZ_ACCOUNT = {"remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}"}
NO_PTZ_ADDRESS = {"ptz_hostname": None, "ptz_port": None}
AUTO_LINK = {"name": "link", "vapix.q6000.remote_camera_params": {
    "discovery_mode": "auto", "wait_for_connection": True, "wait_timeout": 20}}


def task(name, module, register=None, **options):
    body = {"name": name, "vapix.q6000.%s" % module: options}
    if register:
        body["register"] = register
    return body


def heads_of(twin, unit, cameras=(1,)):
    return [{"camera": c, "points": truth_points(twin, unit, c)} for c in cameras]


def ptz_requests(twin, unit):
    return {k: v for k, v in twin.counters(unit)["cgi"].items() if k.startswith("ptz:")}


# --- the PTZ where the controller reaches it ----------------------------------------------------------------

def test_a_link_local_remote_url_is_never_used_and_ptz_hostname_is_named(ansible, twin, unit):
    twin.reset(unit)
    facts = task("facts", "calibration_facts", "facts", gather_subset=["ptz"], **PTZ_ACCOUNT)
    refused = ansible(play([facts], defaults=NO_PTZ_ADDRESS), twin.inventory_path, limit=unit)
    assert refused.rc != 0
    message = refused.result("facts", unit)["msg"]
    assert message.startswith("ptz_hostname: the Q6000-E reaches its PTZ at 169.254."), message
    assert ptz_requests(twin, unit) == {}

    run = ansible(play([facts]), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["ptz_position"]["zoom"] >= 1


def test_a_reachable_remote_url_is_a_fallback(ansible, twin, unit):
    twin.settings(unit, discovery_link_local=False)
    try:
        facts = task("facts", "calibration_facts", "facts", gather_subset=["ptz"], **PTZ_ACCOUNT)
        run = ansible(play([facts], defaults=NO_PTZ_ADDRESS), twin.inventory_path, limit=unit)
        assert run.rc == 0, run.output
    finally:
        twin.settings(unit, discovery_link_local=True)


def test_the_ptz_of_another_unit_is_refused_before_anything_moves(ansible, twin):
    """Same PTZ password on every unit (common on a site), a typo in the port: the MAC check stops it."""
    ours, other = fresh_units(twin, 2)
    before = twin.state(other)["ptz"]
    twin.reset(other)
    wrong = dict(PTZ_ACCOUNT, ptz_port=twin.hosts[other]["q6000_ptz_port"],
                 remote_password=twin.hosts[other]["q6000_remote_password"])
    run = ansible(play([task("aim", "remote_ptz", "aim", pan=45, tilt=-10)], defaults=wrong),
                  twin.inventory_path, limit=ours)
    assert run.rc != 0
    message = run.result("aim", ours)["msg"]
    assert message.startswith("ptz_hostname: the PTZ at http://127.0.0.1:%s has the MAC" % wrong["ptz_port"]), message
    assert "nothing was moved" in message
    assert twin.state(other)["ptz"] == before
    assert "ptz:/axis-cgi/com/ptz.cgi" not in twin.counters(other)["cgi"]


def test_remote_ptz_moves_reports_where_it_rests_and_changes_nothing_twice(ansible, twin, unit):
    aim = task("aim", "remote_ptz", "aim", pan=-130.25, tilt=-20.5, zoom=2500, **PTZ_ACCOUNT)
    first = ansible(play([aim]), twin.inventory_path, limit=unit, diff=True)
    assert first.rc == 0, first.output
    result = first.result("aim", unit)
    assert result["changed"] is True
    assert result["position"] == pytest.approx({"pan": -130.25, "tilt": -20.5, "zoom": 2500}, abs=0.001)
    state = twin.state(unit)["ptz"]
    assert (state["pan"], state["tilt"], state["zoom"]) == pytest.approx((-130.25, -20.5, 2500), abs=0.001)
    assert twin.hosts[unit]["q6000_remote_password"] not in first.output

    second = ansible(play([aim]), twin.inventory_path, limit=unit)
    assert second.rc == 0, second.output
    assert second.result("aim", unit)["changed"] is False

    twin.reset(unit)
    check = ansible(play([task("aim", "remote_ptz", "aim", pan=10, **PTZ_ACCOUNT)]), twin.inventory_path,
                    limit=unit, check=True)
    assert check.rc == 0, check.output
    assert check.result("aim", unit)["changed"] is True
    assert check.result("aim", unit)["position"]["pan"] == 10
    assert twin.state(unit)["ptz"]["pan"] == pytest.approx(-130.25, abs=0.001)
    assert "ptz:/axis-cgi/com/ptz.cgi" in twin.counters(unit)["cgi"]  # read, not moved
    assert twin.state(unit)["ptz"]["moving"] is False


@pytest.mark.parametrize("options, option", [({"tilt": 30}, "tilt"), ({"zoom": 0}, "zoom"), ({}, "pan, tilt, zoom")])
def test_remote_ptz_refuses_targets_it_cannot_reach(ansible, twin, unit, options, option):
    before = twin.state(unit)["ptz"]
    run = ansible(play([task("aim", "remote_ptz", "aim", **dict(PTZ_ACCOUNT, **options))]), twin.inventory_path,
                  limit=unit)
    assert run.rc != 0
    assert run.result("aim", unit)["msg"].startswith(option + ":"), run.result("aim", unit)["msg"]
    assert twin.state(unit)["ptz"] == before


def test_when_drifted_works_through_ptz_hostname_and_puts_the_zoom_back(ansible, twin, unit):
    """Auto discovery (a link-local remote URL), a PTZ resting at zoom 2500 and a motor that starts late."""
    twin.settings(unit, ptz_start_zoom=2500, ptz_start_delay=0.3)
    try:
        heads = heads_of(twin, unit, (1, 2))
        run = ansible(play([AUTO_LINK, task("calibrate", "remote_calibration", heads=heads),
                            task("check", "remote_calibration", "check", heads=heads, recalibrate="when_drifted",
                                 drift_tolerance=0.3)], defaults=PTZ_ACCOUNT), twin.inventory_path, limit=unit)
        assert run.rc == 0, run.output
        result = run.result("check", unit)
        assert result["changed"] is False
        for head in result["heads"]:
            assert head["drift"]["max"] < 0.3, head
        state = twin.state(unit)
        assert state["link"]["host"].startswith("169.254.")
        assert state["ptz"]["zoom"] == 2500
        assert state["session"] is None
    finally:
        twin.settings(unit, ptz_start_zoom=1, ptz_start_delay=0.0)


def test_a_late_motor_is_not_taken_for_a_ptz_at_rest(ansible, twin, unit):
    twin.settings(unit, ptz_start_delay=0.3)
    try:
        aim = task("aim", "remote_ptz", "aim", pan=95.5, tilt=-45, **PTZ_ACCOUNT)
        run = ansible(play([aim]), twin.inventory_path, limit=unit)
        assert run.rc == 0, run.output
        assert run.result("aim", unit)["position"]["pan"] == pytest.approx(95.5, abs=0.001)
    finally:
        twin.settings(unit, ptz_start_delay=0.0)


# --- the wire as the seed has it ----------------------------------------------------------------------------

def test_arguments_go_in_the_query_string_and_an_ignored_body_fails_the_link_loudly(ansible, twin, unit):
    twin.settings(unit, ignore_post_body=True)
    try:
        heads = heads_of(twin, unit)
        run = ansible(play([task("facts", "calibration_facts", "facts"),
                            task("calibrate", "remote_calibration", "calibrate", heads=heads),
                            task("aim", "remote_ptz", "aim", pan=12, tilt=-12, **PTZ_ACCOUNT)]),
                      twin.inventory_path, limit=unit)
        assert run.rc == 0, run.output
        assert twin.state(unit)["calibrated"]["1"] is True

        link = task("link", "remote_camera_params", "link", remote_host="{{ q6000_remote_host }}",
                    http_port="{{ q6000_remote_http_port }}", **PTZ_ACCOUNT)
        refused = ansible(play([link]), twin.inventory_path, limit=unit)
        assert refused.rc != 0
        message = refused.result("link", unit)["msg"]
        assert "did not apply" in message and "ignores the request's body" in message, message
    finally:
        twin.settings(unit, ignore_post_body=False)


# --- the audit's defects ------------------------------------------------------------------------------------

def test_the_ptz_password_is_refused_over_http_without_the_opt_in(ansible, twin, unit):
    plays = play([task("link", "remote_camera_params", "link", **PTZ_ACCOUNT)])
    plays[0]["module_defaults"].pop("vapix.q6000.remote_camera_params")
    twin.reset(unit)
    run = ansible(plays, twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert run.result("link", unit)["msg"].startswith("remote_password: it would be sent to the Q6000-E in clear")
    assert twin.counters(unit)["cgi"] == {}


def test_a_wrong_host_and_no_password_are_fixed_in_one_run(ansible, twin, unit):
    device(twin, unit, "remotecameracontrol/setvapixparams.cgi", discoverymode="manual", host="ptz.invalid")
    link = task("link", "remote_camera_params", "link", remote_host="{{ q6000_remote_host }}",
                http_port="{{ q6000_remote_http_port }}", wait_for_connection=True, wait_timeout=20, **PTZ_ACCOUNT)
    check = ansible(play([link]), twin.inventory_path, limit=unit, check=True)
    assert check.rc == 0, check.output
    assert check.result("link", unit)["password_update"] == "if_refused"
    run = ansible(play([link]), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    result = run.result("link", unit)
    assert result["status"]["code"] == 0
    assert result["changed_keys"] == ["remote_host", "remote_password"]
    assert result["password_update"] == "sent"


def test_a_lost_save_answer_is_reported_as_unknown_and_a_rerun_converges(ansible, twin, unit):
    twin.settings(unit, save_delay=4.0)
    heads = heads_of(twin, unit)
    try:
        run = ansible(play([task("calibrate", "remote_calibration", "calibrate", heads=heads)],
                           defaults={"timeout": 1}), twin.inventory_path, limit=unit)
    finally:
        twin.settings(unit, save_delay=0.0)
    assert run.rc != 0
    result = run.result("calibrate", unit)
    assert "save.cgi for camera 1 gave no answer, so its outcome was unknown" in result["msg"], result["msg"]
    assert "the save took effect" in result["msg"]
    assert result["heads"][0]["reason"] == "save.cgi gave no answer; saved: yes"
    assert result["heads"][0]["action"] == "unknown"
    assert result["changed"] is False
    time.sleep(4)
    assert twin.state(unit)["session"] is None
    rerun = ansible(play([task("calibrate", "remote_calibration", "calibrate", heads=heads)]), twin.inventory_path,
                    limit=unit)
    assert rerun.rc == 0, rerun.output
    assert rerun.result("calibrate", unit)["changed"] is False
    assert twin.state(unit)["calibrated"]["1"] is True


@pytest.mark.parametrize("cgi", ["selecttarget.cgi", "ontarget.cgi"])
def test_a_lost_answer_mid_session_still_aborts_our_own_session(ansible, twin, unit, cgi):
    """The device acted on the request; its answer came too late. The session is still ours: abort it."""
    twin.fault(unit, CAL + cgi, "late", seconds=3)
    run = ansible(play([task("calibrate", "remote_calibration", "calibrate", heads=heads_of(twin, unit))],
                       defaults={"timeout": 1}), twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert "left alone" not in run.result("calibrate", unit)["msg"], run.result("calibrate", unit)["msg"]
    assert twin.state(unit)["session"] is None
    assert twin.counters(unit)["cgi"].get(CAL + "abort.cgi") == 1
    time.sleep(3)
    twin.reset(unit)


def test_calibration_alone_needs_no_route_to_the_ptz(ansible, twin, unit):
    """The PTZ's account is in module_defaults (as the roles put it), its address is not: the limits are left
    unchecked with a warning, nothing else needs the PTZ."""
    run = ansible(play([task("calibrate", "remote_calibration", "calibrate", heads=heads_of(twin, unit))],
                       defaults=dict(PTZ_ACCOUNT, **NO_PTZ_ADDRESS)), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    assert "not checked against the PTZ's limits" in run.output
    assert twin.state(unit)["calibrated"]["1"] is True
    drift = ansible(play([task("drift", "remote_calibration", "drift", heads=heads_of(twin, unit),
                               recalibrate="when_drifted")], defaults=dict(PTZ_ACCOUNT, **NO_PTZ_ADDRESS)),
                    twin.inventory_path, limit=unit)
    assert drift.rc != 0
    assert drift.result("drift", unit)["msg"].startswith("ptz_hostname: the Q6000-E reaches its PTZ at 169.254.")


def test_a_session_another_client_took_over_is_left_alone(ansible, twin, unit):
    # The other client takes the device over while the run waits on its first ontarget.cgi: 5 s leave room for the
    # test's three calls on a busy machine.
    twin.fault(unit, CAL + "ontarget.cgi", "latency", count=1, seconds=5)
    process = start(ansible, play([task("calibrate", "remote_calibration", heads=heads_of(twin, unit))]),
                    twin.inventory_path, unit)
    wait_for_session(twin, unit)
    device(twin, unit, "ptremotecalibration/abort.cgi")
    device(twin, unit, "ptremotecalibration/start.cgi", camera=2)
    device(twin, unit, "ptremotecalibration/selecttarget.cgi", x=0.3, y=0.3)
    output = process.communicate(timeout=120)[0]
    try:
        assert process.returncode != 0, output
        assert "camera 2" in output and "left alone" in output, output
        session = twin.state(unit)["session"]
        assert session is not None and session["camera"] == 2
        assert twin.state(unit)["calibrated"] == {"1": False, "2": False, "3": False, "4": False}
    finally:
        device(twin, unit, "ptremotecalibration/abort.cgi")


def test_a_redirect_is_not_followed_and_takes_no_credentials_along(ansible, twin, unit):
    twin.reset(unit)
    twin.fault(unit, "/axis-cgi/param.cgi", "redirect307")
    run = ansible(play([task("facts", "calibration_facts", "facts", gather_subset=["device"])]), twin.inventory_path,
                  limit=unit)
    assert run.rc != 0
    message = run.result("facts", unit)["msg"]
    assert "HTTP 307 redirect to %s/axis-cgi/param.cgi" % twin.ptz_url(unit) in message, message
    assert "not followed" in message
    counters = twin.counters(unit)
    assert "ptz:/axis-cgi/param.cgi" not in counters["cgi"] and counters["unauthorized"] <= 1


def test_a_redirected_move_is_not_turned_into_a_get_and_reported_as_success(ansible, twin, unit):
    before = twin.state(unit)["ptz"]
    twin.reset(unit)
    twin.fault(unit, "ptz:/axis-cgi/com/ptz.cgi", "redirect302", count=5)
    run = ansible(play([task("aim", "remote_ptz", "aim", pan=77, **PTZ_ACCOUNT)]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert "HTTP 302 redirect to %s/axis-cgi/com/ptz.cgi" % twin.base_url(unit) in run.result("aim", unit)["msg"]
    assert "/axis-cgi/com/ptz.cgi" not in twin.counters(unit)["cgi"]
    assert twin.state(unit)["ptz"] == before
    twin.reset(unit)


def test_a_slow_answer_is_cut_at_the_request_deadline(ansible, twin, unit):
    twin.fault(unit, CAL + "iscalibrated.cgi", "trickle", seconds=30)
    began = time.monotonic()
    run = ansible(play([task("facts", "calibration_facts", "facts", gather_subset=["calibration"])],
                       defaults={"timeout": 2, "retries": 0}), twin.inventory_path, limit=unit)
    took = time.monotonic() - began
    assert run.rc != 0
    assert "no answer within 2" in run.result("facts", unit)["msg"], run.result("facts", unit)["msg"]
    assert took < 20, took
    twin.reset(unit)


def test_an_interrupt_while_start_is_unanswered_leaves_no_session(ansible, twin, unit):
    """The device opened the session; its answer had not arrived when Ctrl-C came."""
    twin.fault(unit, CAL + "start.cgi", "late", seconds=5)
    process = start(ansible, play([task("calibrate", "remote_calibration", heads=heads_of(twin, unit))]),
                    twin.inventory_path, unit)
    wait_for_session(twin, unit)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)
    output = process.communicate(timeout=60)[0]
    assert process.returncode != 0, output
    wait_for_no_session(twin, unit, output)
    assert twin.counters(unit)["cgi"].get(CAL + "abort.cgi") == 1, output
    twin.reset(unit)


@pytest.mark.parametrize("defaults, option", [
    ({"username": "root\nX-Injected: yes"}, "username: contains a control character"),
    ({"password": "pa\r\nss"}, "password: contains a control character"),
    ({"auth": "basic", "allow_basic_over_http": True, "password": "p\u00e4ss\u20acw\u00f6rd"},
     "password: contains characters outside Latin-1"),
])
def test_accounts_no_header_can_carry_are_refused_before_any_request(ansible, twin, unit, defaults, option):
    twin.reset(unit)
    run = ansible(play([task("facts", "calibration_facts", "facts")], defaults=defaults), twin.inventory_path,
                  limit=unit, verbosity=3)
    assert run.rc != 0
    assert run.result("facts", unit)["msg"].startswith(option), run.result("facts", unit)["msg"]
    assert "Traceback" not in run.output
    assert "\u20ac" not in run.output and "Authorization" not in run.output
    assert twin.counters(unit)["cgi"] == {}


# --- Ansible semantics --------------------------------------------------------------------------------------

def test_async_tasks_run_and_report(ansible, twin, unit):
    facts = dict(task("facts", "calibration_facts", "facts", gather_subset=["calibration"]), **{"async": 60, "poll": 1})
    run = ansible(play([facts]), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["calibrated_heads"] == []


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_unit_that_does_not_answer_is_unreachable(ansible, twin, unit):
    dead = {"port": closed_port(), "retries": 0, "timeout": 2}
    run = ansible(play([task("facts", "calibration_facts", "facts")], defaults=dead), twin.inventory_path, limit=unit)
    assert run.rc != 0
    [record] = run.results("facts", unit)
    result = record["result"]
    assert record["status"] == "unreachable" and result.get("unreachable") is True, record
    assert "connection refused" in result["msg"]
    recap = [line for line in run.stdout.splitlines() if line.startswith(unit)][-1]
    assert "unreachable=1" in recap and "failed=0" in recap, run.stdout

    ignored = ansible(play([dict(task("facts", "calibration_facts", "facts"), ignore_unreachable=True),
                            {"name": "after", "ansible.builtin.debug": {"msg": "still here"}}], defaults=dead),
                      twin.inventory_path, limit=unit)
    assert ignored.rc == 0, ignored.output
    assert ignored.results("after", unit), ignored.output
    for secret in secrets_of(twin, unit):
        assert secret not in run.output + ignored.output


def test_a_unit_that_answered_once_is_not_unreachable_when_it_fails_later(ansible, twin, unit):
    twin.fault(unit, "/axis-cgi/ptremotecalibration/getinformation.cgi", "drop", count=3)
    run = ansible(play([task("facts", "calibration_facts", "facts", gather_subset=["calibration"])],
                       defaults={"retries": 2}), twin.inventory_path, limit=unit)
    assert run.rc != 0
    [record] = run.results("facts", unit)
    assert record["status"] == "failed" and not record["result"].get("unreachable"), record
    twin.reset(unit)
