# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Narrow unit tests of the shared client layer: settings, credentials, rate limiting, retries."""

from __future__ import annotations

import pytest

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _errors
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi, CvmApiError, RateLimiter, SettingsError


@pytest.mark.parametrize("endpoint, expected", [
    (None, ("https", "cvm.tencentcloudapi.com")),
    ("", ("https", "cvm.tencentcloudapi.com")),
    ("cvm.ap-guangzhou.tencentcloudapi.com", ("https", "cvm.ap-guangzhou.tencentcloudapi.com")),
    ("127.0.0.1:8443", ("https", "127.0.0.1:8443")),
    ("http://127.0.0.1:8400", ("http", "127.0.0.1:8400")),
    ("https://cvm.example.internal/", ("https", "cvm.example.internal")),
])
def test_parse_endpoint_accepts(endpoint, expected):
    assert _client.parse_endpoint(endpoint) == expected


@pytest.mark.parametrize("endpoint", [
    "ftp://cvm.tencentcloudapi.com", "http://", "http://host:99999", "http://host/path", "http://user@host",
    "not a host", "host:port", "https://host?x=1",
])
def test_parse_endpoint_refuses_with_the_value(endpoint):
    with pytest.raises(SettingsError) as caught:
        _client.parse_endpoint(endpoint)
    assert repr(endpoint.strip()) in str(caught.value)


@pytest.mark.parametrize("region", ["ap-guangzhou", "na-siliconvalley", "ap-shanghai-fsi", "eu-frankfurt"])
def test_region_shapes_accepted(region):
    _client.check_region(region)


@pytest.mark.parametrize("region, fragment", [
    (None, "TENCENTCLOUD_REGION"), ("", "TENCENTCLOUD_REGION"), ("Guangzhou", "'Guangzhou'"), ("ap_guangzhou", "'ap_guangzhou'"),
])
def test_region_refused(region, fragment):
    with pytest.raises(SettingsError) as caught:
        _client.check_region(region)
    assert fragment in str(caught.value)


@pytest.fixture
def no_ambient_credentials(monkeypatch, tmp_path):
    """No profile file, no instance role, no TKE: only what the test gives."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TKE_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_client._BoundedCvmRoleCredential, "get_credential", lambda self: None)
    monkeypatch.setattr(_client.os.path, "exists", lambda path, _real=_client.os.path.exists: False if path == "/etc/tencentcloud/credentials" else _real(path))
    return tmp_path


def test_explicit_credentials_win(no_ambient_credentials):
    cred = _client.resolve_credential("AKIDexample", "secretvalue", "tokenvalue")
    assert cred.get_credential_info() == ("AKIDexample", "secretvalue", "tokenvalue")


@pytest.mark.parametrize("secret_id, secret_key, missing", [
    ("AKIDexample", None, "secret_key (TENCENTCLOUD_SECRET_KEY)"),
    (None, "secretvalue", "secret_id (TENCENTCLOUD_SECRET_ID)"),
])
def test_half_a_key_is_refused(no_ambient_credentials, secret_id, secret_key, missing):
    with pytest.raises(SettingsError) as caught:
        _client.resolve_credential(secret_id, secret_key)
    assert missing in str(caught.value)
    assert "secretvalue" not in str(caught.value)


def test_profile_file_is_used(no_ambient_credentials):
    folder = no_ambient_credentials / ".tencentcloud"
    folder.mkdir()
    (folder / "credentials").write_text("[default]\nsecret_id = AKIDprofile\nsecret_key = profilesecret\n")
    assert _client.resolve_credential().get_credential_info()[:2] == ("AKIDprofile", "profilesecret")


def test_instance_role_is_used_last(no_ambient_credentials, monkeypatch):
    class Role:
        def get_credential_info(self):
            return ("AKIDrole", "rolesecret", "roletoken")
    monkeypatch.setattr(_client._BoundedCvmRoleCredential, "get_credential", lambda self: Role())
    assert _client.resolve_credential().get_credential_info() == ("AKIDrole", "rolesecret", "roletoken")


def test_no_credentials_message_names_every_way(no_ambient_credentials):
    with pytest.raises(SettingsError) as caught:
        _client.resolve_credential()
    assert str(caught.value) == _client.NO_CREDENTIALS_MSG
    for name in ("secret_id", "secret_key", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "~/.tencentcloud/credentials", "CAM role"):
        assert name in _client.NO_CREDENTIALS_MSG


def test_sdk_default_chain_bare_oserror_is_not_what_we_raise(no_ambient_credentials):
    """The SDK's own provider chain ends in a bare OSError; ours ends in the readable message."""
    from tencentcloud.common import credential as sdk_credential
    with pytest.raises(Exception):
        sdk_credential.DefaultTkeOIDCRoleArnProvider().get_credential()
    with pytest.raises(SettingsError):
        _client.resolve_credential()


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_allows_rate_per_window_then_waits():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    for _attempt in range(10):
        limiter.release(limiter.acquire())
    assert clock.sleeps == []
    limiter.release(limiter.acquire())
    assert clock.now - 100.0 == pytest.approx(1.0 + RateLimiter.MARGIN, abs=0.01)
    # Never more than 10 in any window of one second.
    assert len([s for s in limiter._slots if clock.now - s[0] < 1.0]) <= 10


