# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the playbooks' reports compute, as plain data for their templates to lay out.

report_units and report_summary feed the fleet report (playbooks/templates/report.html.j2), rollout_summary
the last line of playbooks/site.yml, facts_rows the table of playbooks/facts.yml. Each takes what the plays
registered per unit, read from hostvars (or any mapping of unit names to their variables), and leaves every
text from a device or the inventory as it came: the templates escape it.
"""

from __future__ import annotations

from collections.abc import Mapping

# The image plane every head is drawn on: normalized x (right) and y (up), -1..1, over a 16:9 rectangle whose
# y axis points down, as SVG's does; around it a margin for the labels.
PLANE_WIDTH = 160
PLANE_HEIGHT = 90
PLANE_MARGIN = 10
# A point's number beside its circle: to the right, or to the left within LABEL_ROOM of the right edge; above it,
# or below it within LABEL_TOP of the top edge.
LABEL_GAP = 6
LABEL_ROOM = 20
LABEL_ABOVE = 5
LABEL_BELOW = 11
LABEL_TOP = 12
TARGET_SIZE = 12  # the cross that marks an open session's target

# A head's drift status; not_measured (the image method only) is no problem of the unit, and not flagged.
STATUSES = ('ok', 'drifted', 'not_measured')

_NOT_READ = 'not read: the unit failed or was unreachable earlier in this run'
_MISSING = object()


def _float(value):
    """A number from the inventory as Jinja's float filter reads it: 0.0 when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _int(value):
    """A number as Jinja's int filter reads it: '2', 2.0 and '2.0' are 2; 0 when it is none."""
    try:
        if isinstance(value, str):
            return int(value, 10)
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _number(value):
    """A measured number as a float, or none when there is none (null, or not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _mapping(value):
    return value if isinstance(value, Mapping) else {}


def _list(value):
    return value if isinstance(value, (list, tuple)) else []


def _variables(hostvars, name):
    """One unit's variables; a unit that hostvars does not know has none."""
    try:
        found = hostvars[name]
    except (KeyError, TypeError):
        return {}
    return found if isinstance(found, Mapping) else {}


def _on_plane(point):
    """Where a normalized pixel {x, y} lands on the drawn plane."""
    return (_float(point.get('x')) + 1) * (PLANE_WIDTH / 2), (1 - _float(point.get('y'))) * (PLANE_HEIGHT / 2)


def _point_drift(image, measured, tolerance):
    """One point's drift: its error (none when not measured), its class and its words."""
    error = None if measured is None else measured.get('error') if image else measured
    if error is None:
        if image and measured is not None:
            return None, 'none', 'not measured: %s' % measured.get('reason', '?')
        return None, 'none', 'not measured'
    shade = 'over' if error > tolerance else 'near' if error > tolerance / 2 else 'ok'
    said = '%.2f°' % error
    if image and _number(measured.get('pan')) is not None and _number(measured.get('tilt')) is not None:
        said += ' (off pan %+.2f°, tilt %+.2f°)' % (measured['pan'], measured['tilt'])
    return error, shade, said


def _drawn_points(points, found):
    """The points of a head's set as drawn: position, label, and how far each drifted when that was measured."""
    image = bool(found) and found.get('method') == 'image'
    tolerance = found.get('tolerance') if found else None
    measures = _list(found.get('points')) if found else []
    drawn = []
    for index, point in enumerate(points):
        point = _mapping(point)
        x, y = _on_plane(point)
        measured = measures[index] if index < len(measures) else None
        error, shade, said = _point_drift(image, measured, tolerance)
        right = x < PLANE_WIDTH - LABEL_ROOM
        drawn.append({
            'number': index + 1,
            'x': x,
            'y': y,
            'label_x': x + LABEL_GAP if right else x - LABEL_GAP,
            'label_y': y - LABEL_ABOVE if y > LABEL_TOP else y + LABEL_BELOW,
            'label_end': not right,
            'drift': shade,
            'error': error,
            'title': 'Point %d: x %s, y %s, pan %s, tilt %s; drift %s' % (
                index + 1, point.get('x'), point.get('y'), point.get('pan', '?'), point.get('tilt', '?'), said),
        })
    return drawn


