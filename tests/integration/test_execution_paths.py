# -*- coding: utf-8 -*-
"""Which path a task takes: the logic inside the controller, or the module shipped to where the task runs."""

from __future__ import annotations

import sys

import pytest
import yaml

from tests.integration.conftest import Runner, play

FACTS = {"name": "facts", "vapix.q6000.calibration_facts": {"gather_subset": ["calibration"]}, "register": "facts"}
SHIPPED = "AnsiballZ_calibration_facts.py"


@pytest.fixture(scope="module")
def jump_inventory(workdir):
    """A jump host: a host whose connection is not local (it runs here, under another transport name)."""
    path = workdir / "jump.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"jump": {"ansible_connection": "jumphost",
                                                               "ansible_python_interpreter": sys.executable}}}}))
    return path


def test_local_tasks_run_inside_the_controller(workdir, twin, unit):
    run = Runner(workdir, "auto")(play([FACTS]), twin.inventory_path, limit=unit, verbosity=3)
    assert run.rc == 0, run.output
    assert SHIPPED not in run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["calibrated_heads"] == []


def test_the_module_path_ships_the_module(workdir, twin, unit):
    run = Runner(workdir, "module")(play([FACTS]), twin.inventory_path, limit=unit, verbosity=3)
    assert run.rc == 0, run.output
    assert SHIPPED in run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["calibrated_heads"] == []


def test_a_task_delegated_to_a_jump_host_runs_the_module_there(workdir, twin, unit, jump_inventory):
    task = dict(FACTS, delegate_to="jump")
    run = Runner(workdir, "auto")(play([task]), twin.inventory_path, limit=unit + ",jump", verbosity=3,
                                  args=["-i", str(jump_inventory)])
    assert run.rc == 0, run.output
    assert SHIPPED in run.output
    assert "<jump>" in run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["calibrated_heads"] == []


def test_an_unknown_execution_choice_is_refused(workdir, twin, unit):
    run = Runner(workdir, "sideways")(play([FACTS]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert "vapix_q6000_execution: 'sideways' is not auto or module" in run.result("facts", unit)["msg"]


def test_the_task_environment_reaches_the_options_on_both_paths(ansible, twin, unit):
    """Connection options from the task's `environment:` (the modules' environment fallbacks)."""
    task = {"name": "facts", "vapix.q6000.calibration_facts": {"gather_subset": ["calibration"]},
            "environment": {"VAPIX_PASSWORD": "{{ q6000_password }}", "VAPIX_USERNAME": "{{ q6000_username }}"}}
    body = play([task], defaults={"password": None, "username": None})
    body[0]["module_defaults"]["group/vapix.q6000.vapix"] = {"hostname": "{{ ansible_host }}", "port": "{{ q6000_port }}"}
    run = ansible(body, twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    assert run.result("facts", unit)["ansible_facts"]["q6000"]["gathered_subsets"] == ["calibration"]
    assert twin.hosts[unit]["q6000_password"] not in run.output


def test_unsupported_options_read_the_same_on_both_paths(ansible, twin, unit):
    options = {"gather_subset": ["calibration"], "colour": "blue"}
    run = ansible(play([dict(FACTS, **{"vapix.q6000.calibration_facts": options})]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    message = run.result("facts", unit)["msg"]
    assert message.startswith("Unsupported parameters for (vapix.q6000.calibration_facts) module: colour.")