def test_rate_limiter_counts_the_window_from_the_answer():
    """A slow answer: the server may have counted the request late, so the next burst waits for the answer plus a window."""
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    first = limiter.acquire()
    limiter.release(limiter.acquire())
    clock.now += 0.7           # the first request is still in flight...
    limiter.release(first)      # ...and answered at 100.7
    limiter.acquire()
    assert clock.now == pytest.approx(100.7 + 1.0 + RateLimiter.MARGIN, abs=0.02)


def test_rate_limiter_pause_holds_everyone():
    clock = FakeClock()
    limiter = RateLimiter(40, clock=clock, sleep=clock.sleep)
    limiter.pause(2.0)
    limiter.release(limiter.acquire())
    assert clock.now == pytest.approx(102.0)


class ScriptedClient:
    """Stands in for the SDK client: raises the scripted SDK exceptions, then answers."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0

    def call_json(self, action, params):
        self.calls += 1
        item = self.script.pop(0) if self.script else {"Response": {"RequestId": "req-ok"}}
        if isinstance(item, TencentCloudSDKException) or isinstance(item, ValueError):
            raise item  # pylint: disable=raising-bad-type
        return item


def make_api(script, monkeypatch):
    clock = FakeClock()
    api = CvmApi(_client.sdk_credential.Credential("AKIDx", "secret"), "ap-guangzhou", endpoint="http://127.0.0.1:9", sleep=clock.sleep,
                 rng=lambda low, high: high)
    client = ScriptedClient(script)
    monkeypatch.setattr(api, "_sdk_client", lambda: client)
    monkeypatch.setattr(api, "_limiter", lambda action: RateLimiter(1000, clock=clock, sleep=clock.sleep))
    return api, client, clock


def sdk_error(code, message="boom", request_id="req-1"):
    return TencentCloudSDKException(code, message, request_id)


def test_transient_errors_are_retried_with_growing_capped_delays(monkeypatch):
    api, client, clock = make_api([sdk_error("InternalError"), sdk_error("ServerNetworkError", b"<html>502</html>", None)], monkeypatch)
    assert api.call("DescribeInstances", {}) == {"RequestId": "req-ok"}
    assert client.calls == 3
    assert clock.sleeps == [0.25, 0.5]


@pytest.mark.parametrize("code, retry", [
    ("RequestLimitExceeded", _errors.THROTTLED), ("RequestLimitExceeded.UinLimitExceeded", _errors.THROTTLED),
    ("InternalError", _errors.TRANSIENT), ("ClientNetworkError", _errors.TRANSIENT),
    ("OperationDenied.InstanceOperationInProgress", _errors.BUSY), ("MutexOperation.TaskRunning", _errors.BUSY),
])
def test_retryable_codes_give_up_after_their_cap(monkeypatch, code, retry):
    cap = _errors.MAX_ATTEMPTS[retry]
    api, client, clock = make_api([sdk_error(code, request_id="req-%d" % n) for n in range(cap + 5)], monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("AssociateInstancesKeyPairs", {})
    assert client.calls == cap
    assert caught.value.attempts == cap
    assert caught.value.request_id == "req-%d" % (cap - 1)  # the last one, for support
    first, limit = _client.BACKOFF[retry]
    assert max(clock.sleeps) <= limit
    assert sum(clock.sleeps) <= sum(min(limit, first * 2 ** n) for n in range(cap - 1))


@pytest.mark.parametrize("code", [
    "AuthFailure.SignatureFailure", "AuthFailure.SecretIdNotFound", "InvalidInstanceId.Malformed", "InvalidKeyPairId.NotFound",
    "UnsupportedOperation.InstanceStateRunning", "UnsupportedOperation.InstanceOsWindows", "LimitExceeded.KeyPairLimit",
    "InvalidParameterValue.LimitExceeded",
])
def test_permanent_codes_fail_at_once(monkeypatch, code):
    api, client, clock = make_api([sdk_error(code)], monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("AssociateInstancesKeyPairs", {})
    assert (client.calls, clock.sleeps, caught.value.code, caught.value.attempts) == (1, [], code, 1)


def test_error_body_that_the_sdk_took_for_success_is_still_an_error(monkeypatch):
    answer = {"Response": {"Error": {"Code": "InternalError", "Message": "x"}, "RequestId": "req-9"}}
    api, client, clock = make_api([answer, answer, {"Response": {"RequestId": "req-ok", "TotalCount": 0}}], monkeypatch)
    assert api.call("DescribeInstances", {})["TotalCount"] == 0
    assert client.calls == 3


def test_non_api_answer_is_reported_not_raised_raw(monkeypatch):
    api, client, clock = make_api([ValueError("Expecting value")], monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {})
    assert caught.value.code == "InvalidResponse"
    assert "http://127.0.0.1:9" in caught.value.message


def test_throttling_pauses_the_action_limiter(monkeypatch):
    api, client, clock = make_api([sdk_error("RequestLimitExceeded")], monkeypatch)
    limiter = RateLimiter(1000, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr(api, "_limiter", lambda action: limiter)
    api.call("DescribeInstances", {})
    assert limiter._paused_until == pytest.approx(100.0 + 0.5)


def test_ca_bundle_must_exist(tmp_path):
    cred = _client.sdk_credential.Credential("AKIDx", "secret")
    with pytest.raises(SettingsError) as caught:
        CvmApi(cred, "ap-guangzhou", ca_bundle=str(tmp_path / "missing.pem"))
    assert "missing.pem" in str(caught.value)


@pytest.mark.parametrize("ca_bundle", [None, ""])
def test_default_is_https_with_certificate_verification(ca_bundle):
    import certifi
    api = CvmApi(_client.sdk_credential.Credential("AKIDx", "secret"), "ap-guangzhou", ca_bundle=ca_bundle)
    assert api.endpoint_url == "https://cvm.tencentcloudapi.com"
    connection = api._sdk_client().request.conn
    assert connection.certification == certifi.where()  # requests' verify= the public CA bundle, never "" or False


def test_named_ca_bundle_is_what_requests_verifies_with(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    api = CvmApi(_client.sdk_credential.Credential("AKIDx", "secret"), "ap-guangzhou", endpoint="https://127.0.0.1:8443", ca_bundle=str(bundle))
    assert api._sdk_client().request.conn.certification == str(bundle)
