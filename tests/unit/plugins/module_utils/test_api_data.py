# -*- coding: utf-8 -*-
"""The wire table refuses a descriptor that does not make sense, when it is loaded, not at request time."""

from __future__ import annotations

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils._api_data import (
    INT,
    PARAM_LIST,
    PT_REMOTE_CALIBRATION,
    TABLE,
    XML,
    Cgi,
    List,
    _index,
    cgi,
)
from ansible_collections.vapix.q6000.plugins.module_utils.errors import WireTableError

GOOD = dict(path="ptremotecalibration/start.cgi", role="administrator", parser=XML, write=True,
            api=PT_REMOTE_CALIBRATION, success={"GeneralSuccess": None})


def test_a_good_descriptor_is_taken():
    entry = Cgi(**GOOD)
    assert (entry.method, entry.timeout, entry.max_body) == ("GET", "write", 1024 * 1024)


@pytest.mark.parametrize("change, words", [
    ({"role": "admin"}, "role 'admin' is not one of viewer, operator, administrator"),
    ({"timeout": "slow"}, "timeout class 'slow'"),
    ({"method": "PUT"}, "method 'PUT'"),
    ({"method": "POST", "write": False}, "a POST is a write"),
    ({"parser": "html"}, "parser 'html'"),
    ({"path": "/axis-cgi/start.cgi"}, "not a CGI path"),
    ({"api": "nosuchapi", "path": "nosuchapi/start.cgi"}, "no root element is known"),
    ({"path": "remotecameracontrol/start.cgi"}, "not a CGI of the API ptremotecalibration"),
    ({"success": {}}, "names the success elements"),
    ({"success": {"GeneralSuccess": {"Id": "integer"}}}, "GeneralSuccess/Id: 'integer' is not a shape"),
    ({"success": {"IsCalibratedSuccess": {"Camera": List({"Id": INT, "": INT})}}}, "is not an element name"),
    ({"parser": PARAM_LIST}, "the xml parser goes with an XML API"),
])
def test_a_bad_descriptor_is_refused_naming_what_is_wrong(change, words):
    with pytest.raises(WireTableError) as info:
        Cgi(**dict(GOOD, **change))
    assert words in str(info.value)
    assert "ptremotecalibration/start.cgi" in str(info.value) or "path" in change


def test_a_cgi_described_twice_is_refused():
    with pytest.raises(WireTableError, match="described twice"):
        _index([Cgi(**GOOD), Cgi(**GOOD)])


def test_lookup_by_path_and_by_what_it_does():
    assert cgi("com/ptz.cgi", write=True).write and not cgi("com/ptz.cgi", write=False).write
    assert cgi("remotecameracontrol/setvapixparams.cgi").method == "POST"
    with pytest.raises(WireTableError, match="more than one descriptor for com/ptz.cgi"):
        cgi("com/ptz.cgi")
    with pytest.raises(WireTableError, match="no descriptor for nosuch.cgi"):
        cgi("nosuch.cgi")


def test_only_the_password_carrying_cgi_is_a_post():
    assert [entry.path for entry in TABLE.values() if entry.method == "POST"] == ["remotecameracontrol/setvapixparams.cgi"]
