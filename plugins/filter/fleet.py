# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet operations as plain data: each run's results per unit (q6000_results, for AWX workflows), the drift
history lines the nightly check appends, and that history's trend and plot for the fleet report.

run_results reads what the playbooks registered (from hostvars); drift_history_lines turns one unit's image drift
result into its history lines; drift_history_append keeps a bounded history file; drift_history reads the
history files of the fleet back, with a robust trend (Theil-Sen) per head and the slow drift it foresees.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.vapix.q6000.plugins.filter.report import _list, _mapping, _variables

try:
    from ansible.utils.display import Display
except ImportError:  # pragma: no cover - outside Ansible
    Display = None

# The plot of a head's history: the last PLOT_CHECKS checks, moved (degrees from the baseline) against time.
PLOT_CHECKS = 90
PLOT_WIDTH = 180
PLOT_HEIGHT = 48
TREND_MIN_CHECKS = 7


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _sort_key(camera):
    """Cameras in order, one that is not a number (none) last."""
    return (camera is None, camera or 0)


def _warn(message):
    if Display is not None:
        Display().warning(message)


# --- q6000_results ----------------------------------------------------------------------------------------------

def _unit_result(variables, playbook):
    """One unit's entry of q6000_results: status, heads_drifted, heads_not_measured, changed."""
    if playbook == 'capture' and 'q6000_capture_result' not in variables:
        # The operator's capture of one head: done when its point set was written.
        written = 'q6000_captured_heads' in variables
        camera = _int(variables.get('q6000_capture_camera', 1))
        return {'status': 'ok' if written else 'failed', 'heads_drifted': [],
                'heads_not_measured': [] if written else [camera], 'changed': written}
    if playbook == 'capture':
        result = variables.get('q6000_capture_result')
        measured = _mapping(result)
        wanted = [_int(c) for c in _list(variables.get('q6000_capture_cameras', [1, 2, 3, 4]))]
        captured = [_int(_mapping(h).get('camera')) for h in _list(measured.get('heads'))]
        saved = _mapping(variables.get('q6000_capture_saved'))
        entry = {'heads_drifted': [], 'heads_not_measured': [c for c in wanted if c not in captured],
                 'changed': bool(captured) and not measured.get('failed')}
        results = [result, saved if saved.get('failed') else None]
    else:
        link = variables.get('q6000_remote_camera_result') if playbook == 'site' else None
        result = variables.get('q6000_calibration_result')
        measured = _mapping(result)
        heads = [_mapping(h) for h in _list(measured.get('heads'))]
        declared = [_int(_mapping(h).get('camera')) for h in _list(variables.get('q6000_calibration_heads'))]
        drift = {_int(h.get('camera')): _mapping(h.get('drift')) for h in heads if h.get('drift')}
        # A head the image check looked at but could not judge (PTZ in use, too dark, too few points) is not
        # measured: no problem of the unit, neither drifted nor failed.
        unjudged = [c for c, d in drift.items() if d.get('status') == 'not_measured']
        judged = {c: d for c, d in drift.items() if c not in unjudged}
        not_measured = [c for c in declared if c not in judged] + sorted(
            (c for c in unjudged if c not in declared), key=_sort_key)
        entry = {
            'heads_drifted': sorted((c for c, d in judged.items() if d.get('flagged')), key=_sort_key),
            'heads_not_measured': not_measured if playbook == 'check' or drift else [],
            'changed': bool(measured.get('changed')) or bool(_mapping(link).get('changed')),
        }
        results = [link, result] if playbook == 'site' else [result]
    if playbook == 'check' and result is None and not variables.get('q6000_calibration_heads'):
        # Nothing declared, nothing measured: the check had nothing to do for the unit.
        entry['status'] = 'ok'
        return entry
    if any(_mapping(r).get('unreachable') for r in results if r is not None):
        entry['status'] = 'unreachable'
    elif result is None or (playbook == 'site' and link is None):
        # The unit never got to the work: it failed earlier in the run (a check, or not reached by Ansible).
        entry['status'] = 'failed'
    elif measured.get('skipped') and playbook == 'check' and declared:
        entry['status'] = 'failed'
    elif any(_mapping(r).get('failed') or (playbook == 'check' and _mapping(r).get('msg') is not None)
             for r in results if r is not None):
        entry['status'] = 'drifted' if entry['heads_drifted'] and not entry['changed'] else 'failed'
    else:
        entry['status'] = 'ok'
    return entry


def run_results(names, hostvars, playbook='check'):
    """q6000_results of a run: {unit: {status, heads_drifted, heads_not_measured, changed}} for every unit named."""
    if playbook not in ('check', 'capture', 'site'):
        raise ValueError('run_results: playbook must be check, capture or site, not %r' % (playbook,))
    return {name: _unit_result(_variables(hostvars, name), playbook) for name in _list(names)}


