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
      - HTTP authentication scheme, for both devices.
      - V(auto) answers the device's own challenge. Digest whenever the device offers it (MD5 or MD5-sess, with or
        without an C(algorithm) token; a nonce the device declares stale is renewed once). Basic only when it is
        the one scheme the device offers, as an HTTPS-only unit may, and only over HTTPS unless
        O(allow_basic_over_http=true).
      - V(digest) and V(basic) force one scheme. V(basic) sends the password with every request and is refused
        over plain HTTP unless O(allow_basic_over_http=true).
      - A device that refuses the account's role answers 401 or 403; either fails naming the role the CGI needs.
      - If not set, the environment variable E(VAPIX_AUTH) is used.
    type: str
    choices: [auto, digest, basic]
    default: auto
  allow_basic_over_http:
    description:
      - Accept Basic authentication without HTTPS, sending the password in clear (O(auth=basic), or a device that
        offers only Basic with O(auth=auto)). For lab networks only.
    type: bool
    default: false
  use_proxy:
    description:
      - Use the proxy that E(HTTP_PROXY), E(HTTPS_PROXY) or E(ALL_PROXY) name for the camera's address, as
        M(ansible.builtin.uri) does (E(NO_PROXY) applies).
      - V(false) talks to both devices directly whatever the environment says, and changes nothing else (CA
        bundles and the rest of the environment apply as before).
    type: bool
    default: true
  timeout:
    description:
      - Seconds one request may take, from connecting to the last byte of the answer; C(save.cgi) gets three
        times as long, since the device fits the calibration before it answers. A read that is retried (see
        O(retries)) gets this much for each attempt.
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
  ptz_hostname:
    description:
      - Address of the AXIS Q60-E PTZ on the site network, where the host that runs the module reaches it.
        Used by everything that reads or moves the PTZ itself.
      - When not set, the URL the Q6000-E reports for its PTZ (C(remotecameracontrol/getremoteurl.cgi)) is used,
        unless its host is link-local (169.254.0.0/16, fe80::/10), as it is in C(auto) discovery; the task then
        fails before it moves anything, naming this option.
      - Before the PTZ is read or moved, its MAC address is compared with the one the Q6000-E reports for its
        PTZ, so an address of another unit's PTZ is refused.
      - If not set, the environment variable E(VAPIX_PTZ_HOSTNAME) is used.
    type: str
  ptz_port:
    description:
      - TCP port of the PTZ's web server. Defaults to 80, or 443 with HTTPS.
      - If not set, the environment variable E(VAPIX_PTZ_PORT) is used.
    type: int
  ptz_use_https:
    description: Talk HTTPS to the PTZ. Defaults to O(use_https).
    type: bool
  ptz_validate_certs:
    description: Verify the PTZ's TLS certificate. Defaults to O(validate_certs).
    type: bool
  ptz_ca_path:
    description: PEM file of the CA that signed the PTZ's certificate. Defaults to O(ca_path).
    type: path
  remote_username:
    description:
      - Account on the PTZ. It is the account the Q6000-E logs in to its PTZ with (set by
        M(vapix.q6000.remote_camera_params)) and the one the modules use to read and move the PTZ.
      - If not set, the environment variable E(VAPIX_REMOTE_USERNAME) is used.
    type: str
  remote_password:
    description:
      - Password of O(remote_username). Never logged or returned.
      - If not set, the environment variable E(VAPIX_REMOTE_PASSWORD) is used.
    type: str
notes:
  - "The modules talk to the camera over HTTP from the host that runs them (the controller with
    C(connection: local), or the host the task is delegated to); nothing is installed on the camera."
  - Requires the Python libraries C(requests) and C(xmltodict) on that host.
  - No HTTP redirect is followed; it would take the credentials to another address.
  - What the modules assume about each answer of the devices, and where that comes from, is written down in the
    collection's C(docs/device-contract.md).
  - The connection and PTZ options can be set once for all modules with C(module_defaults) and
    C(group/vapix.q6000.vapix).
"""

    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/vapix.q6000.vapix) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - vapix.q6000.vapix
"""

    IMAGES = r"""
options:
  fit_budget:
    description:
      - Degrees a captured point may be from a fit of the head's other points; a point farther away is refused
        and replaced. The device itself refuses a set whose worst point is about half a degree off its fit.
    type: float
    default: 0.5
  resolution:
    description: Resolution of the heads' snapshots, one of the Q6000-E's C(Properties.Image.Resolution).
    type: str
    default: 1920x1080
  ptz_resolution:
    description: Resolution of the PTZ's snapshots, one of the PTZ's C(Properties.Image.Resolution).
    type: str
    default: 1280x720
  ptz_idle:
    description:
      - Seconds the PTZ must stay where it is before the image work's first move (for M(vapix.q6000.remote_calibration),
        with C(drift_method=image) only). A PTZ that moves meanwhile is in use
        (a guard tour, a person following something); the run leaves it alone, and the unit's heads are not
        measured (or not captured), with the reason. C(0) skips the wait.
      - Whatever this says, a PTZ moved by anyone else during the run is left to them from then on; the run moves
        it no more and does not put it back.
    type: float
    default: 3.0
"""
