#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: calibration_facts
short_description: What an AXIS Q6000-E says about itself, its PTZ link and its calibration
version_added: 0.1.0
description:
  - Reads identity and API support (C(param.cgi)), schema versions, the link to the PTZ
    (C(remotecameracontrol/*)) and the calibration state of each head (C(ptremotecalibration/iscalibrated.cgi),
    C(getinformation.cgi)) and returns them as the fact C(q6000).
  - Reads only; asks the device only what the chosen subsets need.
author:
  - vapix.q6000 maintainers (@vapix)
options:
  gather_subset:
    description:
      - Which facts to read. V(device) (one C(param.cgi) request plus one C(schemaversions.cgi) per API present),
        V(connection) (parameters, status and URL of the link; needs the administrator role),
        V(calibration) (calibrated heads and the ongoing session), V(ptz) (where the PTZ looks, read from the
        PTZ itself once it is at rest; needs O(remote_username) and O(remote_password)).
      - V(all) is V(device), V(connection) and V(calibration).
      - A name prefixed with C(!) is left out, as with M(ansible.builtin.setup).
    type: list
    elements: str
    default: [all]

extends_documentation_fragment:
  - vapix.q6000.vapix
  - vapix.q6000.vapix.action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: AXIS Q6000-E
seealso:
  - module: vapix.q6000.remote_camera_params
  - module: vapix.q6000.remote_calibration
"""

EXAMPLES = r"""
- name: Facts of every Q6000-E of the inventory
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
    - name: Read what each device says about itself
      vapix.q6000.calibration_facts:

    - name: Show the uncalibrated heads
      vars:
        uncalibrated: "{{ ansible_facts.q6000.calibrated | rejectattr('calibrated') | map(attribute='camera') | list }}"
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }}: heads {{ uncalibrated }} are not calibrated"

- name: Only the calibration state
  vapix.q6000.calibration_facts:
    hostname: 192.0.2.10
    username: root
    password: "{{ vault_q6000_password }}"
    gather_subset: [calibration]

- name: Where the PTZ looks now (after an operator aimed it)
  vapix.q6000.calibration_facts:
    hostname: 192.0.2.10
    username: root
    password: "{{ vault_q6000_password }}"
    gather_subset: [ptz]
    remote_username: root
    remote_password: "{{ vault_ptz_password }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to the host's facts.
  returned: always
  type: dict
  contains:
    q6000:
      description: What the device says about itself; keys present depend on O(gather_subset).
      returned: always
      type: dict
      contains:
        gathered_subsets:
          description: The subsets read.
          type: list
          elements: str
          sample: [device, connection, calibration]
        brand:
          description: C(Brand.Brand).
          type: str
          returned: with the device subset
          sample: AXIS
        model:
          description: C(Brand.ProdNbr).
          type: str
          returned: with the device subset
          sample: Q6000-E
        product_name:
          description: C(Brand.ProdFullName).
          type: str
          returned: with the device subset
        firmware:
          description: C(Properties.Firmware.Version).
          type: str
          returned: with the device subset
          sample: 6.50.1
        mac_address:
          description: C(Network.eth0.MACAddress) of the Q6000-E.
          type: str
          returned: with the device subset
        heads:
          description: Number of camera heads (C(ImageSource.NbrOfSources)).
          type: int
          returned: with the device subset
          sample: 4
        apis:
          description: Whether the remote camera control and the PT remote calibration APIs are present.
          type: dict
          returned: with the device subset
          sample: {remote_camera_control: true, pt_remote_calibration: true}
        schema_versions:
          description: Schema versions of each API present, with their deprecation flag.
          type: dict
          returned: with the device subset
          sample: {remote_camera_control: [{version: "1.0", deprecated: false}]}
        link:
          description: The link parameters, as returned by M(vapix.q6000.remote_camera_params) in RV(ignore:params).
          type: dict
          returned: with the connection subset
        link_status:
          description: The link status, overall and per protocol, as code and words.
          type: dict
          returned: with the connection subset
        remote_url:
          description: The PTZ's base URL as the device reports it.
          type: str
          returned: with the connection subset
          sample: http://169.254.0.123:80/
        calibrated:
          description: Per head, whether it is calibrated.
          type: list
          elements: dict
          returned: with the calibration subset
          sample: [{camera: 1, calibrated: true}, {camera: 2, calibrated: false}]
        calibrated_heads:
          description: The numbers of the calibrated heads.
          type: list
          elements: int
          returned: with the calibration subset
          sample: [1]
        session:
          description: The ongoing calibration session (camera and selected target), or null when there is none.
          type: dict
          returned: with the calibration subset
          sample: {camera: 2, current_target: {x: 0.75, y: 0.25}}
        ptz_position:
          description: Pan and tilt (degrees) and zoom of the PTZ, once it is at rest.
          type: dict
          returned: with the ptz subset
          sample: {pan: 51.2891, tilt: -16.1914, zoom: 1.0}
"""

from ansible_collections.vapix.q6000.plugins.module_utils import facts
from ansible_collections.vapix.q6000.plugins.module_utils._runner import run_module


def main():
    run_module(facts)


if __name__ == "__main__":
    main()