# --- history lines ----------------------------------------------------------------------------------------------

def _collection_version():
    """This collection's version: MANIFEST.json of an installed copy, else galaxy.yml of a checkout."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        with open(os.path.join(root, 'MANIFEST.json'), encoding='utf-8') as stream:
            return json.load(stream)['collection_info']['version']
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(root, 'galaxy.yml'), encoding='utf-8') as stream:
            for line in stream:
                if line.startswith('version:'):
                    return line.split(':', 1)[1].strip().strip('"\'')
    except OSError:
        pass
    return ''


def drift_history_lines(result, version=None, now=None):
    """One history line per head the image drift check looked at in `result` (remote_calibration's registered
    result), as JSON texts, oldest first: time (UTC), camera, status (recaptured, drifted, ok, not_measured), moved
    (none when not measured), rotation, uncertainty, against, reason, flagged, max, pairs, points, tolerance,
    version, recapture."""
    result = _mapping(result)
    when = now or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    lines = []
    for head in _list(result.get('heads')):
        head = _mapping(head)
        drift = _mapping(head.get('drift'))
        if drift.get('method') != 'image':
            continue
        unjudged = drift.get('status') == 'not_measured'
        recaptured = not unjudged and head.get('action') == 'recalibrated'
        points = _list(drift.get('points'))
        flagged = not unjudged and bool(drift.get('flagged'))
        pairs = drift.get('pairs')
        if isinstance(pairs, bool) or not isinstance(pairs, int):
            pairs = sum(1 for p in points if _mapping(p).get('error') is not None)
        rotation = None if unjudged else dict(_mapping(drift.get('rotation'))) or None
        line = {
            'time': when,
            'camera': _int(head.get('camera')),
            'status': ('not_measured' if unjudged else 'recaptured' if recaptured else 'drifted' if flagged
                       else 'ok'),
            'moved': None if unjudged else drift.get('moved'),
            'rotation': rotation,
            'uncertainty': None if unjudged else drift.get('uncertainty'),
            'against': drift.get('against'),
            'reason': drift.get('reason') if unjudged else None,
            'flagged': flagged,
            'max': drift.get('max'),
            'pairs': pairs,
            'points': len(points),
            'tolerance': drift.get('tolerance'),
            'version': _collection_version() if version is None else version,
            'recapture': recaptured,
        }
        lines.append(json.dumps(line, sort_keys=True))
    return lines


def drift_history_append(text, lines, keep=400):
    """The history file's new text: its lines (`text`), then `lines`, of which the last `keep` are kept."""
    keep = int(keep)
    if keep < 1:
        raise ValueError('drift_history_append: keep must be at least 1, not %r' % (keep,))
    old = [line for line in (text or '').splitlines() if line.strip()]
    kept = (old + [str(line) for line in _list(lines)])[-keep:]
    return ''.join(line + '\n' for line in kept)


# --- history read back: trend and plot --------------------------------------------------------------------------

def _parse_time(text):
    when = datetime.datetime.strptime(str(text), '%Y-%m-%dT%H:%M:%SZ')
    return when.replace(tzinfo=datetime.timezone.utc)


def _days(when):
    return when.timestamp() / 86400.0


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def theil_sen(points):
    """(slope, intercept) of the Theil-Sen line through (t, y) pairs: the median of the pairwise slopes, and the
    median of y - slope * t; none when fewer than two distinct t."""
    slopes = [(y2 - y1) / (t2 - t1) for i, (t1, y1) in enumerate(points) for t2, y2 in points[i + 1:] if t2 != t1]
    if not slopes:
        return None
    slope = _median(slopes)
    return slope, _median([y - slope * t for t, y in points])


