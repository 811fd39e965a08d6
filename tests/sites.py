"""Site inventories on the twin: what a site's repository looks like once its points were measured.

Points come from the twin's ground truth, as an operator aiming the PTZ at each target would measure them
(playbooks/capture_calibration.yml does the same against a real device, one head at a time). The truth
includes parallax (the PTZ sits below the heads), so an operator following Axis' advice picks distinct,
distant targets: by default each head's points are pixels that see content at least FAR metres away.
"""

from __future__ import annotations

from pathlib import Path

import yaml

FAR = 150.0  # metres: the parallax of the PTZ's 0.25 m drop stays under 0.1 degree there
CONTENT = 30.0  # metres: content as far as this is found again by the image drift check, with half a degree of parallax
CANDIDATES = tuple((x / 10.0, y / 20.0) for y in range(16, -5, -2) for x in range(-8, 9, 2))
# A twin fleet without --tls speaks plain HTTP, where the PTZ's password may only go to the Q6000-E when the
# site says so; a site on real devices uses HTTPS instead.
LAB_HTTP = "# The twin speaks plain HTTP: a lab, where the PTZ's password may go in clear.\n" \
           "q6000_remote_allow_password_over_http: true\n"


def far_pixels(truths, count=5, far=FAR):
    """`count` well-spread pixels among those of `truths` (twin.truths answers) that see `far` metres or
    farther (or the sky): the first nearest the top-left corner, then each the farthest from those chosen."""
    far = [(p["x"], p["y"]) for p in truths if p["depth"] is None or p["depth"] >= far]
    assert len(far) >= count, "only %d pixels see %g m or farther" % (len(far), far)
    chosen = [min(far, key=lambda p: (p[0] + 1.0) ** 2 + (p[1] - 1.0) ** 2)]
    while len(chosen) < count:
        chosen.append(max(far, key=lambda p: min((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 for q in chosen)))
    if count >= 3 and _on_one_line(chosen):
        # Where only a row of pixels sees far (the horizon), a set on one line would not solve the head: the
        # last point becomes the deepest pixel off that line.
        off = [p for p in truths if not _on_one_line(chosen[:-1] + [(p["x"], p["y"])])]
        assert off, "every pixel of the head lies on one line"
        deepest = max(off, key=lambda p: float("inf") if p["depth"] is None else p["depth"])
        chosen[-1] = (deepest["x"], deepest["y"])
    return chosen


def _on_one_line(pixels):
    x0, y0 = pixels[0]
    return all(abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) < 1e-9
               for x1, y1 in pixels[1:] for x2, y2 in pixels[1:])


def check_pixels(twin, host, camera, count=3):
    """Far pixels of a head that are not among truth_points' default five: where a calibration from those
    points must steer the PTZ to the truth (within a tenth of a degree: the parallax left there is under
    0.1 degree)."""
    return far_pixels(twin.truths(host, camera, CANDIDATES), 5 + count)[5:]


def truth_points(twin, host, camera, pixels=None, content=False):
    """One point per pixel (default: five far_pixels of the head): the PTZ's true pan/tilt for it. With `content`,
    the pixels see something CONTENT metres or farther, not the sky, which the image drift check cannot find again
    (the sky fills in where too few do)."""
    if pixels is None:
        truths = twin.truths(host, camera, CANDIDATES)
        by_pixel = {(p["x"], p["y"]): p for p in truths}
        if content:
            seen = [p for p in truths if p["depth"] is not None and p["depth"] >= CONTENT]
            picked = far_pixels(seen if len(seen) >= 5 else truths, far=CONTENT)
        else:
            picked = far_pixels(truths)
        answers = [by_pixel[pixel] for pixel in picked]
    else:
        answers = twin.truths(host, camera, pixels)
    return [{"x": p["x"], "y": p["y"], "pan": round(p["pan"], 4), "tilt": round(p["tilt"], 4)} for p in answers]


def write_site(twin, directory: Path, hosts, cameras=(1, 2, 3, 4), content=False) -> Path:
    """The twin's inventory in `directory`, with host_vars holding each given unit's point sets (`content`: see
    truth_points).

    Over plain HTTP (a twin without TLS) group_vars/q6000/lab.yml allows the PTZ's password in clear.
    """
    directory.mkdir(parents=True, exist_ok=True)
    inventory = directory / "inventory.yml"
    inventory.write_text(twin.inventory_path.read_text())
    if not twin.tls:
        group_vars = directory / "group_vars" / "q6000"
        group_vars.mkdir(parents=True, exist_ok=True)
        (group_vars / "lab.yml").write_text("---\n" + LAB_HTTP)
    host_vars = directory / "host_vars"
    host_vars.mkdir(exist_ok=True)
    for host in hosts:
        heads = [{"camera": camera, "points": truth_points(twin, host, camera, content=content)} for camera in cameras]
        (host_vars / ("%s.yml" % host)).write_text(yaml.safe_dump({"q6000_calibration_heads": heads}, sort_keys=False))
    return inventory
