"""Site inventories on the twin: what a site's repository looks like once its points were measured.

Points come from the twin's ground truth, as an operator aiming the PTZ at each target would measure them
(playbooks/capture_calibration.yml does the same against a real device, one head at a time).
"""

from __future__ import annotations

from pathlib import Path

import yaml

PIXELS = ((-0.7, 0.55), (0.65, 0.5), (0.6, -0.6), (-0.55, -0.5), (0.05, 0.1))
# A twin fleet without --tls speaks plain HTTP, where the PTZ's password may only go to the Q6000-E when the
# site says so; a site on real devices uses HTTPS instead.
LAB_HTTP = "# The twin speaks plain HTTP: a lab, where the PTZ's password may go in clear.\n" \
           "q6000_remote_allow_password_over_http: true\n"


def truth_points(twin, host, camera, pixels=PIXELS):
    """One point per pixel: the PTZ's true pan/tilt for that pixel of the head."""
    points = []
    for x, y in pixels:
        pan, tilt = twin.truth(host, camera, x, y)
        points.append({"x": x, "y": y, "pan": round(pan, 4), "tilt": round(tilt, 4)})
    return points


def write_site(twin, directory: Path, hosts, cameras=(1, 2, 3, 4)) -> Path:
    """The twin's inventory in `directory`, with host_vars holding each given unit's point sets.

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
        heads = [{"camera": camera, "points": truth_points(twin, host, camera)} for camera in cameras]
        (host_vars / ("%s.yml" % host)).write_text(yaml.safe_dump({"q6000_calibration_heads": heads}, sort_keys=False))
    return inventory
