# -*- coding: utf-8 -*-
"""Answers as real units word them, against the twin's firmware switches: authentication as the device offers it,
403, `Error:` without a space, param.cgi without `root.`, resolutions per channel, snapshots of another size,
two-decimal positions, trickled headers, reset TLS handshakes, and proxies from the environment.

Each test sets a switch on a unit of its own and puts it back, so that the units stay independent.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils._api_data import (
    PT_REMOTE_CALIBRATION,
    REMOTE_CAMERA_CONTROL,
)
from ansible_collections.vapix.q6000.plugins.module_utils._image_options import check_streamed, streamed_resolutions
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    AuthError,
    PtzError,
    TransportError,
    UnexpectedAnswerError,
    ValidationError,
)
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import position, settled_position
from ansible_collections.vapix.q6000.plugins.module_utils.vapix import VapixClient
from tests.emulator.process import Twin
from tests.integration.conftest import play


@pytest.fixture(scope="module")
def fleet(workdir):
    with Twin(units=8, workdir=workdir / "firmware-twin") as twin:
        yield twin


@pytest.fixture(scope="module")
def tls_fleet(workdir):
    with Twin(units=3, workdir=workdir / "firmware-tls-twin", tls=True) as twin:
        yield twin


def client_for(twin, host, account="root", ptz=False, password=None, **options):
    """A client of the unit's Q6000-E (or of its PTZ), with one of the twin's accounts."""
    hostvars = twin.hosts[host]
    if ptz:
        address, port = hostvars["q6000_ptz_hostname"], hostvars["q6000_ptz_port"]
        username, secret = hostvars["q6000_remote_username"], hostvars["q6000_remote_password"]
    else:
        address, port = hostvars["ansible_host"], hostvars["q6000_port"]
        prefix = "q6000" if account == "root" else "q6000_%s" % account
        username, secret = hostvars[prefix + "_username"], hostvars[prefix + "_password"]
    if twin.tls:
        options.setdefault("use_https", True)
        options.setdefault("ca_path", twin.ca_path)
    return VapixClient(address, port=port, username=username, password=password or secret, **options)


@contextmanager
def switched(twin, host, **settings):
    """The unit's firmware switched for the block, and back to the twin's defaults after it."""
    before = twin.settings(host)
    twin.settings(host, **settings)
    try:
        yield
    finally:
        twin.settings(host, **{key: before[key] for key in settings})


def test_auth_auto_answers_a_device_that_offers_only_basic_over_https(tls_fleet):
    host = sorted(tls_fleet.hosts)[0]
    with switched(tls_fleet, host, auth_schemes=["basic"]):
        tls_fleet.reset(host)
        with client_for(tls_fleet, host) as client:
            assert client.call(PT_REMOTE_CALIBRATION, "iscalibrated")[0] == "IsCalibratedSuccess"
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
        # One challenge: once the device asked for Basic, the next request carries it from the start.
        assert tls_fleet.counters(host)["unauthorized"] == 1
        with client_for(tls_fleet, host, password="wrong") as client, pytest.raises(AuthError) as info:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
        assert "refused the account" in str(info.value) and "in clear" not in str(info.value)
        with client_for(tls_fleet, host, auth="digest") as client, pytest.raises(AuthError) as info:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
        assert "offers only Basic" in str(info.value) and "auth=auto" in str(info.value)
        with client_for(tls_fleet, host, auth="basic") as client:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")


def test_auth_auto_never_sends_basic_in_clear_unless_allowed(fleet):
    host = sorted(fleet.hosts)[0]
    with switched(fleet, host, auth_schemes=["basic"]):
        with client_for(fleet, host) as client, pytest.raises(AuthError) as info:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
        assert "in clear over HTTP" in str(info.value) and "allow_basic_over_http" in str(info.value)
        with client_for(fleet, host, allow_basic_over_http=True) as client:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")


def test_auth_auto_takes_digest_when_the_device_offers_both(fleet):
    host = sorted(fleet.hosts)[0]
    with switched(fleet, host, auth_schemes=["basic", "digest"]):
        fleet.reset(host)
        with client_for(fleet, host, allow_basic_over_http=True) as client:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
            # Digest, although Basic was offered first and would have been allowed.
            assert client.transport.session.auth.basic is False
        assert fleet.counters(host)["unauthorized"] == 1


@pytest.mark.parametrize("algorithm", ["MD5-sess", "none"])
def test_digest_variants_of_older_and_newer_firmware(fleet, algorithm):
    host = sorted(fleet.hosts)[1]
    with switched(fleet, host, digest_algorithm=algorithm):
        fleet.reset(host)
        with client_for(fleet, host) as client:
            for _call in range(3):
                client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
        assert fleet.counters(host)["unauthorized"] == 1


def test_a_nonce_gone_stale_is_renewed_without_a_failure(fleet):
    host = sorted(fleet.hosts)[1]
    with switched(fleet, host, nonce_lifetime=0.5):
        with client_for(fleet, host) as client:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
            time.sleep(1.0)
            assert client.call(PT_REMOTE_CALIBRATION, "iscalibrated")[0] == "IsCalibratedSuccess"


@pytest.mark.parametrize("status", [401, 403])
def test_a_role_too_low_names_the_role_and_the_account(fleet, status):
    host = sorted(fleet.hosts)[2]
    with switched(fleet, host, forbidden_status=status):
        with client_for(fleet, host, account="viewer") as client, pytest.raises(AuthError) as info:
            client.call(REMOTE_CAMERA_CONTROL, "getvapixparams")
    message = str(info.value)
    assert "HTTP %d" % status in message and "'viewer'" in message and "administrator" in message


@pytest.mark.parametrize("space", [True, False])
def test_errors_with_or_without_a_space(fleet, space):
    host = sorted(fleet.hosts)[3]
    with switched(fleet, host, error_space=space):
        with client_for(fleet, host, ptz=True) as ptz:
            with pytest.raises(PtzError, match="the device answered 'Error:"):
                ptz.ptz({"query": "nosuchthing"}, write=False)
            with pytest.raises(UnexpectedAnswerError, match="the device answered 'Error:"):
                ptz.snapshot({"resolution": "123x45"})


@pytest.mark.parametrize("prefix", [True, False])
def test_param_lines_with_or_without_root(fleet, prefix):
    host = sorted(fleet.hosts)[3]
    with switched(fleet, host, param_prefix=prefix):
        with client_for(fleet, host) as client:
            values, missing = client.param_list("Brand", "NoSuchGroup")
    assert values["Brand.ProdNbr"] == "Q6000-E" and missing


@pytest.mark.parametrize("per_channel", [False, True])
def test_resolutions_are_read_per_channel_and_one_not_streamed_is_refused(fleet, per_channel):
    host = sorted(fleet.hosts)[4]
    with switched(fleet, host, resolutions_per_channel=per_channel):
        with client_for(fleet, host) as client:
            assert "1280x720" in streamed_resolutions(client, 3)
            check_streamed(client, "resolution", "1280x720", [0, 3])
            with pytest.raises(ValidationError) as info:
                check_streamed(client, "resolution", "4000x3000", [0])
        with client_for(fleet, host, ptz=True) as ptz:
            assert "640x360" in streamed_resolutions(ptz, 0)
    assert "resolution: " in str(info.value) and "4000x3000" in str(info.value) and "1280x720" in str(info.value)


def test_two_decimal_positions_are_read_and_settle(fleet):
    host = sorted(fleet.hosts)[5]
    with switched(fleet, host, position_decimals=2):
        with client_for(fleet, host, ptz=True) as ptz:
            ptz.ptz({"pan": "12.3456", "tilt": "-7.891"}, write=True)
            pan, tilt, _zoom = settled_position(ptz)
            assert (pan, tilt) == (12.35, -7.89)
            raw = ptz.ptz({"query": "position"}, write=False)
            assert raw["pan"] == "12.35"
            assert position(ptz)[:2] == (12.35, -7.89)


def test_trickled_headers_are_held_to_the_deadline(fleet):
    host = sorted(fleet.hosts)[6]
    with switched(fleet, host, trickle_headers=0.4):
        with client_for(fleet, host, timeout=1.0, retries=0) as client, pytest.raises(TransportError) as info:
            client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
        assert "no answer within 1.0s" in str(info.value)
        with client_for(fleet, host, timeout=20.0) as client:
            assert client.call(PT_REMOTE_CALIBRATION, "iscalibrated")[0] == "IsCalibratedSuccess"


def test_a_reset_tls_handshake_is_retried_for_reads_and_never_for_writes(tls_fleet):
    host = sorted(tls_fleet.hosts)[1]
    with client_for(tls_fleet, host, backoff=0.05) as client:
        tls_fleet.settings(host, tls_reset=1)
        assert client.call(PT_REMOTE_CALIBRATION, "iscalibrated")[0] == "IsCalibratedSuccess"
        assert client.requests_made == 2
    with client_for(tls_fleet, host, ptz=True, backoff=0.05) as ptz:
        tls_fleet.settings(host, tls_reset=1)
        with pytest.raises(TransportError) as info:
            ptz.ptz({"pan": "10"}, write=True)
        assert ptz.requests_made == 1
        assert "reset the connection" in str(info.value) or "TLS handshake was cut short" in str(info.value)
        assert info.value.unreachable


def test_a_certificate_that_is_not_trusted_is_never_retried(tls_fleet):
    host = sorted(tls_fleet.hosts)[1]
    with client_for(tls_fleet, host, ca_path=None) as client, pytest.raises(TransportError, match="TLS failed"):
        client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
    assert client.requests_made == 1


@pytest.mark.parametrize("use_proxy", [True, False])
def test_a_proxy_from_the_environment_is_used_unless_use_proxy_is_false(fleet, monkeypatch, use_proxy):
    host = sorted(fleet.hosts)[7]
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: a proxy that refuses
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    with client_for(fleet, host, use_proxy=use_proxy, retries=0) as client:
        if use_proxy:
            with pytest.raises(TransportError):
                client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
        else:
            assert client.call(PT_REMOTE_CALIBRATION, "iscalibrated")[0] == "IsCalibratedSuccess"


def test_the_modules_take_use_proxy_and_auth_auto(ansible, fleet):
    """Through ansible-playbook: auth defaults to auto, and use_proxy=false reaches a unit past a dead proxy."""
    host = sorted(fleet.hosts)[7]
    facts = {"name": "facts", "vapix.q6000.calibration_facts": {"use_proxy": False}, "register": "facts",
             "environment": {"HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
                             "NO_PROXY": "", "no_proxy": ""}}
    run = ansible(play([facts]), fleet.inventory_path, limit=host)
    assert run.rc == 0, run.output
    assert run.result("facts", host)["ansible_facts"]["q6000"]["model"] == "Q6000-E"
