"""A section's rows as tests/bench/__main__.py prints them, and the figures they are made of."""

from __future__ import annotations

import re

import numpy as np

MESSAGE = 150  # characters of a failure's message that are printed


def stat(values: list[float], percentile: float) -> float:
    return float(np.percentile(values, percentile)) if values else float("nan")


def row(metric: str, unit: str, runs, digits: int = 3) -> dict:
    runs = [float(v) for v in runs] if isinstance(runs, (list, tuple)) else [float(runs)]
    return {"metric": metric, "unit": unit, "digits": digits, "runs": runs or [float("nan")]}


def short(message) -> str:
    """A failure's message on one line, cut to MESSAGE characters."""
    message = re.sub(r"\s+", " ", str(message))
    return message if len(message) <= MESSAGE else message[:MESSAGE - 3] + "..."