def parse_history(text, unit='?'):
    """The lines of a history file that parse, as dicts with a datetime `at`; each other line is skipped with a
    warning naming the unit and the line. A check that measured nothing (status not_measured) has a null moved,
    which stays none; lines of every version parse alike (those before the rotation with pan, tilt, baseline)."""
    lines, skipped = [], []
    for number, raw in enumerate((text or '').splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            if not isinstance(line, dict):
                raise ValueError('not an object')
            line['at'] = _parse_time(line['time'])
            line['camera'] = int(line['camera'])
            line['moved'] = None if line.get('moved', 0) is None else float(line['moved'])
        except (ValueError, KeyError, TypeError) as exc:
            skipped.append(number)
            _warn('q6000_history.jsonl of %s: line %d skipped, it does not parse (%s)' % (unit, number, exc))
            continue
        lines.append(line)
    return lines, skipped


def _trend(checks, now, days):
    """The Theil-Sen trend of moved over the checks since the last recapture, and when it crosses the tolerance."""
    since = checks
    for index, check in enumerate(checks):
        if check.get('recapture'):
            since = checks[index + 1:]
    tolerance = checks[-1].get('tolerance')
    trend = {'checks': len(since), 'slope_per_day': None, 'crosses': None, 'slow_drift': False}
    if len(since) < TREND_MIN_CHECKS or not isinstance(tolerance, (int, float)):
        return trend
    fitted = theil_sen([(_days(c['at']), c['moved']) for c in since])
    if fitted is None:
        return trend
    slope, intercept = fitted
    trend['slope_per_day'] = round(slope, 5)
    trend['start'] = {'at': since[0]['at'], 'moved': intercept + slope * _days(since[0]['at'])}
    trend['end'] = {'at': since[-1]['at'], 'moved': intercept + slope * _days(since[-1]['at'])}
    if slope > 0 and not since[-1].get('flagged'):
        crossing = (tolerance - intercept) / slope
        at = datetime.datetime.fromtimestamp(max(crossing, _days(now)) * 86400.0, datetime.timezone.utc)
        if crossing <= _days(now) + days:
            trend['slow_drift'] = True
            trend['crosses'] = at.strftime('%Y-%m-%d')
    return trend


def _plot(checks, trend):
    """The plot's coordinates: moved against time, the tolerance line, the trend line, recaptures and flags."""
    shown = checks[-PLOT_CHECKS:]
    first, last = _days(shown[0]['at']), _days(shown[-1]['at'])
    span = (last - first) or 1.0
    tolerance = shown[-1].get('tolerance') if isinstance(shown[-1].get('tolerance'), (int, float)) else 0.3
    top = max([tolerance * 1.5] + [c['moved'] for c in shown]) or 1.0

    def x(at):
        return round((_days(at) - first) / span * PLOT_WIDTH, 1)

    def y(moved):
        return round(PLOT_HEIGHT - max(0.0, min(moved, top)) / top * PLOT_HEIGHT, 1)

    plot = {
        'width': PLOT_WIDTH,
        'height': PLOT_HEIGHT,
        'top': top,
        'line': ' '.join('%s,%s' % (x(c['at']), y(c['moved'])) for c in shown),
        'tolerance_y': y(tolerance),
        'flags': [{'x': x(c['at']), 'y': y(c['moved'])} for c in shown if c.get('flagged')],
        'recaptures': [x(c['at']) for c in shown if c.get('recapture')],
        'trend': None,
    }
    if trend.get('slope_per_day') is not None and trend['start']['at'] >= shown[0]['at']:
        plot['trend'] = {'x1': x(trend['start']['at']), 'y1': y(trend['start']['moved']),
                         'x2': x(trend['end']['at']), 'y2': y(trend['end']['moved'])}
    return plot


def drift_history_read(names, hostvars, host_vars_dir=None):
    """{unit: the text of its host_vars/<unit>/q6000_history.jsonl} for the units named, from `host_vars_dir`, else
    each unit's q6000_store_host_vars_dir, else the host_vars folder beside its inventory source; a unit without a
    history file has none (an empty text). A name that cannot name a folder is left out."""
    texts = {}
    for name in _list(names):
        name = str(name)
        if name in ('', '.') or '/' in name or '..' in name:
            continue
        variables = _variables(hostvars, name)
        folder = host_vars_dir or variables.get('q6000_store_host_vars_dir') or os.path.join(
            str(variables.get('inventory_dir') or '.'), 'host_vars')
        try:
            with open(os.path.join(str(folder), name, 'q6000_history.jsonl'), encoding='utf-8') as stream:
                texts[name] = stream.read()
        except OSError:
            texts[name] = ''
    return texts


def drift_history(texts, now=None, days=30):
    """Per unit (the keys of `texts`, each the text of its q6000_history.jsonl) and head: the latest check that
    measured the head, the count of such checks, the trend (Theil-Sen over the checks since the last recapture, at
    least 7) with the slow drift it foresees within `days`, and the plot of the last 90 checks. Checks that measured
    nothing (not_measured, moved null) are left out of all of these; they are counted apart, and the last one is
    given when it came after the latest measured check."""
    now = _parse_time(now) if now else datetime.datetime.now(datetime.timezone.utc)
    days = float(days)
    fleet = {}
    for unit, text in _mapping(texts).items():
        lines, skipped = parse_history(text, unit)
        heads = {}
        for line in sorted(lines, key=lambda line: line['at']):
            heads.setdefault(line['camera'], []).append(line)
        entry = {'skipped': skipped, 'heads': {}}
        for camera in sorted(heads):
            checks = [line for line in heads[camera] if line['moved'] is not None]
            unjudged = [line for line in heads[camera] if line['moved'] is None]
            last = None
            if unjudged and (not checks or unjudged[-1]['at'] > checks[-1]['at']):
                last = _shown(unjudged[-1])
            head = {'camera': camera, 'checks': len(checks), 'not_measured': len(unjudged),
                    'last_not_measured': last, 'latest': None, 'flagged': False,
                    'trend': {'checks': 0, 'slope_per_day': None, 'crosses': None, 'slow_drift': False},
                    'plot': None}
            if checks:
                trend = _trend(checks, now, days)
                head.update(latest=_shown(checks[-1]), flagged=bool(checks[-1].get('flagged')),
                            trend={k: v for k, v in trend.items() if k not in ('start', 'end')},
                            plot=_plot(checks, trend))
            entry['heads'][camera] = head
        fleet[unit] = entry
    return fleet


def _shown(line):
    """A history line as the report shows it: its time as words."""
    shown = dict(line)
    shown['at'] = shown['at'].strftime('%Y-%m-%d %H:%M UTC')
    return shown


def _plain(value):
    """A value of hostvars as plain JSON types."""
    return json.loads(json.dumps(value, default=str))


def store_writes(units, hostvars, host_vars_dir, keep=400):
    """What the git store's commit writes into its clone's `host_vars_dir`, for every unit of `units` that kept
    results in this run (q6000_store_pending_heads, q6000_store_pending_history): [{path, content, move_from}],
    absolute paths, in the order to apply them. A unit without a folder yet whose
    host_vars/<unit>.yml (.yaml, .json) exists gets it moved in as main, unchanged (move_from)."""
    import yaml

    writes = []
    for unit in _list(units):
        unit = str(unit)
        if unit in ('', '.') or '/' in unit or '..' in unit:
            continue
        variables = _variables(hostvars, unit)
        heads = variables.get('q6000_store_pending_heads')
        lines = variables.get('q6000_store_pending_history')
        if heads is None and not lines:
            continue
        folder = os.path.join(str(host_vars_dir), unit)
        if not os.path.isdir(folder):
            for extension in ('.yml', '.yaml', '.json'):
                if os.path.isfile(folder + extension):
                    writes.append({'path': os.path.join(folder, 'main' + extension), 'content': None,
                                   'move_from': folder + extension})
                    break
        if heads is not None:
            text = yaml.safe_dump({'q6000_calibration_heads': _plain(heads)}, default_flow_style=False, indent=2,
                                  sort_keys=False)
            writes.append({'path': os.path.join(folder, 'q6000_calibration.yml'), 'move_from': None, 'content':
                           '---\n# Calibration point sets of %s, captured with playbooks/capture_calibration.yml.\n%s'
                           % (unit, text)})
        if lines:
            path = os.path.join(folder, 'q6000_history.jsonl')
            try:
                with open(path, encoding='utf-8') as stream:
                    old = stream.read()
            except OSError:
                old = ''
            writes.append({'path': path, 'move_from': None,
                           'content': drift_history_append(old, [str(line) for line in _list(lines)], keep)})
    return writes


def drift_history_summary(history, names=None):
    """Counts over drift_history's answer for a report from the store: the units (in the order of `names`, else
    of the history) with drifted units first, then those with a slow drift, then the others."""
    history = _mapping(history)
    names = [str(name) for name in _list(names)] if names is not None else list(history)
    drifted, slow, quiet = [], [], []
    heads = flagged = slow_heads = not_measured = 0
    for name in names:
        entry = _mapping(history.get(name))
        found = [_mapping(head) for head in _mapping(entry.get('heads')).values()]
        heads += len(found)
        unit_flagged = sum(1 for head in found if _mapping(head.get('latest')).get('flagged'))
        not_measured += sum(1 for head in found if head.get('last_not_measured'))
        unit_slow = sum(1 for head in found if _mapping(head.get('trend')).get('slow_drift'))
        flagged += unit_flagged
        slow_heads += unit_slow
        (drifted if unit_flagged else slow if unit_slow else quiet).append(name)
    return {'units': len(names), 'order': drifted + slow + quiet, 'drifted': drifted, 'slow_drift': slow,
            'heads': heads, 'flagged': flagged, 'slow_heads': slow_heads, 'not_measured': not_measured,
            'without_history': [name for name in names if not _mapping(_mapping(history.get(name)).get('heads'))]}


class FilterModule:
    """Fleet operations (documented in run_results.yml, drift_history_lines.yml, drift_history_append.yml,
    drift_history_read.yml, drift_history.yml, drift_history_summary.yml, store_writes.yml)."""

    def filters(self):
        return {
            'run_results': run_results,
            'drift_history_lines': drift_history_lines,
            'drift_history_append': drift_history_append,
            'drift_history': drift_history,
            'drift_history_read': drift_history_read,
            'drift_history_summary': drift_history_summary,
            'store_writes': store_writes,
        }
