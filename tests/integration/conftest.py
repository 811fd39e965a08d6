# -*- coding: utf-8 -*-
"""Integration tests: real ansible-playbook runs against the device twin over HTTP."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.emulator.process import Twin

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
COLLECTIONS = REPO / ".venv" / "collections"
BIN = Path(sys.executable).parent

CONNECTION_DEFAULTS = {
    "hostname": "{{ ansible_host }}",
    "port": "{{ q6000_port }}",
    "use_https": "{{ q6000_use_https }}",
    "validate_certs": "{{ q6000_validate_certs }}",
    "ca_path": "{{ q6000_ca_path }}",
    "username": "{{ q6000_username }}",
    "password": "{{ q6000_password }}",
    "ptz_hostname": "{{ q6000_ptz_hostname }}",
    "ptz_port": "{{ q6000_ptz_port }}",
}
# The twin fleet of the integration tests speaks plain HTTP: sending the PTZ's password over it is opted into.
LAB_DEFAULTS = {"vapix.q6000.remote_camera_params": {"allow_password_over_http": True}}


@dataclass
class Run:
    """The outcome of one ansible-playbook run."""

    rc: int
    stdout: str
    stderr: str
    records: list = field(default_factory=list)

    def results(self, task=None, host=None):
        """Results of a task (by name, with or without its role's prefix) and host."""
        return [r for r in self.records
                if (task is None or r["task"] == task or r["task"].endswith(" : " + task))
                and (host is None or r["host"] == host)]

    def result(self, task, host):
        found = self.results(task, host)
        assert len(found) == 1, "expected one result of %r on %s, got %d:\n%s" % (task, host, len(found), self.stdout)
        return found[0]["result"]

    @property
    def output(self):
        return self.stdout + self.stderr


def play(tasks, hosts="q6000", defaults=None, **play_keys):
    """A one-play playbook whose modules get the connection through the action group's module_defaults."""
    body = {"name": "test", "hosts": hosts, "gather_facts": False,
            "module_defaults": dict(LAB_DEFAULTS, **{"group/vapix.q6000.vapix": dict(CONNECTION_DEFAULTS, **(defaults or {}))}),
            "tasks": tasks}
    body.update(play_keys)
    return [body]


# One sequence for every runner of this process, so that no two runs share a playbook or records file.
RUN_NUMBERS = itertools.count()


class Runner:
    """Runs playbooks with the collection from this checkout and the test callback enabled.

    `execution` is the path the collection's tasks take: `auto` (its action plugins run the logic inside the
    controller) or `module` (the modules are shipped and run as usual).
    """

    def __init__(self, workdir: Path, execution="auto"):
        self.workdir = workdir
        self.execution = execution

    def __call__(self, playbook, inventory, *, limit=None, check=False, diff=False, verbosity=0,
                 extra_vars=None, env=None, args=(), timeout=600):
        """`playbook`: plays (a list of dicts, written to a file), a playbook's path, or a list of paths."""
        n = next(RUN_NUMBERS)
        if isinstance(playbook, (str, Path)):
            paths = [Path(playbook)]
        elif all(isinstance(item, (str, Path)) for item in playbook):
            paths = [Path(item) for item in playbook]
        else:
            paths = [self.workdir / ("playbook-%d.yml" % n)]
            paths[0].write_text(yaml.safe_dump(playbook, sort_keys=False))
        records = self.workdir / ("records-%d.jsonl" % n)
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory)] + [str(path) for path in paths]
        if limit:
            command += ["--limit", limit]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        if self.execution != "auto":
            command += ["-e", "vapix_q6000_execution=%s" % self.execution]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        command += list(args)
        environment = dict(os.environ)
        environment.update({
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            # Absolute, so that async jobs are found wherever HOME points (as in an execution environment).
            "ANSIBLE_ASYNC_DIR": str(self.workdir / "async"),
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CONNECTION_PLUGINS": str(HERE / "connection_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "RECORD_RESULTS_FILE": str(records),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "tmp"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "PATH": "%s:%s" % (BIN, os.environ.get("PATH", "")),
        })
        environment.update(env or {})
        # No terminal, as under AWX or CI: a prompt must not wait for one.
        done = subprocess.run(command, cwd=self.workdir, env=environment, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)
        lines = records.read_text().splitlines() if records.exists() else []
        return Run(done.returncode, done.stdout, done.stderr, [json.loads(line) for line in lines])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("integration")


