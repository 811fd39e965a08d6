#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: remote_camera_params
short_description: Configure how an AXIS Q6000-E reaches its AXIS Q60-E PTZ
version_added: 0.1.0
description:
  - Sets the address, discovery mode, ports and account that an AXIS Q6000-E uses to connect to the PTZ it is
    mounted on (VAPIX remote camera control API, C(remotecameracontrol/setvapixparams.cgi)).
  - Idempotent. Reads the current parameters and the link status, and sends only the arguments that differ,
    then reads them back.
  - Options left out keep the device's current value.
  - O(remote_username) and O(remote_password) (the PTZ's account, shared with the other modules) are what the
    Q6000-E logs in to its PTZ with. The password is sent in the body of a POST request, never in a URL, and is
    never returned. It cannot be read back from the device; see O(update_password) for when it is sent.
  - The password goes to the Q6000-E over this module's connection, so it needs O(use_https=true), unless
    O(allow_password_over_http=true).
author:
  - vapix.q6000 maintainers (@vapix)
options:
  remote_host:
    description:
      - Host name, IPv4 or IPv6 address of the PTZ.
      - Setting it implies O(discovery_mode=manual); it cannot be combined with O(discovery_mode=auto).
    type: str
  discovery_mode:
    description:
      - V(auto) lets the Q6000-E discover the PTZ's IPv4 address itself. V(manual) uses O(remote_host).
      - An IPv6 address needs V(manual).
    type: str
    choices: [auto, manual]
  http_port:
    description: HTTP port of the PTZ (1..65535).
    type: int
  https_port:
    description: HTTPS port of the PTZ (1..65535).
    type: int
  rtsp_port:
    description: RTSP port of the PTZ (1..65535).
    type: int
  update_password:
    description:
      - When O(remote_password) is sent, since the device cannot tell whether it is already set.
      - V(on_failure) sends it when O(remote_username) changes or when the link status is 3 (Not authorized),
        which is exactly when the stored password does not open the PTZ. When the run changes the host, the
        ports or the discovery mode, the status of the old link says nothing about the password, so the new
        link is applied first and the password is sent when the PTZ then refuses the stored one (check mode
        reports this as RV(password_update=if_refused)).
      - After the password was sent, the link must not stay at status 3; a device that ignored it fails the run.
      - V(always) sends it on every run and reports a change each time.
      - V(never) does not send it.
    type: str
    choices: [on_failure, always, never]
    default: on_failure
  wait_for_connection:
    description:
      - Wait until the link status is 0 (Connection OK) and fail with the last status, in words, when it does
        not get there within O(wait_timeout).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait_for_connection=true), and at most for the link to stop trying to connect
        before the password is decided on or checked.
    type: float
    default: 60
  allow_password_over_http:
    description:
      - Send O(remote_password) to the Q6000-E over plain HTTP, in clear. For lab networks only; HTTPS
        (O(use_https=true)) is the norm.
    type: bool
    default: false
extends_documentation_fragment:
  - vapix.q6000.vapix
  - vapix.q6000.vapix.action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the parameters before and after, and that the password was updated, never the password.
  platform:
    platforms: AXIS Q6000-E
seealso:
  - module: vapix.q6000.calibration_facts
  - module: vapix.q6000.remote_calibration
"""

EXAMPLES = r"""
- name: Link every Q6000-E of the inventory to its PTZ
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
    - name: Set the PTZ's address and account, and wait for the link
      vapix.q6000.remote_camera_params:
        remote_host: "{{ q6000_remote_host }}"
        http_port: "{{ q6000_remote_http_port }}"
        remote_username: "{{ q6000_remote_username }}"
        remote_password: "{{ q6000_remote_password }}"
        wait_for_connection: true
        wait_timeout: 30

- name: Let the Q6000-E discover its PTZ again, keeping the account
  vapix.q6000.remote_camera_params:
    hostname: 192.0.2.10
    username: root
    password: "{{ vault_q6000_password }}"
    discovery_mode: auto

- name: Resend the PTZ password after it was changed on the PTZ
  vapix.q6000.remote_camera_params:
    hostname: camera-17.example.net
    use_https: true
    username: root
    password: "{{ vault_q6000_password }}"
    remote_username: root
    remote_password: "{{ vault_ptz_password }}"
    update_password: always
"""

RETURN = r"""
params:
  description: The link parameters the device reports after the run (what it would report, in check mode).
  returned: success
  type: dict
  contains:
    mac_address:
      description: MAC address of the PTZ.
      type: str
      sample: ac:cc:8e:08:47:68
    host:
      description: Address the Q6000-E uses to reach the PTZ.
      type: str
      sample: 169.254.0.123
    discovery_mode:
      description: V(auto) or V(manual).
      type: str
      sample: auto
    http_port:
      description: HTTP port of the PTZ.
      type: int
      sample: 80
    https_port:
      description: HTTPS port of the PTZ.
      type: int
      sample: 443
    rtsp_port:
      description: RTSP port of the PTZ.
      type: int
      sample: 554
    username:
      description: Account on the PTZ.
      type: str
      sample: root
status:
  description: The link status, overall and per protocol, as code and words (0 Connection OK, 1 Trying to connect,
    2 No connection, 3 Not authorized).
  returned: success
  type: dict
  sample:
    code: 0
    description: Connection OK
    http: {code: 0, description: Connection OK}
    https: {code: 0, description: Connection OK}
    rtsp: {code: 0, description: Connection OK}
remote_url:
  description: The PTZ's base URL as the device reports it; read only when the link changed.
  returned: success
  type: str
  sample: http://169.254.0.123:80/
changed_keys:
  description: The options that differed from the device and were (or, in check mode, would be) sent.
  returned: success
  type: list
  elements: str
  sample: [remote_host, discovery_mode]
password_update:
  description:
    - What became of O(remote_password) in this run; V(sent), V(not_sent), or (in check mode, when the link
      changes) V(if_refused), sent only if the PTZ refuses the stored password on the new link.
  returned: success
  type: str
  sample: not_sent
"""

from ansible_collections.vapix.q6000.plugins.module_utils import link
from ansible_collections.vapix.q6000.plugins.module_utils._runner import run_module


def main():
    run_module(link)


if __name__ == "__main__":
    main()