def _target(session, camera):
    """The cross of the open session's current target, when the session is on this head."""
    if session is None or session.get('camera') != camera:
        return None
    target = session.get('current_target')
    if target is None:
        return None
    target = _mapping(target)
    x, y = _on_plane(target)
    half = TARGET_SIZE / 2
    return {'x': target.get('x'), 'y': target.get('y'), 'at': {'x': x, 'y': y}, 'size': TARGET_SIZE,
            'horizontal': {'x': x - half, 'y': y}, 'vertical': {'x': x, 'y': y - half}}


def _status(found):
    """A measured head's status: ok, drifted or not_measured; a result without one (the shape before the status)
    is drifted when flagged, else ok."""
    status = found.get('status')
    if status in STATUSES:
        return status
    return 'drifted' if found.get('flagged') else 'ok'


def _rotation(found):
    """The image method's rotation of the head since its baseline, {yaw, pitch, roll, angle} in degrees, or none
    (not measured, the points method, or judged against an old {pan, tilt} baseline)."""
    rotation = found.get('rotation')
    if not isinstance(rotation, Mapping):
        return None
    values = {key: _number(rotation.get(key)) for key in ('yaw', 'pitch', 'roll', 'angle')}
    return None if None in values.values() else values


def _head(camera, points, measured, calibrated, session):
    """One head's drawing and caption: its points, the open session's target, what its check measured."""
    found = _mapping(measured.get('drift')) if measured else None
    image = bool(found) and found.get('method') == 'image'
    status = _status(found) if found else None
    judged = bool(found) and status != 'not_measured'
    head = {
        'camera': camera,
        'points': _drawn_points(points, found),
        'target': _target(session, camera),
        'calibrated': calibrated,
        'session': session is not None and session.get('camera') == camera,
        # Measured: judged ok or drifted; a head the check could not judge is not_measured, with its reason.
        'measured': judged,
        'status': status,
        'not_measured': status == 'not_measured',
        'reason': found.get('reason') if status == 'not_measured' else None,
        'method': found.get('method') if found else None,
        'image': image,
        'flagged': status == 'drifted',
        'tolerance': found.get('tolerance') if found else None,
        'max': _number(found.get('max')) if found else None,
        'pairs': found.get('pairs') if found else None,
        'moved': _number(found.get('moved')) if image and judged else None,
        'rotation': _rotation(found) if image and judged else None,
        'uncertainty': _number(found.get('uncertainty')) if image and judged else None,
        'against': found.get('against') if image else None,
        'baseline_recorded': False,
        'action': None,
        'thumbnail': None,
    }
    if found:
        action = measured.get('action', 'none')
        head['action'] = None if action == 'none' else str(action)
    if image:
        # The baseline this run recorded for the head (beside its drift entry): its first, or after a recapture.
        head['baseline_recorded'] = bool(measured.get('baseline'))
        # Only a data URI: the page fetches nothing.
        thumbnail = found.get('thumbnail') or ''
        head['thumbnail'] = thumbnail if isinstance(thumbnail, str) and thumbnail.startswith('data:image/') else None
    return head


def _drift_summary(drift):
    """Per head the check looked at, in camera order: its status, the image method's move since its baseline (none
    when not measured), the worst point, and why a head was not measured."""
    summary = []
    for camera in sorted(drift):
        found = _mapping(drift[camera].get('drift'))
        image = found.get('method') == 'image'
        status = _status(found)
        summary.append({'camera': camera, 'image': image, 'status': status, 'flagged': status == 'drifted',
                        'moved': _number(found.get('moved')) if image and status != 'not_measured' else None,
                        'max': _number(found.get('max')),
                        'reason': found.get('reason') if status == 'not_measured' else None})
    return summary


