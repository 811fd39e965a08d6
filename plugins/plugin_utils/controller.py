# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's logic inside the controller's worker instead of shipping the module.

The modules of this collection only talk HTTP to cameras, and on the controller they always run locally:
packaging a module and starting a Python process per host and task costs more than the work itself. An
action plugin named like the module runs the same module_utils logic in-process. Whenever that would not
behave like the module (the task is delegated to another host, uses become or async, or the controller lacks
a library), the real module runs instead.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.vapix.q6000.plugins.module_utils._connection import missing_libraries
from ansible_collections.vapix.q6000.plugins.module_utils._runner import argument_spec, execute

# Task variable that chooses the path: auto (in-process when it behaves the same), module (always ship it).
EXECUTION_VAR = "vapix_q6000_execution"


@contextmanager
def task_environment(environment):
    """The task's `environment:` applied to this process for the duration of the call, as a module would see it."""
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update({key: str(value) for key, value in environment.items()})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class VapixAction(ActionBase):
    """Base of the collection's action plugins; subclasses set LOGIC (a module_utils logic module)."""

    LOGIC = None
    # An async task runs the shipped module in the background, as ansible.builtin.normal does.
    _supports_async = True
    _supports_check_mode = True

    def _in_process(self, task_vars):
        choice = (task_vars or {}).get(EXECUTION_VAR, "auto")
        if choice not in ("auto", "module"):
            raise ValueError("%s: %r is not auto or module" % (EXECUTION_VAR, choice))
        return (choice == "auto"
                and self._connection.transport == "local"
                and not self._task.async_val
                and not self._play_context.become
                and missing_libraries(self.LOGIC) is None)

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        try:
            in_process = self._in_process(task_vars)
        except ValueError as exc:
            return {"failed": True, "msg": str(exc)}
        if not in_process:
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result = self._execute_module(module_name=self._task.resolved_action or self._task.action,
                                          module_args=self._task.args, task_vars=task_vars, wrap_async=wrap_async)
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        environment = {}
        self._compute_environment_string(raw_environment_out=environment)
        with task_environment(environment):
            validator = ArgumentSpecValidator(argument_spec(self.LOGIC.ARGUMENT_SPEC))
            validation = validator.validate(dict(self._task.args))
            no_log_values = validation._no_log_values
            if validation.errors.errors:
                message = validation.errors.msg
                if isinstance(validation.errors[0], UnsupportedError):
                    message = "Unsupported parameters for (%s) module: %s" % (self._task.action, message)
                result = {"failed": True, "msg": message}
            else:
                result = execute(self.LOGIC, validation.validated_parameters, self._task.check_mode)
        result.setdefault("changed", False)
        return remove_values(result, no_log_values)
