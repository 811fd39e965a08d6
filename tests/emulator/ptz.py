"""Mechanics of the AXIS Q60-E: limits, clamping and motion at a finite speed.

A real PTZ takes time to get where it is sent; a client that reads the position right after a
move sees it on the way. The model moves pan and tilt together in a straight line at
`speed` degrees per second along the larger of the two; zoom changes at once. With a start
`delay` the motor only starts that many seconds after each move command: until then the PTZ
stays where it was and is not moving, so a client that polls "until the position stops
changing" can stop before it started.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from .optics import wrap180


@dataclass(frozen=True)
class Limits:
    min_pan: float = -180.0
    max_pan: float = 180.0
    min_tilt: float = -90.0
    max_tilt: float = 20.0
    min_zoom: int = 1
    max_zoom: int = 9999
    min_field_angle: int = 22
    max_field_angle: int = 623
    zoom_exponent: float = 1.6

    def clamp_pan(self, pan: float) -> float:
        return min(self.max_pan, max(self.min_pan, pan))

    def clamp_tilt(self, tilt: float) -> float:
        return min(self.max_tilt, max(self.min_tilt, tilt))

    def clamp_zoom(self, zoom: float) -> int:
        return int(round(min(self.max_zoom, max(self.min_zoom, zoom))))

    @property
    def max_magnification(self) -> float:
        """Focal length at the tele end over the wide end (about 31.5 for 62.3 to 2.2 degrees)."""
        return (math.tan(math.radians(self.max_field_angle / 20.0))
                / math.tan(math.radians(self.min_field_angle / 20.0)))

    def magnification(self, zoom: float) -> float:
        """Focal length at a zoom step over the wide end's: 1 + (M - 1) s^zoom_exponent, s = zoom step
        from 0 (MinZoom) to 1 (MaxZoom). Non-linear: the first half of the range gives a third of M."""
        s = (min(self.max_zoom, max(self.min_zoom, zoom)) - self.min_zoom) / (self.max_zoom - self.min_zoom)
        return 1.0 + (self.max_magnification - 1.0) * s ** self.zoom_exponent

    def field_angle(self, zoom: float) -> float:
        """Horizontal field of view (degrees) at a zoom step: MaxFieldAngle at MinZoom, MinFieldAngle at
        MaxZoom."""
        wide = math.tan(math.radians(self.max_field_angle / 20.0))
        return 2.0 * math.degrees(math.atan(wide / self.magnification(zoom)))

    def zoom_for(self, magnification: float) -> int:
        """The zoom step of a magnification (clamped to the range)."""
        m = min(self.max_magnification, max(1.0, magnification))
        s = ((m - 1.0) / (self.max_magnification - 1.0)) ** (1.0 / self.zoom_exponent)
        return self.clamp_zoom(self.min_zoom + s * (self.max_zoom - self.min_zoom))


LIMITS = Limits()


class Motion:
    """Where the PTZ is, where it goes, and when it gets there."""

    def __init__(self, speed: Callable[[], float], limits: Limits = LIMITS,
                 clock: Callable[[], float] = time.monotonic, *, delay: Callable[[], float] = lambda: 0.0,
                 start_zoom: Callable[[], int] | None = None) -> None:
        self._speed = speed
        self._delay = delay
        self._start_zoom = start_zoom or (lambda: limits.min_zoom)
        self._clock = clock
        self.limits = limits
        self._start = (0.0, 0.0)
        self._target = (0.0, 0.0)
        self._t0 = clock()
        self._duration = 0.0
        self._moves: deque = deque([(-math.inf, self._start, self._target, self._t0, 0.0)], maxlen=64)
        self._zooms: deque = deque(maxlen=64)
        self.zoom = self._start_zoom()

    def position(self) -> tuple[float, float]:
        return self.position_at(self._clock())

    @property
    def target(self) -> tuple[float, float]:
        return self._target

    @property
    def moving(self) -> bool:
        elapsed = self._clock() - self._t0
        return self._duration > 0.0 and 0.0 <= elapsed < self._duration

    def move_to(self, pan: float, tilt: float) -> None:
        """Start a move to an already clamped target, the short way round in pan, after the start delay."""
        now = self._clock()
        here = self.position_at(now)
        target = (self.limits.clamp_pan(pan), self.limits.clamp_tilt(tilt))
        distance = max(abs(wrap180(target[0] - here[0])), abs(target[1] - here[1]))
        speed = self._speed()
        self._start, self._target, self._t0 = here, target, now + self._delay()
        self._duration = distance / speed if speed > 0 else 0.0
        self._remember(now)

    def stop(self) -> None:
        here = self.position()
        self._start = self._target = here
        self._duration = 0.0
        self._remember()

    def reset(self) -> None:
        """At home at once, as after a power cycle (zoom at the start zoom)."""
        self._start = self._target = (0.0, 0.0)
        self._duration = 0.0
        self._remember()
        self.zoom = self._start_zoom()

    def home(self) -> None:
        self.move_to(0.0, 0.0)
        self.zoom = self.limits.min_zoom

    # -- the past (frame latency: a snapshot shows the PTZ where it was) ---------------------------

    def _remember(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        self._moves.append((now, self._start, self._target, self._t0, self._duration))

    @property
    def zoom(self) -> int:
        return self._zoom

    @zoom.setter
    def zoom(self, value: int) -> None:
        if not self._zooms:
            self._zooms.append((-math.inf, value, value))
        elif self._zooms[-1][1] != value:  # each change keeps the zoom before it (for a `when` before them all)
            self._zooms.append((self._clock(), value, self._zooms[-1][1]))
        self._zoom = value

    def position_at(self, when: float) -> tuple[float, float]:
        """Where the PTZ was (or is) at clock time `when` (the last 64 commands are remembered; before the
        oldest of them: where that one started from)."""
        moves = [m for m in self._moves if m[0] <= when] or [self._moves[0]]
        _t, start, target, t0, duration = moves[-1]
        elapsed = when - t0
        if elapsed < 0.0:
            return start
        if duration <= 0.0 or elapsed >= duration:
            return target
        frac = elapsed / duration
        return wrap180(start[0] + wrap180(target[0] - start[0]) * frac), start[1] + (target[1] - start[1]) * frac

    def zoom_at(self, when: float) -> int:
        """The zoom at clock time `when` (the last 64 changes are remembered, each with the zoom before it)."""
        before = [z for t, z, _previous in self._zooms if t <= when]
        return before[-1] if before else self._zooms[0][2]

    def zoom_changed_at(self, when: float) -> float:
        """Clock time of the last zoom change at or before `when` (-inf: none remembered)."""
        return ([t for t, _z, _previous in self._zooms if t <= when] or [-math.inf])[-1]
