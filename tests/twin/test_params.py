"""param.cgi on both devices: groups, wildcards, the root. prefix, errors, public Properties."""

from __future__ import annotations

import pytest

from tests.twin.helpers import PARAM, lines


def listing(device, group=None, endpoint="q6000", method="GET", account="root"):
    args = {"action": "list"}
    if group is not None:
        args["group"] = group
    response = device.call(PARAM, args, endpoint=endpoint, method=method, account=account)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_q6000_identity(device, method):
    values = lines(listing(device, "Brand,Properties,ImageSource,Network", method=method))
    assert values["root.Brand.Brand"] == "AXIS"
    assert values["root.Brand.ProdNbr"] == "Q6000-E"
    assert values["root.Properties.API.HTTP.Version"] == "3"
    assert values["root.Properties.RemoteCameraControl.VAPIX"] == "yes"
    assert values["root.Properties.PTRemoteCalibration.PTRemoteCalibration"] == "yes"
    assert values["root.Properties.Firmware.Version"] == "6.50.1"
    assert values["root.ImageSource.NbrOfSources"] == "4"
    mac = values["root.Network.eth0.MACAddress"]
    assert mac == mac.upper() and mac.startswith("AC:CC:8E:") and len(mac) == 17


def test_image_resolutions(device):
    text = listing(device, "Image.*.Appearance.Resolution")
    assert text == "".join(f"root.Image.I{i}.Appearance.Resolution=1920x1080\n" for i in range(4))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_ptz_limits(device, method):
    values = lines(listing(device, "root.PTZ.Limit.L1", endpoint="ptz", method=method))
    assert values == {"root.PTZ.Limit.L1.MinPan": "-180", "root.PTZ.Limit.L1.MaxPan": "180",
                      "root.PTZ.Limit.L1.MinTilt": "-90", "root.PTZ.Limit.L1.MaxTilt": "20",
                      "root.PTZ.Limit.L1.MinZoom": "1", "root.PTZ.Limit.L1.MaxZoom": "9999"}
    brand = lines(listing(device, "Brand.ProdNbr", endpoint="ptz"))
    assert brand == {"root.Brand.ProdNbr": "Q60-E"}


def test_root_prefix_is_optional(device):
    assert listing(device, "root.Brand.ProdNbr") == listing(device, "Brand.ProdNbr") == "root.Brand.ProdNbr=Q6000-E\n"


def test_wildcards(device):
    values = lines(listing(device, "Properties.*.VAPIX"))
    assert values == {"root.Properties.RemoteCameraControl.VAPIX": "yes"}
    assert "root.Brand.ProdNbr=Q6000-E" in listing(device, "Br*")


def test_unknown_group(device):
    text = listing(device, "Brand.ProdNbr,Nope.Thing")
    assert text == "root.Brand.ProdNbr=Q6000-E\n# Error: Error -1 getting param in group 'Nope.Thing'\n"


def test_no_group_lists_everything(device):
    values = lines(listing(device))
    assert "root.ImageSource.NbrOfSources" in values and "root.Brand.ProdNbr" in values


def test_properties_are_public(device):
    text = listing(device, "Properties.API.HTTP.Version", account=None)
    assert text == "root.Properties.API.HTTP.Version=3\n"
    assert device.call(PARAM, {"action": "list", "group": "Brand"}, account=None).status_code == 401
    ptz = listing(device, "root.Properties.API", endpoint="ptz", account=None)
    assert ptz == "root.Properties.API.HTTP.Version=3\n"


@pytest.mark.parametrize("args", [{"action": "update", "group": "Brand"}, {"group": "Brand"},
                                  {"action": "list", "foo": "1"}])
def test_bad_requests(device, args):
    response = device.call(PARAM, args)
    assert response.status_code == 200
    assert response.text.startswith("# Error: ")
