# -*- coding: utf-8 -*-
"""Decoding of the XML APIs' answers and of host names, without a device."""

from __future__ import annotations

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils._answers import parse_answer
from ansible_collections.vapix.q6000.plugins.module_utils._api_data import (
    PT_REMOTE_CALIBRATION,
    REMOTE_CAMERA_CONTROL,
    cgi,
)
from ansible_collections.vapix.q6000.plugins.module_utils._transport import format_host, offered_schemes
from ansible_collections.vapix.q6000.plugins.module_utils.errors import DeviceError, TransportError, UnexpectedAnswerError

GETVAPIXPARAMS = cgi("remotecameracontrol/getvapixparams.cgi")
SETVAPIXPARAMS = cgi("remotecameracontrol/setvapixparams.cgi")
START = cgi("ptremotecalibration/start.cgi")
ISCALIBRATED = cgi("ptremotecalibration/iscalibrated.cgi")
GETINFORMATION = cgi("ptremotecalibration/getinformation.cgi")
SEED_PARAMS = ("<GetVapixParamsSuccess><BaseConnectionParams><MACAddress>ac:cc:8e:08:47:68</MACAddress><Host>"
               "169.254.0.123</Host><DiscoveryMode>auto</DiscoveryMode></BaseConnectionParams><VapixConnectionParams>"
               "<HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><RTSPPort>553</RTSPPort><Username>root</Username>"
               "</VapixConnectionParams></GetVapixParamsSuccess>")

