# -*- coding: utf-8 -*-
"""vapix.q6000.remote_camera_params against the twin, through ansible-playbook."""

from __future__ import annotations

import pytest

from tests.integration.conftest import play, secrets_of

LINK = {
    "remote_host": "{{ q6000_remote_host }}",
    "http_port": "{{ q6000_remote_http_port }}",
    "remote_username": "{{ q6000_remote_username }}",
    "remote_password": "{{ q6000_remote_password }}",
    "wait_for_connection": True,
    "wait_timeout": 20,
}


def link_task(**options):
    return {"name": "link", "vapix.q6000.remote_camera_params": dict(LINK, **options), "register": "link"}


def test_first_run_links_second_run_changes_nothing(ansible, twin, unit):
    first = ansible(play([link_task()]), twin.inventory_path, limit=unit)
    assert first.rc == 0, first.output
    result = first.result("link", unit)
    assert result["changed"] is True
    # The factory link reports a link-local host (auto discovery): the manual host differs from it.
    assert result["changed_keys"] == ["discovery_mode", "remote_host", "remote_password"]
    assert result["password_update"] == "sent"
    assert result["status"]["code"] == 0
    assert result["status"]["rtsp"] == {"code": 0, "description": "Connection OK"}
    assert result["params"]["discovery_mode"] == "manual"
    assert result["remote_url"] == "http://%s:%s/" % (twin.hosts[unit]["q6000_remote_host"],
                                                      twin.hosts[unit]["q6000_remote_http_port"])
    assert "password" not in result["params"]

    twin.reset(unit)
    second = ansible(play([link_task()]), twin.inventory_path, limit=unit)
    assert second.rc == 0, second.output
    assert second.result("link", unit)["changed"] is False
    counters = twin.counters(unit)
    assert counters["cgi"] == {"/axis-cgi/remotecameracontrol/getvapixparams.cgi": 1,
                               "/axis-cgi/remotecameracontrol/getvapixstatus.cgi": 1}
    assert counters["unauthorized"] <= 1


def test_check_mode_and_diff_change_nothing_and_show_no_secret(ansible, twin, unit):
    before = twin.state(unit)["link"]
    twin.reset(unit)
    run = ansible(play([link_task(wait_for_connection=False)]), twin.inventory_path, limit=unit, check=True, diff=True)
    assert run.rc == 0, run.output
    result = run.result("link", unit)
    assert result["changed"] is True
    # The link changes, so whether the password is needed is only known once the new link has settled.
    assert result["changed_keys"] == ["discovery_mode", "remote_host"]
    assert result["password_update"] == "if_refused"
    assert result["diff"]["before"]["discovery_mode"] == "auto"
    assert result["diff"]["after"]["discovery_mode"] == "manual"
    assert result["diff"]["after"]["password"].startswith("(sent if the PTZ refuses")
    assert twin.state(unit)["link"] == before
    assert "/axis-cgi/remotecameracontrol/setvapixparams.cgi" not in twin.counters(unit)["cgi"]
    for secret in secrets_of(twin, unit):
        assert secret not in run.output


def test_wrong_password_shows_not_authorized_then_on_failure_fixes_it(ansible, twin, unit):
    wrong = ansible(play([link_task(remote_password="not-the-password", wait_timeout=5)]), twin.inventory_path,
                    limit=unit)
    assert wrong.rc != 0
    result = wrong.result("link", unit)
    assert result["status"]["code"] == 3
    assert "still refuses the account after the password was sent" in result["msg"]
    assert "Not authorized" in result["msg"]
    assert "check remote_username and remote_password" in result["msg"]

    fixed = ansible(play([link_task()]), twin.inventory_path, limit=unit)
    assert fixed.rc == 0, fixed.output
    result = fixed.result("link", unit)
    assert result["changed_keys"] == ["remote_password"]
    assert result["status"]["code"] == 0
    assert twin.state(unit)["status"] == 0


def test_password_policies(ansible, twin, unit):
    assert ansible(play([link_task()]), twin.inventory_path, limit=unit).rc == 0
    always = ansible(play([link_task(update_password="always")]), twin.inventory_path, limit=unit)
    assert always.result("link", unit)["changed_keys"] == ["remote_password"]
    never = ansible(play([link_task(update_password="never", remote_password="wrong")]), twin.inventory_path,
                    limit=unit)
    assert never.result("link", unit)["changed"] is False
    assert twin.state(unit)["status"] == 0


def test_ipv6_loopback_needs_manual_and_is_bracketed(ansible, twin, unit):
    run = ansible(play([link_task(remote_host="::1", discovery_mode="manual")]), twin.inventory_path, limit=unit)
    assert run.rc == 0, run.output
    result = run.result("link", unit)
    assert result["params"]["host"] == "::1"
    assert result["remote_url"] == "http://[::1]:%s/" % twin.hosts[unit]["q6000_remote_http_port"]
    assert result["status"]["code"] == 0


def test_a_wrong_port_says_no_connection(ansible, twin, unit):
    run = ansible(play([link_task(http_port=9, wait_timeout=4)]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    result = run.result("link", unit)
    assert result["status"]["code"] == 2
    assert "No connection" in result["msg"] and "check remote_host and http_port" in result["msg"]


@pytest.mark.parametrize("options, message", [
    ({"http_port": 0}, "http_port: 0 is not a port number"),
    ({"rtsp_port": 70000}, "rtsp_port: 70000 is not a port number"),
    ({"remote_host": None, "discovery_mode": "manual"}, "discovery_mode: manual needs remote_host"),
    ({"remote_host": "2001:db8::5", "discovery_mode": "auto"}, "remote_host: the IPv6 address 2001:db8::5 needs"),
    ({"remote_host": "ptz&password=x"}, "remote_host: 'ptz&password=x' is not a host name"),
    ({"remote_host": "ptz\nhost"}, "is not a host name"),
    ({"discovery_mode": "dhcp"}, "discovery_mode"),
    ({"http_port": "eighty"}, "http_port"),
    ({"update_password": "sometimes"}, "update_password"),
])
def test_bad_input_is_refused_before_any_request(ansible, twin, unit, options, message):
    twin.reset(unit)
    task = link_task(**options)
    task["vapix.q6000.remote_camera_params"] = {k: v for k, v in task["vapix.q6000.remote_camera_params"].items()
                                                if v is not None}
    run = ansible(play([task]), twin.inventory_path, limit=unit)
    assert run.rc != 0
    assert message in run.result("link", unit)["msg"]
    counters = twin.counters(unit)
    assert counters["cgi"] == {} and counters["unauthorized"] == 0


def test_no_password_in_verbose_output(ansible, twin, unit):
    run = ansible(play([link_task(update_password="always")]), twin.inventory_path, limit=unit, verbosity=4,
                  diff=True)
    assert run.rc == 0, run.output
    for secret in secrets_of(twin, unit):
        assert secret not in run.output
        assert secret not in str(run.records)
