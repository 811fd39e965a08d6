# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options and attributes shared by every module of vapix.q6000, documented once."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Address of the AXIS Q6000-E (host name, IPv4 or IPv6 address, without a scheme or port).
      - If not set, the environment variable E(VAPIX_HOSTNAME) is used.
      - Usually set once for all modules through C(module_defaults) with C(group/vapix.q6000.vapix).
    type: str
    required: true
  port:
    description:
      - TCP port of the Q6000-E's web server. Defaults to 80, or 443 with O(use_https=true).
      - If not set, the environment variable E(VAPIX_PORT) is used.
    type: int
  use_https:
    description:
      - Talk HTTPS to the Q6000-E.
      - If not set, the environment variable E(VAPIX_USE_HTTPS) is used.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the device's TLS certificate. Only set to V(false) on a network you control.
      - If not set, the environment variable E(VAPIX_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the device's certificate, when it is not in the system's store.
      - If not set, the environment variable E(VAPIX_CA_PATH) is used.
    type: path
  username:
    description:
      - Account on the Q6000-E. Configuration needs the administrator role; some reads only need viewer.
      - If not set, the environment variable E(VAPIX_USERNAME) is used.
    type: str
    required: true
  password:
    description:
      - Password of O(username). Never logged or returned.
      - If not set, the environment variable E(VAPIX_PASSWORD) is used.
    type: str
    required: true
  auth:
    description:
      - HTTP authentication scheme. V(digest) is what Axis devices use over plain HTTP.
      - V(basic) sends the password with every request and is refused over plain HTTP unless
        O(allow_basic_over_http=true).
      - If not set, the environment variable E(VAPIX_AUTH) is used.
    type: str
    choices: [digest, basic]
    default: digest
  allow_basic_over_http:
    description:
      - Accept O(auth=basic) without O(use_https), sending the password in clear. For lab networks only.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the device to connect and to answer each request.
      - If not set, the environment variable E(VAPIX_TIMEOUT) is used.
    type: float
    default: 10
  retries:
    description:
      - How many times a read is retried after a connection error, a timeout or HTTP 503, with a growing pause.
      - Requests that change the device are never retried, since the device may have acted on a request
        whose answer was lost.
    type: int
    default: 2
notes:
  - "The modules talk to the camera over HTTP from the host that runs them (the controller with
    C(connection: local), or the host the task is delegated to); nothing is installed on the camera."
  - Requires the Python libraries C(requests) and C(xmltodict) on that host.
"""

    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/vapix.q6000.vapix) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - vapix.q6000.vapix
"""
