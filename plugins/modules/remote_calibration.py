#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: remote_calibration
short_description: Calibrate the heads of an AXIS Q6000-E to its PTZ from declared point sets
version_added: 0.1.0
description:
  - Calibration maps each head's pixels to the PTZ's pan/tilt, so that a click in the overview steers the PTZ.
    This module turns it into data; a set of points per head, each a normalized pixel of the head and the
    PTZ's pan/tilt looking at the same spot, applied through the VAPIX PT remote calibration API.
  - For each head to calibrate, one session is run on the device; C(start.cgi), C(selecttarget.cgi) and
    C(ontarget.cgi) with the point's pan/tilt for every point, then C(save.cgi).
  - Whatever fails after a session started (a refused point, a failed save, a lost connection, an interrupt),
    the module aborts its own session, so the device is not left blocking the next calibration, and the head
    keeps the calibration it had.
  - A session is this run's from the moment its C(start.cgi) succeeded, while the device shows its camera and
    the target it selected last. A session another client opened meanwhile is never aborted or saved into;
    the task fails and names it.
  - When C(save.cgi) gets no answer, the outcome is unknown; the task fails and says what C(iscalibrated.cgi)
    reports. A rerun converges.
  - Point sets are checked before any request; x and y in -1..1, at least O(min_points) points, no two on the
    same pixel, not all on one line, one entry per camera. Before anything is changed, the cameras are
    checked against the device's heads and, when the PTZ's account is given, pan and tilt against the PTZ's
    limits (C(PTZ.Limit.L1.*)).
author:
  - vapix.q6000 maintainers (@vapix)
options:
  heads:
    description: The heads to calibrate, each with its point set.
    type: list
    elements: dict
    required: true
    suboptions:
      camera:
        description: Head number, 1 to the number of heads of the device (4 on a Q6000-E).
        type: int
        required: true
      points:
        description:
          - Calibration points of the head; at least O(min_points), spread over the image (not on one line).
          - M(vapix.q6000.calibration_capture) measures them from images; M(vapix.q6000.calibration_facts) and the
            playbook C(vapix.q6000.capture_calibration) help an operator measure them.
        type: list
        elements: dict
        required: true
        suboptions:
          x:
            description: Normalized horizontal coordinate in the head's image, -1 (left) to 1 (right).
            type: float
            required: true
          y:
            description: Normalized vertical coordinate in the head's image, -1 (bottom) to 1 (top).
            type: float
            required: true
          pan:
            description: Pan of the PTZ, in degrees, when it looks at that pixel. Wraps at +-180.
            type: float
            required: true
          tilt:
            description: Tilt of the PTZ, in degrees, when it looks at that pixel.
            type: float
            required: true
          score:
            description:
              - How sure M(vapix.q6000.calibration_capture) was of the point (0 to 1). Accepted so that captured
                point sets apply as they are; ignored.
            type: float
      baseline:
        description:
          - For O(drift_method=image); correspondences measured right after the head was calibrated and kept
            beside its point set (RV(point_sets) returns them), at most 40 C([x, y, pan, tilt]), a head pixel and
            where the PTZ saw its content. The check finds these pixels again and fits the Q6000-E's rotation
            against the PTZ from the pairs, so a calibration that carries a steady offset (parallax) does not
            raise an alarm on every check. Without one, the head's points are the pairs and a baseline is
            recorded.
          - The older shape, the head's mean offset C({pan, tilt}), is still accepted; the head is judged on how
            far its mean offset moved from it, and the new shape is recorded in its place.
        type: raw
  recalibrate:
    description:
      - V(when_uncalibrated) calibrates only the heads the device reports as not calibrated.
      - V(always) calibrates every head given, on every run (always reports a change).
      - V(when_drifted) also checks each calibrated head, by O(drift_method). B(This moves the PTZ); the PTZ is
        put back where it was afterwards, zoom included. With O(drift_method=image), a PTZ that moves during the
        O(ptz_idle) seconds before the first move, or that someone else moves during the check, is theirs; the
        check moves it no more, does not put it back, and the heads left are not measured. It needs O(remote_username) and O(remote_password), and
        the PTZ is reached at O(ptz_hostname).
    type: str
    choices: [when_uncalibrated, always, when_drifted]
    default: when_uncalibrated
  min_points:
    description: Fewest points accepted per head. Axis recommends at least 4; the device needs 3.
    type: int
    default: 4
  abort_ongoing:
    description:
      - Abort a calibration session that another client left open on the device. Without it the module fails
        and names the camera and target of that session.
    type: bool
    default: false
  drift_method:
    description:
      - How O(recalibrate=when_drifted) measures drift.
      - V(points) sends the PTZ, through the head's saved calibration, to each point
        (C(com/ptz.cgi?camera=N&center=..)), reads where it went, and recalibrates the heads off the declared
        points' pan/tilt by more than O(drift_tolerance). It finds a saved calibration that no longer matches
        the declared points (a recalibration by hand, a swapped or reset device), but not a knock to the
        mount, which moves the points too.
      - V(image) clicks to centre the same way at the declared points' pixels and measures, from the PTZ's and
        the head's pictures, how far in degrees the PTZ lands from what the head sees at that pixel (it finds
        the head's patch in the PTZ's picture and centres on it, as M(vapix.q6000.calibration_capture) does).
        Per head, the rotation of the Q6000-E against the PTZ (yaw, pitch, roll) is fitted to the pairs of its
        O(heads[].baseline) found again, with its uncertainty (one standard deviation of the angle). The head is
        V(drifted) when the angle less twice the uncertainty is beyond O(drift_tolerance); V(not_measured) when
        twice the uncertainty alone is, or fewer than three well-spread pairs were found, or one pair lies more
        than 0.3 degrees (or half of O(drift_tolerance), where that is wider) off the turn the others agree on, or
        a picture is dark or infrared, or the PTZ is in use; V(ok) otherwise. A drifted head makes the task fail with the
        measurement, or, with O(recapture=true), gets new points captured, is recalibrated from them, and
        returns them in RV(point_sets). A head not measured never fails the task; a warning names it and the
        reason, and the other heads are measured. Every head this run calibrates gets a baseline measured right
        after, so V(image) with O(recalibrate=always) calibrates and records baselines. Needs numpy and
        opencv-python-headless.
    type: str
    choices: [points, image]
    default: points
  drift_tolerance:
    description:
      - Degrees above which a head has drifted; for V(points), between a point's pan/tilt and where the PTZ
        went for it; for V(image), the angle the head turned since its baseline.
      - Defaults to 1.0 for O(drift_method=points) and 0.15 for O(drift_method=image).
    type: float
  recapture:
    description:
      - With O(drift_method=image); a flagged head's declared points are stale too, so capture new ones (the
        points the check measured when they agree, else a fresh capture), recalibrate the head from them, and
        return them with a new baseline in RV(point_sets), instead of failing.
    type: bool
    default: false

