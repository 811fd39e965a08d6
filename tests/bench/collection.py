"""The collection's task logic run in-process, as its modules run it: the options through the module's own
argument spec (defaults and types, as AnsibleModule applies them), then `execute`. The connection options come
from the twin's inventory, so a benchmark names only what its task is about."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from tests.emulator.process import Twin

COLLECTIONS = Path(__file__).resolve().parents[2] / ".venv" / "collections"
PREFIX = "ansible_collections.vapix.q6000.plugins.module_utils."


def _module(name: str):
    """A module_utils module of the collection, imported as Ansible would find it (link, vision.capture ...)."""
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))
    return importlib.import_module(PREFIX + name)


def options(twin: Twin, unit: str, **task) -> dict:
    """A task's options for a twin unit: its Q6000-E, where the controller reaches its PTZ, the PTZ's account."""
    hv = twin.hosts[unit]
    return dict(hostname=hv["ansible_host"], port=hv["q6000_port"], username=hv["q6000_username"],
                password=hv["q6000_password"], ptz_hostname=hv["q6000_ptz_hostname"], ptz_port=hv["q6000_ptz_port"],
                remote_username=hv["q6000_remote_username"], remote_password=hv["q6000_remote_password"], **task)


def run(name: str, task_options: dict, check_mode: bool = False) -> dict:
    """The result of module_utils `name`'s task with these options (ValueError if the spec refuses them)."""
    logic, runner = _module(name), _module("_runner")
    checked = ArgumentSpecValidator(runner.argument_spec(logic.ARGUMENT_SPEC)).validate(task_options)
    if checked.error_messages:
        raise ValueError("%s: %s" % (name, "; ".join(checked.error_messages)))
    return runner.execute(logic, checked.validated_parameters, check_mode)
