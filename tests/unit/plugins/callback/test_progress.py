# -*- coding: utf-8 -*-
"""The progress callback's bookkeeping (plugins/callback/progress.py), on a clock the test moves."""

from __future__ import annotations

from ansible_collections.vapix.q6000.plugins.callback.progress import Progress, _duration


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_durations_read_as_people_read_them():
    assert [_duration(s) for s in (0, 44.6, 60, 370, 3600 + 5 * 60 + 59, -3)] == ['0s', '45s', '1m00s', '6m10s',
                                                                                  '1h05m', '0s']


def test_a_play_without_batches_estimates_from_the_task_in_progress():
    clock = Clock()
    progress = Progress('Check', ['a', 'b', 'c', 'd', 'e'], clock)
    progress.start_batch(['a', 'b', 'c', 'd', 'e'])
    assert progress.line().endswith('time left not known yet')
    progress.start_task('Measure')
    clock.now += 20
    progress.result('a', 'ok')
    progress.result('b', 'ok')
    # Two answered in 20 s, three to go: 30 s more for this task.
    assert progress.estimate() == (30.0, True)
    assert 'about 30s left in this task' in progress.line()
    progress.result('c', 'failed')
    line = progress.line()
    assert line.startswith('Check: 1 of 5 units done, 1 failed, 0 unreachable')
    assert "task 'Measure' 3 of 5 answered" in line
    # Once a unit is done, the pace is per done unit: 20 s for one, four to go.
    assert progress.estimate() == (80.0, False) and 'about 1m20s left' in line
    progress.result('d', 'unreachable')
    progress.end()
    assert progress.line(ended=True) == 'Check: 5 of 5 units done, 1 failed, 1 unreachable; the play took 20s'


def test_batches_count_their_units_done_when_the_next_batch_starts():
    clock = Clock()
    progress = Progress('Rollout', ['a', 'b', 'c', 'd'], clock)
    progress.start_batch(['a'])
    progress.start_task('Link')
    clock.now += 10
    progress.result('a', 'ok')
    assert progress.line().startswith('Rollout: 0 of 4 units done')
    assert "task 'Link' 1 of 1 answered" in progress.line()
    progress.start_batch(['b', 'c', 'd'])
    assert progress.line().startswith('Rollout: 1 of 4 units done')
    assert progress.estimate() == (30.0, False)
    progress.start_task('Link')
    clock.now += 5
    progress.result('b', 'skipped')
    assert "task 'Link' 1 of 3 answered" in progress.line()
    progress.end()
    assert progress.estimate() == (0.0, False)


def test_units_only_seen_in_a_batch_are_counted():
    progress = Progress('Play', [], Clock())
    progress.start_batch(['x', 'y'])
    assert progress.line().startswith('Play: 0 of 2 units done')