extends_documentation_fragment:
  - vapix.q6000.vapix
  - vapix.q6000.vapix.images
  - vapix.q6000.vapix.action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode sends nothing that changes the device; no session is started and the PTZ does not move,
      so drift is not measured.
  diff_mode:
    support: full
    details: The diff shows, per head, whether it is calibrated before and after.
  platform:
    platforms: AXIS Q6000-E
seealso:
  - module: vapix.q6000.calibration_facts
  - module: vapix.q6000.remote_camera_params
"""

EXAMPLES = r"""
- name: Calibrate the heads of each Q6000-E from the point sets in its host_vars
  hosts: q6000
  connection: local
  gather_facts: false
  module_defaults:
    group/vapix.q6000.vapix:
      hostname: "{{ ansible_host }}"
      port: "{{ q6000_port }}"
      username: "{{ q6000_username }}"
      password: "{{ q6000_password }}"
  tasks:
    - name: Calibrate the heads that are not calibrated yet
      vapix.q6000.remote_calibration:
        heads: "{{ q6000_calibration_heads }}"
        remote_username: "{{ q6000_remote_username }}"
        remote_password: "{{ q6000_remote_password }}"

- name: One head, written out
  vapix.q6000.remote_calibration:
    hostname: 192.0.2.10
    username: root
    password: "{{ vault_q6000_password }}"
    heads:
      - camera: 2
        points:
          - {x: -0.6, y: 0.5, pan: 61.2, tilt: -2.4}
          - {x: 0.55, y: 0.45, pan: 124.7, tilt: -4.1}
          - {x: 0.6, y: -0.55, pan: 121.9, tilt: -38.0}
          - {x: -0.5, y: -0.6, pan: 64.3, tilt: -39.6}