def _link(status):
    """The link status as the device words it, then each protocol's."""
    status = _mapping(status)
    return {
        'code': status.get('code'),
        'description': status.get('description', 'unknown'),
        'protocols': [{'name': name, 'code': _mapping(status[name.lower()]).get('code'),
                       'description': _mapping(status[name.lower()]).get('description')}
                      for name in ('HTTP', 'HTTPS', 'RTSP') if name.lower() in status],
    }


def _facts_of(read):
    """The q6000 facts the report's read returned, or none when it failed, was unreachable or did not run."""
    if read is None or read.get('failed') or read.get('unreachable') or 'ansible_facts' not in read:
        return None
    facts = _mapping(read['ansible_facts']).get('q6000')
    return facts if isinstance(facts, Mapping) else None


def _failure(variables, read, calibration):
    """Why a unit could not be read: the read's error, else what failed earlier in this run (site.yml)."""
    if read is not None:
        return read.get('msg', 'failed')
    for result in (_mapping(variables.get('q6000_remote_camera_result')), calibration):
        if result.get('failed'):
            message = result.get('msg', _MISSING)
            return _NOT_READ if message is _MISSING else message
    return _NOT_READ


def _unit(name, variables):
    """One unit of the report: its facts or its failure, its point sets and the drift this run measured."""
    read = variables.get('q6000_report_facts')
    read = _mapping(read) if read is not None else None
    facts = _facts_of(read)
    calibration = _mapping(variables.get('q6000_calibration_result'))
    drift = {}
    statuses = []
    for head in _list(calibration.get('heads')):
        head = _mapping(head)
        if head.get('drift'):
            drift[_int(head.get('camera'))] = head
            statuses.append(_status(_mapping(head['drift'])))
    flagged = statuses.count('drifted')
    points = {}
    for head in _list(variables.get('q6000_calibration_heads')):
        head = _mapping(head)
        points[_int(head.get('camera'))] = _list(head.get('points'))
    unit = {
        'name': name,
        'failed': facts is None,
        'message': None,
        # A check registered with failed_when: false (playbooks/check_calibration.yml) still carries its error.
        'check_error': '',
        'flagged': flagged,
        'measured': len(statuses) - statuses.count('not_measured'),
        'not_measured': statuses.count('not_measured'),
        'drift': _drift_summary(drift),
    }
    if facts is None:
        unit['message'] = _failure(variables, read, calibration)
        cameras = sorted(set(points) | set(drift))
        calibrated, session = {}, None
    else:
        if not calibration.get('skipped'):
            unit['check_error'] = calibration.get('msg', '')
        session = facts.get('session')
        session = _mapping(session) if session is not None else None
        heads = _int(facts.get('heads', 0))
        status = facts.get('link_status')
        calibrated_heads = _list(facts.get('calibrated_heads'))
        unit.update({
            'model': facts.get('model', '?'),
            'firmware': facts.get('firmware', '?'),
            'heads': facts.get('heads', '?'),
            'heads_count': heads,
            'calibrated_heads': calibrated_heads,
            'link': _link(status),
            # The section's class: the code as the device gave it (none as 'None'), 'unknown' without one.
            'link_class': str(status['code']) if isinstance(status, Mapping) and 'code' in status else 'unknown',
            'link_ok': isinstance(status, Mapping) and status.get('code') == 0,
            'session': None if session is None else {
                'camera': session.get('camera', '?'),
                'target': session.get('current_target') or None,
            },
        })
        cameras = sorted(set(range(1, heads + 1)) | set(points))
        calibrated = {}
        for item in _list(facts.get('calibrated')):
            item = _mapping(item)
            calibrated[item.get('camera')] = item.get('calibrated')
    unit['heads_drawn'] = [_head(camera, points.get(camera, []), drift.get(camera), calibrated.get(camera), session)
                           for camera in cameras]
    unit['problem'] = bool(unit['failed'] or flagged or unit['check_error'])
    return unit


