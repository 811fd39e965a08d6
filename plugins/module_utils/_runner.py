# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only room that touches Ansible: runs a task's logic as a module, or for the controller-side action plugin.

A logic module (link, calibration, facts, remote_ptz, vision.capture) has ARGUMENT_SPEC, validate(params) and
run(client, params, check_mode), and knows nothing of Ansible; this file gives it options, a client and signals.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.vapix.q6000.plugins.module_utils._connection import (
    CONNECTION_OPTIONS,
    PTZ_OPTIONS,
    check_connection,
    client_from_params,
    missing_libraries,
)
from ansible_collections.vapix.q6000.plugins.module_utils._interrupts import interrupts_raise
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    Interrupted,
    TransportError,
    ValidationError,
    VapixError,
)


def _with_fallback(option):
    """An argument spec entry of a connection option: its `env` as an environment fallback."""
    entry = {key: value for key, value in option.items() if key != "env"}
    if "env" in option:
        entry["fallback"] = (env_fallback, [option["env"]])
    return entry


def argument_spec(task_spec):
    """The full argument spec of a module: its own options plus the connection and PTZ options."""
    spec = {name: _with_fallback(option) for name, option in CONNECTION_OPTIONS.items()}
    spec.update((name, _with_fallback(option)) for name, option in PTZ_OPTIONS.items())
    spec.update(task_spec)
    return spec


def execute(logic, params, check_mode):
    """Check the options, then run a task's logic with a client; always returns a result dict.

    A failure returns failed=True with msg and whatever the logic had done so far; warnings are collected from
    the client (a deprecated schema, for instance).
    """
    try:
        check_connection(params)
        logic.validate(params)
    except ValidationError as exc:
        return {"failed": True, "changed": False, "msg": str(exc)}
    client = client_from_params(params)
    try:
        with interrupts_raise():
            result = logic.run(client, params, check_mode)
    except ValidationError as exc:
        result = {"failed": True, "changed": False, "msg": str(exc)}
    except (VapixError, Interrupted) as exc:
        result = dict(exc.result or {"changed": False})
        result.update(failed=True, msg=str(exc))
        if isinstance(exc, TransportError) and exc.unreachable and client.answers == 0:
            # The unit never answered: Ansible counts a result that says unreachable (and not failed) as a host
            # not reached, in the PLAY RECAP and for ignore_unreachable.
            del result["failed"]
            result["unreachable"] = True
    finally:
        client.close()
    if client.warnings:
        result["warnings"] = list(client.warnings) + list(result.get("warnings", []))
    return result


def run_module(logic):
    """main() of a module: the task's logic behind AnsibleModule's validation, check mode and no_log."""
    module = AnsibleModule(argument_spec=argument_spec(logic.ARGUMENT_SPEC), supports_check_mode=True)
    missing = missing_libraries(logic)
    if missing:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=missing[1])
    result = execute(logic, module.params, module.check_mode)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
