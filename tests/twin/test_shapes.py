"""The twin's XML answers against the seed's example bodies: same root, attributes and element tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import xmltodict

from tests.twin.helpers import CAL, GOOD_POINTS, REMOTE, calibrate

HERE = Path(__file__).parent


def examples() -> list[tuple[str, str]]:
    found, label = [], None
    for line in (HERE / "seed_examples.txt").read_text().splitlines():
        if line.startswith("### "):
            label = line[4:]
        elif label and line.strip():
            found.append((label, line))
            label = None
    return found


EXAMPLES = examples()


def parse(body: str) -> dict:
    return xmltodict.parse(body[body.index("<?xml"):])


def shape(node):
    """Element names and attribute names, without text; repeated elements by their first."""
    if isinstance(node, list):
        return shape(node[0])
    if isinstance(node, dict):
        return {k: (None if k.startswith("@") else shape(v)) for k, v in node.items() if k != "#text"}
    return None


def normalized(body: str) -> str:
    body = body[body.index("<?xml"):]
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", body)).strip()


def twin_answer(device, label: str) -> str:
    api, what = label.split()
    base = REMOTE if api == "remote" else CAL

    def get(cgi, args=None):
        return device.call(base + cgi, args).text

    if what == "GeneralError":
        return get("getvapixparams.cgi" if api == "remote" else "abort.cgi",
                   {"schemaversion": "2"} if api == "remote" else None)
    if what == "GeneralSuccess":
        return get("setvapixparams.cgi") if api == "remote" else get("start.cgi")
    if what in ("selecttarget", "getinformation"):
        calibrate(device, 1, GOOD_POINTS[:1], save=False)
        body = get("selecttarget.cgi", {"x": "0.25", "y": "0.25"})
        return body if what == "selecttarget" else get("getinformation.cgi")
    if what == "iscalibrated":
        assert calibrate(device, 2) is None
    return get(f"{what}.cgi")


def test_every_example_of_the_seed_is_read():
    assert len(EXAMPLES) == 16
    assert all('<?xml version="1.0" encoding="utf-8"' in body for _label, body in EXAMPLES)


IDS = [f"{i}-{label}" for i, (label, _body) in enumerate(EXAMPLES)]


@pytest.mark.parametrize("label,body", EXAMPLES, ids=IDS)
def test_same_shape_as_seed(device, label, body):
    seed = parse(body)
    ours = parse(twin_answer(device, label))
    assert shape(ours) == shape(seed)
    (root, attrs), = seed.items()
    (our_root, our_attrs), = ours.items()
    for name in ("@SchemaVersion", "@xmlns:xsi", "@xsi:noNamespaceSchemaLocation"):
        assert our_attrs[name] == attrs[name]


def test_concrete_examples_verbatim(device):
    """Examples without placeholders come back byte for byte (up to the seed's indentation)."""
    device.connect()
    bodies = {label: body for label, body in EXAMPLES if "[" not in body}
    assert normalized(device.call(REMOTE + "getvapixstatus.cgi", {"schemaversion": "1"}).text) == \
        normalized(bodies["remote getvapixstatus"])
    assert normalized(device.call(REMOTE + "setvapixparams.cgi", {"schemaversion": "1"}).text) == \
        normalized(bodies["remote setvapixparams"])


def test_error_element_variant_keeps_the_shape(device, twin):
    twin.settings(device.host, error_element="ErrorDescription")
    error = parse(device.call(CAL + "abort.cgi").text)["PTRemoteCalibrationResponse"]["GeneralError"]
    assert list(error) == ["ErrorCode", "ErrorDescription"]
    assert error["ErrorCode"] == "54"
