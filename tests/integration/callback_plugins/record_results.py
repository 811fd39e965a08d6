# -*- coding: utf-8 -*-
"""Test-only callback: every task result of a run as one JSON line, for the integration tests to read."""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: record_results
type: aggregate
short_description: Write each task result as a JSON line to the file named by RECORD_RESULTS_FILE
description: Used by the collection's integration tests only.
requirements:
  - enable in configuration
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, status, result):
        path = os.environ.get("RECORD_RESULTS_FILE")
        if not path:
            return
        entry = {
            "host": result._host.get_name(),
            "task": result._task.get_name(),
            "action": result._task.action,
            "status": status,
            "result": json.loads(self._dump_results(result._result, indent=None)),
        }
        for key in ("diff", "warnings"):
            if key in result._result:
                entry["result"][key] = json.loads(json.dumps(result._result[key], default=str))
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry) + "\n")

    def v2_runner_on_ok(self, result):
        self._record("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("failed", result)

    def v2_runner_on_skipped(self, result):
        self._record("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._record("unreachable", result)