HEAD = ('<?xml version="1.0" encoding="utf-8" ?><%s SchemaVersion="1.0"%s '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/%s1.xsd">%s</%s>')


def answer(api, inner, deprecated=""):
    root = "RemoteCameraControlResponse" if api == REMOTE_CAMERA_CONTROL else "PTRemoteCalibrationResponse"
    xsd = "RemoteCameraControl" if api == REMOTE_CAMERA_CONTROL else "PTRemoteCalibration"
    extra = ' Deprecated="%s"' % deprecated if deprecated else ""
    return (HEAD % (root, extra, xsd, inner, root)).encode()


def test_success_with_data_as_in_the_seed():
    deprecated, key, value = parse_answer(answer(REMOTE_CAMERA_CONTROL, SEED_PARAMS), GETVAPIXPARAMS)
    assert deprecated is None
    assert key == "GetVapixParamsSuccess"
    assert value["VapixConnectionParams"]["RTSPPort"] == 553
    assert value["BaseConnectionParams"]["Host"] == "169.254.0.123"


def test_general_success_is_empty():
    assert parse_answer(answer(PT_REMOTE_CALIBRATION, "<GeneralSuccess />"), START)[1:] == \
        ("GeneralSuccess", None)


@pytest.mark.parametrize("element", ["ErrorDescription", "Description"])
def test_general_error_with_either_text_element(element):
    body = answer(PT_REMOTE_CALIBRATION, "<GeneralError><ErrorCode>50</ErrorCode><%s>Calibration is already "
                  "ongoing</%s></GeneralError>" % (element, element))
    with pytest.raises(DeviceError) as info:
        parse_answer(body, START, "cam-1")
    assert info.value.code == 50
    assert info.value.description == "Calibration is already ongoing"
    text = str(info.value)
    assert text.startswith("ptremotecalibration/start.cgi on cam-1: error 50")
    assert "abort_ongoing" in text


def test_error_40_says_the_firmware_lacks_schema_1():
    body = answer(REMOTE_CAMERA_CONTROL, "<GeneralError><ErrorCode>40</ErrorCode><Description>x</Description>"
                  "</GeneralError>")
    with pytest.raises(DeviceError, match="does not speak schema version 1"):
        parse_answer(body, GETVAPIXPARAMS)


def test_deprecated_is_reported():
    assert parse_answer(answer(REMOTE_CAMERA_CONTROL, "<GeneralSuccess/>", "true"), SETVAPIXPARAMS)[0] == "1.0"
    assert parse_answer(answer(REMOTE_CAMERA_CONTROL, "<GeneralSuccess/>", "false"), SETVAPIXPARAMS)[0] is None


def test_entity_declarations_are_refused_before_expansion():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<RemoteCameraControlResponse>&lol2;</RemoteCameraControlResponse>')
    with pytest.raises(TransportError, match="entities"):
        parse_answer(bomb, SETVAPIXPARAMS)


@pytest.mark.parametrize("body, match", [
    (b"<RemoteCameraControlResponse><GeneralSuccess>", "not well-formed"),
    (b"", "not well-formed"),
    (b"<html><body>login</body></html>", "expected a RemoteCameraControlResponse, got html"),
    (answer(PT_REMOTE_CALIBRATION, "<GeneralSuccess/>"), "expected a RemoteCameraControlResponse"),
    (answer(REMOTE_CAMERA_CONTROL, ""), "no result element"),
    (answer(REMOTE_CAMERA_CONTROL, "<GeneralError><ErrorCode>x</ErrorCode></GeneralError>"), "numeric ErrorCode"),
    (answer(REMOTE_CAMERA_CONTROL, "<Surprise/>"), "expected GeneralSuccess, got Surprise"),
    (answer(REMOTE_CAMERA_CONTROL, "<GetVapixParamsSuccess/>"), "expected GeneralSuccess, got GetVapixParamsSuccess"),
])
def test_garbled_answers_name_the_problem(body, match):
    with pytest.raises(UnexpectedAnswerError, match=match):
        parse_answer(body, SETVAPIXPARAMS)


@pytest.mark.parametrize("inner, match", [
    (SEED_PARAMS.replace("<DiscoveryMode>auto</DiscoveryMode>", ""), "BaseConnectionParams/DiscoveryMode is missing"),
    (SEED_PARAMS.replace("<HTTPPort>80</HTTPPort>", "<HTTPPort>eighty</HTTPPort>"), "HTTPPort is 'eighty', not a number"),
    (SEED_PARAMS.replace("<HTTPPort>80</HTTPPort>", "<HTTPPort><x>1</x></HTTPPort>"), "HTTPPort holds elements"),
    ("<GetVapixParamsSuccess>text</GetVapixParamsSuccess>", "GetVapixParamsSuccess holds text"),
    ("<GetVapixParamsSuccess/>", "BaseConnectionParams/DiscoveryMode is missing"),
])
def test_answers_of_another_shape_name_the_element(inner, match):
    with pytest.raises(UnexpectedAnswerError, match=match) as info:
        parse_answer(answer(REMOTE_CAMERA_CONTROL, inner), GETVAPIXPARAMS, "cam-1")
    assert str(info.value).startswith("remotecameracontrol/getvapixparams.cgi on cam-1: ")


def test_repeated_elements_are_lists_even_when_there_is_one():
    one = "<IsCalibratedSuccess><Camera><Id>1</Id><Calibrated>1</Calibrated></Camera></IsCalibratedSuccess>"
    assert parse_answer(answer(PT_REMOTE_CALIBRATION, one), ISCALIBRATED)[2] == {"Camera": [{"Id": 1, "Calibrated": 1}]}


@pytest.mark.parametrize("target, expected", [
    ("", None),
    ("<CurrentTarget />", None),
    ("<CurrentTarget><X>0.25</X><Y>-0.5</Y></CurrentTarget>", {"X": 0.25, "Y": -0.5}),
    ("<CurrentTarget><X></X><Y></Y></CurrentTarget>", {"X": None, "Y": None}),
])
def test_current_target_in_every_form_firmware_sends(target, expected):
    inner = "<GetInformationSuccess><Camera>2</Camera>%s</GetInformationSuccess>" % target
    assert parse_answer(answer(PT_REMOTE_CALIBRATION, inner), GETINFORMATION)[2]["CurrentTarget"] == expected


@pytest.mark.parametrize("preamble", [b"\r\n", b"\n", b"\xef\xbb\xbf"])
def test_a_line_break_before_the_declaration_is_tolerated(preamble):
    body = preamble + answer(REMOTE_CAMERA_CONTROL, SEED_PARAMS)
    assert parse_answer(body, GETVAPIXPARAMS)[1] == "GetVapixParamsSuccess"


@pytest.mark.parametrize("host, url_host", [
    ("192.0.2.1", "192.0.2.1"),
    ("::1", "[::1]"),
    ("2001:db8::7", "[2001:db8::7]"),
    ("[2001:db8::7]", "[2001:db8::7]"),
    ("camera-1.example.net", "camera-1.example.net"),
])
def test_ipv6_is_bracketed(host, url_host):
    assert format_host(host) == url_host


@pytest.mark.parametrize("header, schemes", [
    ('Digest realm="AXIS_ACCC8E", nonce="abc", algorithm=MD5, qop="auth"', ["digest"]),
    ('Digest realm="AXIS_ACCC8E", nonce="abc", qop="auth"', ["digest"]),
    ('Basic realm="AXIS_ACCC8E"', ["basic"]),
    ('Basic realm="a", Digest realm="a", nonce="n", algorithm=MD5-sess, qop="auth", stale=true', ["basic", "digest"]),
    ('Digest realm="a", nonce="n", qop="auth", Basic realm="a"', ["digest", "basic"]),
    ("Negotiate", ["negotiate"]),
    ("", []),
])
def test_the_schemes_a_challenge_offers(header, schemes):
    assert offered_schemes({"WWW-Authenticate": header}) == schemes
