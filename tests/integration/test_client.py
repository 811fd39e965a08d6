# -*- coding: utf-8 -*-
"""The VAPIX client against the twin over real HTTP: encoding, IPv6, error elements, retries, warnings."""

from __future__ import annotations

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils._api_data import (
    PT_REMOTE_CALIBRATION,
    REMOTE_CAMERA_CONTROL,
)
from ansible_collections.vapix.q6000.plugins.module_utils.errors import DeviceError, TransportError, VapixError
from ansible_collections.vapix.q6000.plugins.module_utils.vapix import VapixClient
from tests.emulator.process import Twin


@pytest.fixture(scope="module")
def fleet(workdir):
    with Twin(units=6, workdir=workdir / "client-twin") as twin:
        twin.unused = iter(sorted(twin.hosts))
        yield twin


def client_for(twin, host, **options):
    hostvars = twin.hosts[host]
    return VapixClient(hostvars["ansible_host"], port=hostvars["q6000_port"], username=hostvars["q6000_username"],
                       password=hostvars["q6000_password"], **options)


@pytest.mark.parametrize("element", ["Description", "ErrorDescription"])
def test_either_error_element_gives_the_code_and_the_text(fleet, element):
    host = sorted(fleet.hosts)[0]
    fleet.settings(host, error_element=element)
    with client_for(fleet, host) as client, pytest.raises(DeviceError) as info:
        client.call(PT_REMOTE_CALIBRATION, "abort")
    assert info.value.code == 54
    assert info.value.description
    assert "error 54 (%s)" % info.value.description in str(info.value)


def test_arguments_that_need_encoding_are_signed_as_sent(fleet):
    """A Digest-signed URI that differs from the one sent is a 401; an unknown group is the device's answer,
    and the groups it has are still listed."""
    host = sorted(fleet.hosts)[1]
    with client_for(fleet, host) as client:
        values, missing = client.param_list("Brand", "Ünï code & x=1#frag+?")
        assert values["Brand.ProdNbr"] == "Q6000-E"
        assert len(missing) == 1 and "Ünï code & x=1#frag+?" in missing[0]
        with pytest.raises(VapixError, match="does not list Ünï code"):
            client.param_values("Brand.ProdNbr", "Ünï code")
    assert fleet.counters(host)["unauthorized"] == 1


def test_a_deprecated_schema_warns_once(fleet):
    host = sorted(fleet.hosts)[2]
    fleet.settings(host, deprecated=True)
    try:
        with client_for(fleet, host) as client:
            for _call in range(3):
                client.call(REMOTE_CAMERA_CONTROL, "getvapixstatus")
            assert len(client.warnings) == 1 and "deprecated" in client.warnings[0]
    finally:
        fleet.settings(host, deprecated=False)


def test_reads_are_retried_a_bounded_number_of_times_and_writes_never(fleet):
    host = sorted(fleet.hosts)[3]
    with client_for(fleet, host, retries=2, backoff=0.05) as client:
        fleet.fault(host, "/axis-cgi/remotecameracontrol/getvapixstatus.cgi", "http503", count=2)
        client.call(REMOTE_CAMERA_CONTROL, "getvapixstatus")
        assert client.requests_made == 3
        fleet.fault(host, "/axis-cgi/remotecameracontrol/getvapixstatus.cgi", "http503", count=3)
        with pytest.raises(TransportError, match=r"HTTP 503 Service Unavailable \(after 3 attempts\)"):
            client.call(REMOTE_CAMERA_CONTROL, "getvapixstatus")
        fleet.fault(host, "/axis-cgi/remotecameracontrol/setvapixparams.cgi", "http503", count=1)
        made = client.requests_made
        with pytest.raises(TransportError, match="HTTP 503"):
            client.call(REMOTE_CAMERA_CONTROL, "setvapixparams", {"rtspport": 554})
        assert client.requests_made == made + 1


def test_one_connection_and_one_challenge_for_many_requests(fleet):
    host = sorted(fleet.hosts)[4]
    fleet.reset(host)
    with client_for(fleet, host) as client:
        for _call in range(5):
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
    counters = fleet.counters(host)
    assert counters["cgi"] == {"/axis-cgi/ptremotecalibration/iscalibrated.cgi": 5}
    assert counters["unauthorized"] == 1 and counters["connections"] == 1


def test_an_ipv6_device(workdir):
    with Twin(units=1, workdir=workdir / "ipv6-twin", args=["--listen", "::1"]) as twin:
        [host] = twin.hosts
        hostvars = twin.hosts[host]
        assert hostvars["ansible_host"] == "::1"
        with client_for(twin, host) as client:
            assert client.base_url.startswith("http://[::1]:")
            assert client.call(PT_REMOTE_CALIBRATION, "iscalibrated")[0] == "IsCalibratedSuccess"