def report_units(names, hostvars):
    """The units of the fleet report, problems first (failed, drifted, or with an error of this run's check), each
    group in the order given; per unit what its section shows."""
    units = [_unit(name, _variables(hostvars, name)) for name in _list(names)]
    return [unit for unit in units if unit['problem']] + [unit for unit in units if not unit['problem']]


def report_summary(units):
    """The fleet report's counts over report_units' list, and the plane its drawings are on."""
    read = [unit for unit in units if not unit['failed']]
    return {
        'units': len(units),
        'link_ok': sum(1 for unit in read if unit['link_ok']),
        'heads': sum(unit['heads_count'] for unit in read),
        'calibrated': sum(len(unit['calibrated_heads']) for unit in read),
        'measured': sum(unit['measured'] for unit in units),
        'flagged': sum(unit['flagged'] for unit in units),
        'not_measured': sum(unit.get('not_measured', 0) for unit in units),
        # In the order given: the problems come first in report_units' list, each group in the order given.
        'failed': [unit['name'] for unit in units if unit['failed']],
        'drifted': [unit['name'] for unit in units if unit['flagged']],
        'not_measured_units': [unit['name'] for unit in units if unit.get('not_measured')],
        'plane': {
            'width': PLANE_WIDTH,
            'height': PLANE_HEIGHT,
            'middle': {'x': PLANE_WIDTH // 2, 'y': PLANE_HEIGHT // 2},
            'view_box': '%d %d %d %d' % (-PLANE_MARGIN, -PLANE_MARGIN, PLANE_WIDTH + 2 * PLANE_MARGIN,
                                         PLANE_HEIGHT + 2 * PLANE_MARGIN),
        },
    }


def rollout_summary(names, hostvars):
    """Each unit of the rollout by outcome, from what its roles registered: a unit that never answered (the
    modules say unreachable, as Ansible's PLAY RECAP does) was not reached."""
    outcome = {'changed': [], 'failed': [], 'untouched': [], 'not_reached': []}
    names = _list(names)
    for name in names:
        variables = _variables(hostvars, name)
        link = variables.get('q6000_remote_camera_result')
        calibration = variables.get('q6000_calibration_result')
        link = _mapping(link) if link is not None else None
        calibration = _mapping(calibration) if calibration is not None else None
        if link is None or link.get('unreachable') or (calibration is not None and calibration.get('unreachable')):
            outcome['not_reached'].append(name)
        elif link.get('failed') or calibration is None or calibration.get('failed'):
            outcome['failed'].append(name)
        elif link.get('changed') or calibration.get('changed'):
            outcome['changed'].append(name)
        else:
            outcome['untouched'].append(name)
    return dict(outcome, units=len(names))


def facts_rows(names, hostvars):
    """One row per unit of what its q6000 facts say, as words; a unit without facts (failed) has facts false."""
    rows = []
    for name in _list(names):
        facts = _mapping(_variables(hostvars, name).get('ansible_facts')).get('q6000')
        if facts is None:
            rows.append({'unit': name, 'facts': False})
            continue
        facts = _mapping(facts)
        status = facts.get('link_status', _MISSING)
        heads = facts.get('calibrated_heads', _MISSING)
        session = facts.get('session')
        rows.append({
            'unit': name,
            'facts': True,
            'model': facts.get('model', '-'),
            'firmware': facts.get('firmware', '-'),
            'link': '-' if status is _MISSING else '%s %s' % (_mapping(status).get('code'), _mapping(status).get('description')),
            'calibrated': '-' if heads is _MISSING else ','.join('%s' % head for head in _list(heads)) or 'none',
            'session': 'camera %s' % _mapping(session).get('camera') if session else 'none',
        })
    return rows


class FilterModule:
    """The reports' computations (documented in report_units.yml, report_summary.yml, rollout_summary.yml, facts_rows.yml)."""

    def filters(self):
        return {
            'report_units': report_units,
            'report_summary': report_summary,
            'rollout_summary': rollout_summary,
            'facts_rows': facts_rows,
        }
