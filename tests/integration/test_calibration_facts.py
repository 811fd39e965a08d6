# -*- coding: utf-8 -*-
"""vapix.q6000.calibration_facts against the twin: what it reports and how few requests it takes."""

from __future__ import annotations

import pytest

from tests.integration.conftest import device, play

FACTS = {"name": "facts", "vapix.q6000.calibration_facts": {}, "register": "facts"}


def facts_task(**options):
    return {"name": "facts", "vapix.q6000.calibration_facts": options, "register": "facts"}


def test_all_facts_of_a_factory_unit(ansible, twin, unit):
    run = ansible(play([facts_task(), {"name": "show", "ansible.builtin.debug": {"var": "ansible_facts.q6000"}}]),
                  twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    facts = run.result("facts", unit)["ansible_facts"]["q6000"]
    assert facts["gathered_subsets"] == ["device", "connection", "calibration"]
    assert facts["model"] == "Q6000-E"
    assert facts["brand"] == "AXIS"
    assert facts["firmware"] == "6.50.1"
    assert facts["heads"] == 4
    assert facts["apis"] == {"remote_camera_control": True, "pt_remote_calibration": True}
    assert facts["schema_versions"]["remote_camera_control"] == [{"version": "1.0", "deprecated": False}]
    assert facts["schema_versions"]["pt_remote_calibration"] == [{"version": "1.0", "deprecated": False}]
    assert facts["link"]["discovery_mode"] == "auto"
    assert facts["link"]["http_port"] == twin.hosts[unit]["q6000_remote_http_port"]
    assert facts["link_status"]["code"] == 3
    assert facts["link_status"]["description"] == "Not authorized"
    # Auto discovery: the address the Q6000-E uses on its own link to the PTZ, link-local as on a real unit.
    assert facts["remote_url"].startswith("http://169.254.")
    assert facts["remote_url"].endswith(":%s/" % twin.hosts[unit]["q6000_remote_http_port"])
    assert facts["calibrated"] == [{"camera": c, "calibrated": False} for c in (1, 2, 3, 4)]
    assert facts["calibrated_heads"] == []
    assert facts["session"] is None
    shown = run.result("show", unit)
    assert shown["ansible_facts.q6000"]["model"] == "Q6000-E"


@pytest.mark.parametrize("subset, requests", [
    (["device"], {"/axis-cgi/param.cgi": 1, "/axis-cgi/remotecameracontrol/schemaversions.cgi": 1,
                  "/axis-cgi/ptremotecalibration/schemaversions.cgi": 1}),
    (["connection"], {"/axis-cgi/remotecameracontrol/getvapixparams.cgi": 1,
                      "/axis-cgi/remotecameracontrol/getvapixstatus.cgi": 1,
                      "/axis-cgi/remotecameracontrol/getremoteurl.cgi": 1}),
    (["calibration"], {"/axis-cgi/ptremotecalibration/iscalibrated.cgi": 1,
                       "/axis-cgi/ptremotecalibration/getinformation.cgi": 1}),
])
def test_each_subset_asks_only_what_it_needs(ansible, twin, unit, subset, requests):
    twin.reset(unit)
    run = ansible(play([facts_task(gather_subset=subset)]), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["gathered_subsets"] == subset
    counters = twin.counters(unit)
    assert counters["cgi"] == requests
    assert counters["unauthorized"] <= 1


def test_an_open_session_is_reported(ansible, twin, unit):
    device(twin, unit, "ptremotecalibration/start.cgi", camera=3)
    device(twin, unit, "ptremotecalibration/selecttarget.cgi", x=0.25, y=-0.5)
    try:
        run = ansible(play([facts_task(gather_subset=["calibration"])]), twin.inventory_path, limit=unit)
        assert run.rc == 0, run.output
        session = run.result("facts", unit)["ansible_facts"]["q6000"]["session"]
        assert session == {"camera": 3, "current_target": {"x": 0.25, "y": -0.5}}
    finally:
        device(twin, unit, "ptremotecalibration/abort.cgi")


@pytest.mark.parametrize("subset, cgi", [(["device"], "ptremotecalibration/schemaversions.cgi"),
                                         (["connection"], "remotecameracontrol/getvapixparams.cgi")])
def test_a_viewer_is_told_which_role_a_cgi_needs(ansible, twin, unit, subset, cgi):
    viewer = {"username": "{{ q6000_viewer_username }}", "password": "{{ q6000_viewer_password }}"}
    refused = ansible(play([facts_task(gather_subset=subset)], defaults=viewer), twin.inventory_path, limit=unit)
    assert refused.rc != 0
    message = refused.result("facts", unit)["msg"]
    assert message.startswith("%s on 127.0.0.1: HTTP 401" % cgi)
    assert "'viewer'" in message and "administrator role" in message
    assert twin.hosts[unit]["q6000_viewer_password"] not in refused.output


def test_a_wrong_password_is_a_clear_401(ansible, twin, unit):
    run = ansible(play([facts_task(gather_subset=["calibration"])], defaults={"password": "wrong"}),
                  twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert "HTTP 401: the device refused the account 'root'" in run.result("facts", unit)["msg"]


def test_check_mode_reads_facts_too(ansible, twin, unit):
    run = ansible(play([facts_task(gather_subset=["calibration"])]), twin.inventory_path, limit=unit, check=True)
    assert run.rc == 0, run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["calibrated_heads"] == []


def test_the_ptz_position_once_at_rest(ansible, twin, unit):
    device(twin, unit, "ptz:com/ptz.cgi", pan=-120.5, tilt=-35.25)
    twin.reset(unit)
    run = ansible(play([facts_task(gather_subset=["connection", "ptz"], remote_username="{{ q6000_remote_username }}",
                                   remote_password="{{ q6000_remote_password }}")]), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    position = run.result("facts", unit)["ansible_facts"]["q6000"]["ptz_position"]
    assert position["pan"] == pytest.approx(-120.5, abs=0.001)
    assert position["tilt"] == pytest.approx(-35.25, abs=0.001)
    counters = twin.counters(unit)["cgi"]
    assert counters["/axis-cgi/remotecameracontrol/getremoteurl.cgi"] == 1
    # The PTZ's identity comes from the link parameters the connection subset read: no second getvapixparams.
    assert counters["/axis-cgi/remotecameracontrol/getvapixparams.cgi"] == 1
    assert counters["ptz:/axis-cgi/param.cgi"] == 1
    assert twin.hosts[unit]["q6000_remote_password"] not in run.output