- name: Nightly; recalibrate the heads whose saved calibration no longer matches the points (moves the PTZ)
  vapix.q6000.remote_calibration:
    heads: "{{ q6000_calibration_heads }}"
    recalibrate: when_drifted
    drift_tolerance: 1.5
    remote_username: "{{ q6000_remote_username }}"
    remote_password: "{{ q6000_remote_password }}"

- name: Nightly; the image drift check, with new points captured for a knocked head
  vapix.q6000.remote_calibration:
    heads: "{{ q6000_calibration_heads }}"
    recalibrate: when_drifted
    drift_method: image
    recapture: true
    remote_username: "{{ q6000_remote_username }}"
    remote_password: "{{ q6000_remote_password }}"
  register: checked
"""

RETURN = r"""
point_sets:
  description:
    - The heads' point sets as the inventory is to keep them; those given, with new points (recapture) and
      baselines (recorded or measured anew) in place.
  returned: always
  type: list
  elements: dict
  sample: [{camera: 1, points: [{x: -0.6, y: 0.5, pan: 61.2, tilt: -2.4}], baseline: [[-0.6, 0.5, 61.21, -2.38]]}]
point_sets_updated:
  description: Whether RV(point_sets) differs from the heads given (write them back when true).
  returned: always
  type: bool
heads:
  description: What was done, per head, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    camera:
      description: Head number.
      type: int
      sample: 2
    calibrated_before:
      description: Whether the device reported the head calibrated before the run.
      type: bool
    calibrated_after:
      description: Whether the head is calibrated after the run.
      type: bool
    action:
      description:
        - V(none), V(calibrated) (was not calibrated), V(recalibrated) (was calibrated),
          V(skipped_check_mode) (check mode; see RV(heads[].would)), or V(unknown) (C(save.cgi) got no answer;
          RV(heads[].reason) says what the device reported afterwards, and the task fails).
      type: str
      sample: calibrated
    would:
      description: In check mode, what would be done (V(calibrated) or V(recalibrated)), or null.
      type: str
    reason:
      description: Why the head was or was not calibrated, in words.
      type: str
      sample: not calibrated
    points:
      description: Number of points in the head's set.
      type: int
      sample: 4
    drift:
      description:
        - With O(recalibrate=when_drifted), for a calibrated head; null for a head the run was not to measure (another
          policy, check mode). Always C(method),
          C(status) (V(ok), V(drifted), or for V(image) V(not_measured)), C(flagged) (status V(drifted)),
          C(tolerance), C(max) (the largest point error, degrees; null when no point was found), C(points),
          C(pairs) (the pairs or points judged), C(reason) (null unless not measured) and C(rotation).
        - For V(points), C(points) are the degrees between each point's pan/tilt and where the PTZ went for it;
          C(rotation) is null.
        - For V(image), C(points) are per point the signed C(pan) and C(tilt) offsets from where the PTZ landed
          and their C(error) in degrees (null, with a C(reason), for a point the pictures could not place);
          C(rotation) is C({yaw, pitch, roll, angle}) in degrees (null when not measured, or against an old
          baseline), C(uncertainty) one standard deviation of the angle, C(moved) the angle turned (against an
          old baseline, how far the mean offset moved), C(against) what was compared (V(baseline),
          V(point set) or V(old baseline)), and C(thumbnail) a small JPEG data URI (the head's patch at the
          worst point beside the PTZ's view after click-to-center) for a report.
      type: dict
      sample: {method: image, status: drifted, flagged: true, tolerance: 0.15, max: 0.61, pairs: 5, reason: null,
               rotation: {yaw: 0.02, pitch: 0.48, roll: -0.31, angle: 0.57}, uncertainty: 0.04, moved: 0.57,
               against: baseline}
    baseline:
      description: With O(drift_method=image), the baseline recorded for the head by this run, if any.
      type: list
      elements: list
      sample: [[-0.6, 0.5, 61.21, -2.38], [0.6, 0.5, 118.4, -2.1], [0.0, 0.05, 90.2, -12.6]]
    point_set:
      description: With O(recapture=true), the new points of a head that was recaptured.
      type: list
      elements: dict
    requests:
      description: HTTP requests the head's drift check and session took.
      type: int
      sample: 10
"""

from ansible_collections.vapix.q6000.plugins.module_utils import calibration
from ansible_collections.vapix.q6000.plugins.module_utils._runner import run_module


def main():
    run_module(calibration)


if __name__ == "__main__":
    main()
