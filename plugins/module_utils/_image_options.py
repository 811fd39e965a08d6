# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the image work (calibration_capture, the image drift check) and their checks.

Kept apart from the image work itself, so that reading them never loads numpy or OpenCV.
"""

from __future__ import annotations

import re

from ansible_collections.vapix.q6000.plugins.module_utils._connection import check_number
from ansible_collections.vapix.q6000.plugins.module_utils.errors import ValidationError

BASELINE_PAIRS = 40  # correspondences a head's baseline keeps, at most
BASELINE_MIN_PAIRS = 3  # and at least: fewer cannot fix a rotation

IMAGE_ARGUMENT_SPEC = dict(
    fit_budget=dict(type="float", default=0.5),
    resolution=dict(type="str", default="1920x1080"),
    ptz_resolution=dict(type="str", default="1280x720"),
    ptz_idle=dict(type="float", default=3.0),
)


def picture_size(name, text):
    """(width, height) of a WIDTHxHEIGHT option."""
    match = re.fullmatch(r"([1-9][0-9]{1,4})x([1-9][0-9]{1,4})", text or "")
    if not match:
        raise ValidationError("%s: %r is not WIDTHxHEIGHT (for instance 1920x1080)" % (name, text))
    return int(match.group(1)), int(match.group(2))


def check_image_options(params):
    check_number("fit_budget", params["fit_budget"], 0.02, 5.0)
    picture_size("resolution", params["resolution"])
    picture_size("ptz_resolution", params["ptz_resolution"])
    check_number("ptz_idle", params["ptz_idle"], 0.0, 60.0)


def streamed_resolutions(client, channel):
    """The resolutions a device lists for a video channel (0 for the PTZ, camera - 1 for a head), or None.

    Single-channel firmware lists them in `Properties.Image.Resolution`; multi-channel units list them per channel,
    `Properties.Image.I<n>.Resolution`, and may have no common list at all.
    """
    return _listed(client.param_list("Properties.Image")[0], channel)


def _listed(values, channel):
    text = values.get("Properties.Image.I%d.Resolution" % channel, values.get("Properties.Image.Resolution"))
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def check_streamed(client, name, text, channels):
    """Refuse, before any snapshot, a resolution the device does not stream on one of `channels`."""
    values, _missing = client.param_list("Properties.Image")
    for channel in channels:
        listed = _listed(values, channel)
        if listed is not None and text not in listed:
            raise ValidationError("%s: %s does not stream %s on channel %d; it lists %s"
                                  % (name, client.host, text, channel, ", ".join(listed) or "nothing"))
