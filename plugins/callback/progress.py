# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A line of progress every few seconds on long runs, beside whatever stdout callback is in use (AWX's too)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: progress
type: aggregate
short_description: One line of progress every few seconds and at the end of each play, for long runs over a fleet
description:
  - Prints, every O(interval) seconds and at the end of each play, how far the play is over its units; beside the
    stdout callback in use (the default one, or AWX's and ansible-runner's), since it is not a stdout callback.
  - "A line reads: C([progress] Check the calibration of each Q6000-E: 12 of 50 units done, 1 failed, 0 unreachable;
    task 'Measure each head's drift from images' 17 of 38 answered; about 6m10s left)."
  - A unit is done when its work in the play is over, that is when its batch (C(serial)) ended, or it failed or
    was unreachable (those are counted as failed and unreachable, and as done). Units of the play are those the play
    matched within C(--limit).
  - The time left is an estimate from the pace so far. Once units are done, from the time per done unit; before
    that (the first batch, or a play without batches) from the task in progress, the time its answered units took,
    for the units it still waits for; then the line says it is the task's time left.
  - Enable it with C(callbacks_enabled = vapix.q6000.progress) in the C([defaults]) section of C(ansible.cfg), or
    C(ANSIBLE_CALLBACKS_ENABLED=vapix.q6000.progress); in AWX, as an environment variable of the job template or a
    setting of the project's C(ansible.cfg).
version_added: 0.3.0
author:
  - vapix.q6000 maintainers (@vapix)
requirements:
  - enable in configuration
options:
  interval:
    description: Seconds between two lines of progress during a play; 0 prints only at the end of each play.
    type: float
    default: 30
    ini:
      - section: callback_progress
        key: interval
    env:
      - name: ANSIBLE_CALLBACK_PROGRESS_INTERVAL
"""

# Below the documentation, as ansible-test's validate-modules wants it.
import threading  # noqa: E402
import time  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402


def _duration(seconds):
    """A duration as people read it: 45s, 6m10s, 2h05m."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return '%ds' % seconds
    if seconds < 3600:
        return '%dm%02ds' % divmod(seconds, 60)
    return '%dh%02dm' % (seconds // 3600, seconds % 3600 // 60)


class Progress:
    """The progress of one play over its units, fed by the callback's events; line() says where it is.

    Free of Ansible so that it can be tested on its own: `clock` gives the time.
    """

    def __init__(self, name, units, clock=time.monotonic):
        self.name = name
        self.units = set(units)
        self.clock = clock
        self.started = clock()
        self.done = set()
        self.failed = set()
        self.unreachable = set()
        self.batch = set()
        self.task = None
        self.task_started = None
        self.answered = set()

    def start_batch(self, units):
        """A batch (the whole play without serial) starts: the units of the batch before are done."""
        self.done |= self.batch
        self.batch = set(units)
        self.units |= self.batch
        self.task = None
        self.answered = set()

    def start_task(self, name):
        self.task = name
        self.task_started = self.clock()
        self.answered = set()

    def result(self, unit, status):
        """A unit's result of the task in progress: ok, skipped, failed (not ignored) or unreachable."""
        self.answered.add(unit)
        if status == 'failed':
            self.failed.add(unit)
            self.done.add(unit)
        elif status == 'unreachable':
            self.unreachable.add(unit)
            self.done.add(unit)

    def end(self):
        self.done |= self.batch | self.units
        self.batch = set()

    def estimate(self):
        """(seconds left, whether it is the task's time left) or none when the pace is not known yet."""
        now = self.clock()
        total, done = len(self.units), len(self.done)
        if done >= total:
            return 0.0, False
        if done:
            return (now - self.started) / done * (total - done), False
        waiting = self.batch - self.done
        answered = len(self.answered & waiting)
        if self.task is not None and answered:
            return (now - self.task_started) / answered * (len(waiting) - answered), True
        return None

    def line(self, ended=False):
        total = len(self.units)
        words = '%s: %d of %d units done, %d failed, %d unreachable' % (
            self.name, len(self.done), total, len(self.failed), len(self.unreachable))
        elapsed = _duration(self.clock() - self.started)
        if ended:
            return '%s; the play took %s' % (words, elapsed)
        if self.task is not None:
            waiting = self.batch - (self.done - self.answered)
            words += "; task '%s' %d of %d answered" % (self.task, len(self.answered & waiting), len(waiting))
        estimate = self.estimate()
        if estimate is None:
            return '%s; %s so far, time left not known yet' % (words, elapsed)
        left, of_task = estimate
        return '%s; %s so far, about %s left%s' % (words, elapsed, _duration(left), ' in this task' if of_task else '')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'vapix.q6000.progress'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._progress = None
        self._play_uuid = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None

    # --- the ticker: a line every interval seconds while a play runs ----------------------------------------

    def _say(self, ended=False):
        with self._lock:
            if self._progress is None:
                return
            line = self._progress.line(ended)
        self._display.display('[progress] %s' % line)

    def _tick(self, interval):
        while not self._stop.wait(interval):
            self._say()

    def _start_ticker(self):
        interval = float(self.get_option('interval') or 0)
        if interval <= 0 or self._ticker is not None:
            return
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, args=(interval,), name='q6000-progress', daemon=True)
        self._ticker.start()

    def _stop_ticker(self):
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        self._ticker = None

    def _end_play(self):
        if self._progress is not None:
            self._stop_ticker()
            with self._lock:
                self._progress.end()
            self._say(ended=True)
            self._progress = None
            self._play_uuid = None

    # --- events ---------------------------------------------------------------------------------------------

    def v2_playbook_on_play_start(self, play):
        # One event per batch of a play with serial, each with the inventory restricted to the batch.
        inventory = play.get_variable_manager()._inventory
        batch = [host.name for host in inventory.get_hosts(play.hosts)]
        uuid = getattr(play, '_uuid', None)
        if self._progress is not None and uuid != self._play_uuid:
            self._end_play()
        if self._progress is None:
            units = [host.name for host in inventory.get_hosts(play.hosts, ignore_restrictions=True)]
            name = play.get_name().strip() or ','.join(play.hosts if isinstance(play.hosts, list) else [play.hosts])
            with self._lock:
                self._progress = Progress(name, units)
            self._play_uuid = uuid
        with self._lock:
            self._progress.start_batch(batch)
        self._start_ticker()

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._progress is not None:
            with self._lock:
                self._progress.start_task(task.get_name().strip())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _result(self, result, status):
        if self._progress is not None:
            with self._lock:
                self._progress.result(result._host.get_name(), status)

    def v2_runner_on_ok(self, result):
        self._result(result, 'ok')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'ok' if ignore_errors else 'failed')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_playbook_on_no_hosts_remaining(self):
        self._end_play()

    def v2_playbook_on_stats(self, stats):
        self._end_play()