@pytest.fixture(scope="module", params=["auto", "module"], ids=["controller", "module"])
def ansible(workdir, request):
    """ansible-playbook, once with the controller-side action plugins and once with the shipped modules."""
    return Runner(workdir, request.param)


@pytest.fixture(scope="module")
def twin(workdir):
    """A fleet for one test module; each test takes fresh units from it with `unit`."""
    with Twin(units=128, workdir=workdir / "twin") as fleet:
        fleet.unused = iter(sorted(fleet.hosts))
        yield fleet


@pytest.fixture
def unit(twin):
    """A unit no other test of this module has touched."""
    return next(twin.unused)


def device(twin, unit_name, cgi, account="root", **params):
    """A direct VAPIX request to a unit (as another client, or an operator in the web page, would make)."""
    import requests
    from requests.auth import HTTPDigestAuth

    hostvars = twin.hosts[unit_name]
    if cgi.startswith("ptz:"):
        url = "%s/axis-cgi/%s" % (twin.ptz_url(unit_name), cgi[4:])
        auth = HTTPDigestAuth(hostvars["q6000_remote_username"], hostvars["q6000_remote_password"])
    else:
        scheme = "https" if hostvars["q6000_use_https"] else "http"
        url = "%s://%s:%s/axis-cgi/%s" % (scheme, hostvars["ansible_host"], hostvars["q6000_port"], cgi)
        users = {"root": ("q6000_username", "q6000_password"), "operator": ("q6000_operator_username", "q6000_operator_password"),
                 "viewer": ("q6000_viewer_username", "q6000_viewer_password")}
        user, password = users[account]
        auth = HTTPDigestAuth(hostvars[user], hostvars[password])
    response = requests.post(url, data=params, auth=auth, timeout=10, verify=hostvars.get("q6000_ca_path") or True)
    response.raise_for_status()
    return response.text


def hand_calibrate(twin, host, camera, points):
    """What an operator in the device's web page does: a session with points other than the inventory's."""
    device(twin, host, "ptremotecalibration/start.cgi", camera=camera)
    for point in points:
        device(twin, host, "ptremotecalibration/selecttarget.cgi", x=point["x"], y=point["y"])
        device(twin, host, "ptremotecalibration/ontarget.cgi", pan=point["pan"], tilt=point["tilt"])
    assert "GeneralSuccess" in device(twin, host, "ptremotecalibration/save.cgi")


def fresh_units(twin, count):
    """Units no other test of this module has touched."""
    return [next(twin.unused) for _unit in range(count)]


def secrets_of(twin, host):
    hostvars = twin.hosts[host]
    return [hostvars[k] for k in ("q6000_password", "q6000_remote_password", "q6000_operator_password",
                                  "q6000_viewer_password")]


PLAYBOOKS = REPO / "playbooks"


def pytest_terminal_summary(terminalreporter):
    """Print the fault matrix (fault x module -> outcome) that test_faults.py recorded."""
    cells = {}
    for status in ("passed", "failed"):
        for report in terminalreporter.stats.get(status, []):
            if getattr(report, "when", None) != "call":
                continue
            for name, value in report.user_properties:
                if name == "fault_matrix":
                    fault, module, execution, outcome = value
                    cells[(fault, module)] = cells.get((fault, module), set()) | {
                        outcome if status == "passed" else "FAILED (%s, %s)" % (outcome, execution)}
    if not cells:
        return
    from tests.integration.test_faults import FAULTS, MODULES

    faults = [fault for fault in FAULTS if any((fault, module) in cells for module in MODULES)]
    modules = MODULES
    terminalreporter.section("fault matrix (both execution paths)")
    terminalreporter.write_line("| fault | " + " | ".join(modules) + " |")
    terminalreporter.write_line("| --- " * (len(modules) + 1) + "|")
    for fault in faults:
        row = [" / ".join(sorted(cells.get((fault, module), {"not run"}))) for module in modules]
        terminalreporter.write_line("| %s | %s |" % (fault, " | ".join(row)))
