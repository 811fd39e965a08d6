# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signals during device work: SIGTERM and SIGINT become Interrupted, cleanup is shielded, failures carry results.

A task stopped half way (Ctrl-C, an AWX job cancelled) must still abort its calibration session and put the PTZ
back; these helpers let the logic say which of its code is that cleanup.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from ansible_collections.vapix.q6000.plugins.module_utils.errors import Interrupted, VapixError

# The signal state of the running task: whether cleanup is shielded, and a signal that arrived meanwhile.
_SIGNALS = {"seen": False, "shield": 0, "pending": None}


def _interrupt(signum):
    return Interrupted("interrupted by %s" % signal.Signals(signum).name)


@contextmanager
def interrupts_raise():
    """Turn SIGTERM and SIGINT into Interrupted, so a session started on the device is aborted on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGNALS.update(seen=False, shield=0, pending=None)

    def handler(signum, _frame):
        # Only the first signal interrupts: the same one often arrives twice (from the terminal to the process
        # group, and forwarded by ansible-playbook), and a second one must not cut the abort short.
        if _SIGNALS["seen"]:
            return
        _SIGNALS["seen"] = True
        if _SIGNALS["shield"]:
            _SIGNALS["pending"] = signum
            return
        raise _interrupt(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def shielded():
    """Cleanup that a signal must not cut short (aborting a session, putting the PTZ back).

    A signal that arrives meanwhile interrupts right after it, unless a failure is already on its way out.
    """
    _SIGNALS["shield"] += 1
    try:
        yield
    except BaseException:
        _SIGNALS["shield"] -= 1
        raise
    _SIGNALS["shield"] -= 1
    pending = _SIGNALS["pending"]
    if pending is not None and not _SIGNALS["shield"]:
        _SIGNALS["pending"] = None
        raise _interrupt(pending)


@contextmanager
def reporting(result):
    """A failure inside carries `result` (a dict, or a function giving it): what the task had done so far."""
    try:
        yield
    except (VapixError, Interrupted) as exc:
        if exc.result is None:
            exc.result = result() if callable(result) else result
        raise
