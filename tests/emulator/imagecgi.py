"""`/axis-cgi/jpg/image.cgi` on both devices: a JPEG snapshot (viewer role).

On the Q6000-E `camera=1..4` picks a head and `camera=quad` the four in one picture; on the PTZ the
only source is 1, what it sees where it is at that moment (also while it moves). `resolution` must be
one of the device's `Properties.Image.Resolution`; `compression` is 0..100 (higher: smaller, worse;
JPEG quality 100 - compression, at least 5). Errors answer 200 text/plain `Error: ...` as `ptz.cgi`
does (inferred). Rendering runs in a worker thread, so a snapshot never stalls the rest of the fleet.
With `snapshot_size` set, the picture rendered at the resolution asked for is scaled to that size
(the same view, another size), as a unit that answers at a size of its own. The moment a picture shows
is taken when the request arrives (minus `frame_latency`: `site.scene_time`, `site.ptz_frame`).
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from .device import Endpoint, snapshot_size
from .optics import NBR_OF_HEADS
from .params import RESOLUTIONS
from .ptzcgi import error
from .site import ptz_frame, scene_time
from .views import RENDERERS

ARGUMENTS = {"camera", "resolution", "compression"}
DEFAULT_COMPRESSION = 30


class ImageError(Exception):
    pass


def _request(endpoint: Endpoint, args: dict[str, str]) -> tuple[int | None, int, int, int]:
    """(camera (None: quad), width, height, JPEG quality), or ImageError naming the argument."""
    unknown = sorted(set(args) - ARGUMENTS)
    if unknown:
        raise ImageError(f"{unknown[0]}: unknown argument")
    text = args.get("camera", "1").strip()
    if endpoint.kind == "q6000" and text.lower() == "quad":
        camera = None
    elif re.fullmatch(r"[0-9]{1,3}", text) and 1 <= int(text) <= (NBR_OF_HEADS if endpoint.kind == "q6000" else 1):
        camera = int(text)
    else:
        raise ImageError(f"camera: invalid value: {text}")
    resolution = args.get("resolution", RESOLUTIONS[0]).strip().lower()
    if resolution not in RESOLUTIONS:
        raise ImageError(f"resolution: invalid value: {resolution} (supported: {','.join(RESOLUTIONS)})")
    width, height = (int(v) for v in resolution.split("x"))
    compression = args.get("compression", str(DEFAULT_COMPRESSION)).strip()
    if not re.fullmatch(r"[0-9]{1,3}", compression) or int(compression) > 100:
        raise ImageError(f"compression: invalid value: {compression}")
    return camera, width, height, max(5, 100 - int(compression))


async def on_image(endpoint: Endpoint, args: dict[str, str]) -> web.Response:
    try:
        camera, width, height, quality = _request(endpoint, args)
    except ImageError as exc:
        return error(str(exc), endpoint.unit.settings.error_space)
    unit = endpoint.unit
    size = snapshot_size(unit.settings)
    loop = asyncio.get_running_loop()
    if endpoint.kind == "q6000":
        data = await loop.run_in_executor(RENDERERS, unit.world.head_snapshot, camera, width, height, quality,
                                          size, scene_time(unit.settings))
    else:
        unit.operator_picture()
        pan, tilt, zoom, frame = ptz_frame(unit.motion, unit.settings)
        data = await loop.run_in_executor(RENDERERS, unit.world.ptz_snapshot, pan, tilt, zoom,
                                          width, height, quality, size, frame)
    return web.Response(body=data, content_type="image/jpeg")
