# -*- coding: utf-8 -*-
"""The fault matrix: each fault the twin can inject, against each module.

Faults hit a module's first request (a read: retried when the fault is transient) or, for
remote_calibration, a request in the middle of a calibration session (a write: never retried; the module
aborts its own session). Every cell checks that the outcome is a bounded retry or a failure naming the
fault, the unit and the CGI; that no calibration session is left open; that the saved calibration and the
link are as they were; and that a re-run converges. `make test` prints the matrix.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import play
from tests.sites import truth_points
from tests.integration.test_remote_calibration import LINK, centre_error

CAL = "/axis-cgi/ptremotecalibration/"
FAST = {"timeout": 2, "retries": 2}

# fault -> (how it is armed, outcome on a read, outcome on a write); an outcome is "ok", "warned" or the
# words the failure message must contain.
FAULTS = {
    "latency": ({"kind": "latency", "seconds": 4}, "ok", "no answer within 2"),
    "drop": ({"kind": "drop"}, "ok", "closed the connection"),
    "http500": ({"kind": "http500"}, "HTTP 500", "HTTP 500"),
    "http503": ({"kind": "http503"}, "ok", "HTTP 503"),
    "malformed": ({"kind": "malformed"}, "not well-formed XML", "not well-formed XML"),
    "truncated": ({"kind": "truncated"}, "ok", "cut short"),
    "entity_bomb": ({"kind": "entity_bomb"}, "declares XML entities", "declares XML entities"),
    "huge_body": ({"kind": "huge_body"}, "larger than", "larger than"),
    "reboot": ({"kind": "reboot"}, "ok", "closed the connection"),
    "stale_nonce": ({"kind": "stale_nonce"}, "ok", "ok"),
    "unauthorized": ({"kind": "unauthorized", "count": 5}, "HTTP 401", "HTTP 401"),
    "deprecated": (None, "warned", "warned"),
}

MODULES = ["remote_camera_params", "calibration_facts", "remote_calibration"]
LINK_TASK = {"name": "module", "vapix.q6000.remote_camera_params": {
    "remote_host": "{{ q6000_remote_host }}", "http_port": "{{ q6000_remote_http_port }}",
    "remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}"}}
FACTS_TASK = {"name": "module", "vapix.q6000.calibration_facts": {"gather_subset": ["calibration"]}}


def calibration_task(heads, recalibrate="always"):
    return {"name": "module", "vapix.q6000.remote_calibration": {"heads": heads, "recalibrate": recalibrate}}


def arm(twin, unit, fault, cgi):
    how = FAULTS[fault][0]
    if how is None:
        twin.settings(unit, deprecated=True)
    else:
        twin.fault(unit, cgi, how["kind"], count=how.get("count", 1), seconds=how.get("seconds"))


def outcome_of(run, unit, expected):
    result = run.result("module", unit)
    if run.rc == 0:
        warned = any("deprecated" in w for w in result.get("warnings", []))
        return "warned" if warned else "ok"
    message = result["msg"]
    assert expected in message, message
    return "failed: " + expected


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("module", MODULES)
def test_fault_matrix(ansible, twin, unit, module, fault, record_property):
    if module == "remote_calibration":
        heads = [{"camera": 1, "points": truth_points(twin, unit, 1)}]
        assert ansible(play([LINK, calibration_task(heads)]), twin.inventory_path, limit=unit).rc == 0
        task, cgi, expected = calibration_task(heads), CAL + "ontarget.cgi", FAULTS[fault][2]
    else:
        task, cgi, expected = (LINK_TASK if module == "remote_camera_params" else FACTS_TASK), "*", FAULTS[fault][1]
    before = twin.state(unit)

    arm(twin, unit, fault, cgi)
    run = ansible(play([task], defaults=FAST), twin.inventory_path, limit=unit)
    twin.settings(unit, deprecated=False)
    twin.reset(unit)
    outcome = outcome_of(run, unit, expected)
    record_property("fault_matrix", (fault, module, ansible.execution, outcome))
    assert outcome == (expected if expected in ("ok", "warned") else "failed: " + expected)
    if run.rc:
        message = run.result("module", unit)["msg"]
        assert " on 127.0.0.1: " in message and ".cgi" in message.split(" on 127.0.0.1: ")[0]

    after = twin.state(unit)
    assert after["session"] is None
    assert after["calibrated"] == before["calibrated"]
    if run.rc:
        assert after["link"] == before["link"]
    if module == "remote_calibration":
        assert centre_error(twin, unit, 1) < 0.1

    again = ansible(play([task]), twin.inventory_path, limit=unit)
    assert again.rc == 0, again.output
    if module != "remote_calibration":
        settled = ansible(play([task]), twin.inventory_path, limit=unit)
        assert settled.result("module", unit)["changed"] is False
