#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: calibration_capture
short_description: Measure calibration point sets of an AXIS Q6000-E from images, with no operator
version_added: 0.2.0
description:
  - For each head asked, picks well-textured, well-spread target pixels in the head's snapshot (or takes
    O(targets)), finds each target's patch in the PTZ's picture and lets the PTZ centre on it with its own
    C(center=) and C(areazoom=) (C(com/ptz.cgi) on the PTZ), so no table of the PTZ's field of view is needed.
    When the patch sits at the centre of the PTZ's picture, at a zoom where the PTZ sees finer than the head,
    the PTZ's position is the point.
  - Returns point sets that M(vapix.q6000.remote_calibration) takes as they are; it saves nothing itself and
    opens no calibration session.
  - The mapping between a head's patch and the PTZ's picture is a local homography (rotation, scale and skew
    differ over a wide head tilted down), found from SIFT features and refined by ECC and normalized
    cross-correlation, which ignore the gain and contrast differences between the two cameras.
  - Targets that cannot be matched with confidence are refused with the reason (too little detail, a
    repetitive pattern, a patch that does not correlate), and so are points farther than O(fit_budget) from a
    fit of the head's other points (near content, whose parallax bends the mapping); others are picked
    instead, closer together once the well-spread ones are all tried. The burned-in date and time of the
    head's pictures is found as what changes between two pictures a second apart, and never matched.
  - The first point of a unit is found by a search over pan (no knowledge of the mount's offset is needed);
    later points and heads start from what the earlier ones taught.
  - Before its first move the run waits O(ptz_idle) seconds for the PTZ to stay still; a PTZ in use is left
    alone and no head is captured. If someone else moves the PTZ during the run (a guard tour, an operator),
    the run stops, moves it no more and leaves it where they put it; the heads captured until then are
    returned. On every other way out the PTZ is put back where it was, zoom included.
  - A PTZ in night mode (a grey, near-infrared picture) cannot be matched against colour heads; the capture says so
    before any move, and captures no head whose picture is in colour.
  - A head that cannot be captured does not fail the task; it is named in RV(failed_heads) with the reasons
    and a warning, and the other heads are captured. The task fails when no head was captured, or with
    O(require_all=true) when any head was not.
  - Needs numpy and opencv-python-headless where the task runs (the controller); the other modules of the
    collection do not.
author:
  - vapix.q6000 maintainers (@vapix)
requirements:
  - numpy
  - opencv-python-headless
options:
  cameras:
    description: The heads to capture points for.
    type: list
    elements: int
    default: [1, 2, 3, 4]
  targets:
    description:
      - Target pixels to capture instead of picking them; each head in O(cameras) that has targets here gets
        exactly these (those refused are left out, and the head fails with fewer than four).
    type: list
    elements: dict
    suboptions:
      camera:
        description: The head, one of O(cameras).
        type: int
        required: true
      x:
        description: Normalized horizontal coordinate, -0.95 (left) to 0.95 (right).
        type: float
        required: true
      y:
        description: Normalized vertical coordinate, -0.95 (bottom) to 0.95 (top).
        type: float
        required: true
  points:
    description:
      - Points per head when the module picks the targets (4 to 12).
      - A head where no more targets can be matched with confidence gets fewer (never under four), with a warning.
    type: int
    default: 5
  require_all:
    description:
      - Fail the task when any head of O(cameras) was not captured, not only when none was.
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
    details: Check mode takes the heads' snapshots and returns the targets it would capture (and, in RV(failed_heads),
      the heads without enough of them); the PTZ does not move.
  diff_mode:
    support: none
  platform:
    platforms: AXIS Q6000-E, AXIS Q60-E
notes:
  - C(center=) and C(areazoom=) are sent in whole pixels of the PTZ's picture as it streams (C(imagewidth) and
    C(imageheight) its size), as VAPIX types them; the last fraction of a pixel is turned into degrees from the
    PTZ's own moves.
  - Never reports a change; the PTZ is back where it was when the task ends, unless someone else moved it.
seealso:
  - module: vapix.q6000.remote_calibration
  - module: vapix.q6000.remote_ptz
"""

EXAMPLES = r"""
- name: Capture every head's points from images and calibrate with them
  hosts: q6000
  connection: local
  gather_facts: false
  module_defaults:
    group/vapix.q6000.vapix:
      hostname: "{{ ansible_host }}"
      use_https: true
      username: "{{ q6000_username }}"
      password: "{{ q6000_password }}"
      ptz_hostname: "{{ q6000_ptz_hostname }}"
      remote_username: "{{ q6000_remote_username }}"
      remote_password: "{{ q6000_remote_password }}"
  tasks:
    - name: Capture
      vapix.q6000.calibration_capture:
      register: captured

    - name: Calibrate from the captured points
      vapix.q6000.remote_calibration:
        heads: "{{ captured.heads }}"
        recalibrate: always
"""

RETURN = r"""
heads:
  description: Per head, the points captured, as M(vapix.q6000.remote_calibration) takes them.
  returned: success, not in check mode
  type: list
  elements: dict
  sample:
    - camera: 1
      points:
        - {x: 0.46, y: 0.315, pan: 27.1834, tilt: 3.0121, score: 0.985}
failed_heads:
  description: The heads of O(cameras) not captured (in check mode, those without enough targets), each with the reasons.
  returned: when the heads' pictures were taken
  type: list
  elements: dict
  sample: [{camera: 3, reasons: ["camera 3: only 2 target(s) with enough detail in the head's picture: ..."]}]
targets:
  description: In check mode, per head, the pixels that would be captured.
  returned: check mode
  type: list
  elements: dict
  sample: [{camera: 1, pixels: [{x: 0.46, y: 0.315}]}]
refused:
  description: Targets left out, each with its head, pixel and reason.
  returned: always
  type: list
  elements: dict
  sample: [{camera: 1, x: -0.345, y: -0.105, reason: "a repetitive pattern: ..."}]
moves:
  description: PTZ moves made.
  returned: when the PTZ was used
  type: int
snapshots:
  description: PTZ snapshots taken.
  returned: when the PTZ was used
  type: int
moves_per_point:
  description: PTZ moves per point captured.
  returned: success, not in check mode
  type: float
put_back_error:
  description: When the capture failed and putting the PTZ back failed too, why (the task's message is the first failure).
  returned: when both happened
  type: str
ptz:
  description: Where the PTZ rests after it was put back (or where someone else left it).
  returned: when the PTZ was used
  type: dict
  sample: {pan: 0.0, tilt: 0.0, zoom: 1.0}
"""

from ansible_collections.vapix.q6000.plugins.module_utils.vision import capture
from ansible_collections.vapix.q6000.plugins.module_utils._runner import run_module


def main():
    run_module(capture)


if __name__ == "__main__":
    main()
