# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side execution of vapix.q6000.calibration_capture (see plugin_utils/controller.py)."""

from __future__ import annotations

from ansible_collections.vapix.q6000.plugins.module_utils.vision import capture
from ansible_collections.vapix.q6000.plugins.plugin_utils.controller import VapixAction


class ActionModule(VapixAction):
    LOGIC = capture
