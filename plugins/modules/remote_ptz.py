#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: remote_ptz
short_description: Aim the AXIS Q60-E PTZ behind an AXIS Q6000-E and report where it rests
version_added: 0.2.0
description:
  - Sends the PTZ to an absolute pan, tilt and zoom (C(com/ptz.cgi) on the PTZ itself), waits until it is at rest
    and returns its position.
  - The PTZ is reached at O(ptz_hostname) (see there for the fallback), with the PTZ's account, after its MAC
    address was checked against the PTZ the Q6000-E is linked to; so O(hostname) and its account are needed too.
  - Targets beyond the PTZ's limits (C(PTZ.Limit.L1.*)) are refused before anything moves; the PTZ would clamp
    them and never get there.
  - Reports a change only when the PTZ was not already there (within 0.05 degree and one zoom step), and fails
    when the PTZ comes to rest anywhere else than where it was sent.
author:
  - vapix.q6000 maintainers (@vapix)
options:
  pan:
    description: Pan in degrees (wraps at +-180). Left out, the pan stays.
    type: float
  tilt:
    description: Tilt in degrees (negative is down). Left out, the tilt stays.
    type: float
  zoom:
    description: Zoom step, 1 (wide) to 9999 (tele). Left out, the zoom stays.
    type: int
extends_documentation_fragment:
  - vapix.q6000.vapix
  - vapix.q6000.vapix.action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode reads where the PTZ is and moves nothing.
  diff_mode:
    support: full
    details: The diff shows the position before and after.
  platform:
    platforms: AXIS Q6000-E, AXIS Q60-E
seealso:
  - module: vapix.q6000.calibration_facts
  - module: vapix.q6000.remote_calibration
"""

EXAMPLES = r"""
- name: Aim each unit's PTZ at a calibration target
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
    - name: Look at the gate
      vapix.q6000.remote_ptz:
        pan: 61.2
        tilt: -2.4
        zoom: 1
      register: aimed
"""

RETURN = r"""
position:
  description: Where the PTZ rests after the run (where it would go, in check mode).
  returned: success
  type: dict
  sample: {pan: 61.2, tilt: -2.4, zoom: 1.0}
before:
  description: Where the PTZ was, at rest, before the run.
  returned: success
  type: dict
  sample: {pan: 0.0, tilt: 0.0, zoom: 1.0}
"""

from ansible_collections.vapix.q6000.plugins.module_utils import remote_ptz
from ansible_collections.vapix.q6000.plugins.module_utils._runner import run_module


def main():
    run_module(remote_ptz)


if __name__ == "__main__":
    main()
