# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image work: a head's pixels found in the PTZ's pictures, and the tasks built on that.

- matching: image matching between a head and the PTZ; the only importer of numpy and OpenCV, and it
  imports them guarded (HAS_VISION, VISION_IMPORT_ERROR);
- ptz_run: the PTZ run that drives and waits: the PTZ as the image work drives it (Servo, which stops when
  someone else moves it), what its moves teach (Knowledge), centring it on a head pixel, putting it back;
- capture: point-set capture, calibration_capture's logic;
- drift: the image drift check of remote_calibration (drift_method=image) and the recapture of a head it
  finds moved.

The package imports nothing itself, so importing it needs neither numpy nor OpenCV.
"""

from __future__ import annotations
