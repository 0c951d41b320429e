# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport rules, decided from the endpoint's text (no request is sent): plain HTTP, user info, TLS against plain HTTP, lost answers."""

from __future__ import annotations

import random

import pytest

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _credentials, _errors
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi, CvmApiError, RateLimiter, SettingsError
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_utils.fake_clock import FakeClock
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about

CREDENTIAL = _credentials.sdk_credential.Credential("AKIDx", "secret") if _client.HAS_SDK else None
WRONG_VERSION = (
    "HTTPSConnectionPool(host='127.0.0.1', port=41921): Max retries exceeded with url: / (Caused by SSLError(SSLError(1, "
    "'[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)')))"
)
LOST = "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(_client, "_WARNED_HTTP", set())


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8400", "api.localhost", "127.0.0.1", "127.0.0.1:8400", "127.9.9.9:1", "[::1]", "[::1]:8400", "localhost.:80"]
)
def test_loopback_hosts(host):
    assert _client.is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "192.0.2.10",
        "192.0.2.10:8400",
        "cvm.tencentcloudapi.com",
        "10.0.0.1",
        "0.0.0.0",
        "[::2]:80",
        "127.example.com",
        "localhost.example.com",
        "128.0.0.1",
        "[::ffff:10.0.0.1]",
    ],
)
def test_hosts_that_are_not_this_machine(host):
    assert not _client.is_loopback(host)


def test_plain_http_to_another_machine_says_what_travels_in_clear():
    text = _client.insecure_http_warning("http", "192.0.2.10:8400")
    for fragment in (
        "http://192.0.2.10:8400",
        "Authorization",
        "X-TC-Token",
        "private key",
        "allow_insecure_http",
        "TENCENTCLOUD_ALLOW_INSECURE_HTTP",
        "https://",
    ):
        assert fragment in text
    assert _client.insecure_http_warning("https", "192.0.2.10:8400") is None
    assert _client.insecure_http_warning("http", "127.0.0.1:8400") is None


def test_a_client_warns_once_per_run_unless_allowed():
    warnings = []
    for _client_number in range(3):
        CvmApi(CREDENTIAL, "ap-guangzhou", endpoint="http://192.0.2.10:8400", warn=warnings.append)
    assert len(warnings) == 1 and "plain HTTP" in warnings[0]
    silenced = []
    CvmApi(CREDENTIAL, "ap-guangzhou", endpoint="http://192.0.2.11", warn=silenced.append, allow_insecure_http=True)
    CvmApi(CREDENTIAL, "ap-guangzhou", endpoint="http://127.0.0.1:8400", warn=silenced.append)
    CvmApi(CREDENTIAL, "ap-guangzhou", endpoint="192.0.2.12", warn=silenced.append)
    assert silenced == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://alice:Pa55word-XYZ@192.0.2.10:8400",
        "https://alice:Pa55word-XYZ@cvm.tencentcloudapi.com",
        "alice:Pa55word-XYZ@cvm.tencentcloudapi.com",
        "http://a@b:Pa55word-XYZ@127.0.0.1",
        "http://:Pa55word-XYZ@127.0.0.1/path",
    ],
)
def test_user_info_is_refused_without_being_shown(endpoint):
    with pytest.raises(SettingsError) as caught:
        _client.parse_endpoint(endpoint)
    message = str(caught.value)
    assert "Pa55word-XYZ" not in message and "alice" not in message
    assert "***@" in message and "user info" in message and message.startswith("endpoint ")


# Endpoints whose password sits where a parser splitting on the last '://' (or on the first '/') would not look, and a seeded
# fuzz of similar shapes: the password's place (before or after a second '://', a '/', a '?', a '#') and the scheme (none, http,
# https, a made-up one) vary. Every one is refused naming the endpoint, and the password is in no message.
PASSWORD = "S3cretPw0rd"
REPORTED_SHAPES = ["admin:S3cretPw0rd@127.0.0.1:1/https://cvm.tencentcloudapi.com", "http://admin:S3cretPw0rd@127.0.0.1:1/://x"]


def fuzzed_endpoints(count=200):
    rng = random.Random(20261207)
    schemes = ["", "http://", "https://", "ftp://", "h ttp://", "admin:"]
    pieces = ["/", "://", "//", "/https://", "?", "#", ":", "@", "x", "127.0.0.1:1", "cvm.tencentcloudapi.com", "%40", "[::1]"]
    shapes = []
    for _n in range(count):
        before = "".join(rng.choice(pieces) for _p in range(rng.randint(0, 3)))
        after = "".join(rng.choice(pieces) for _p in range(rng.randint(0, 3)))
        user = rng.choice(["admin:", ":", "a@b:", "admin:x/", "a://b:"])
        shapes.append(rng.choice(schemes) + before + user + PASSWORD + "@" + after + rng.choice(["127.0.0.1:1", "h", ""]))
    return shapes


@pytest.mark.parametrize("endpoint", REPORTED_SHAPES + fuzzed_endpoints())
def test_a_password_anywhere_before_an_at_sign_is_never_shown(endpoint):
    assert PASSWORD not in _client.mask_endpoint(endpoint)
    assert PASSWORD in _client.endpoint_user_info(endpoint)  # the modules mask this value in their invocation too
    with pytest.raises(SettingsError) as caught:
        _client.parse_endpoint(endpoint)
    assert PASSWORD not in str(caught.value) and str(caught.value).startswith("endpoint ")


def test_the_reported_shapes_are_refused_as_user_info_with_the_host_kept():
    for endpoint in REPORTED_SHAPES:
        with pytest.raises(SettingsError) as caught:
            _client.parse_endpoint(endpoint)
        assert "user info" in str(caught.value) and "***@127.0.0.1:1/" in str(caught.value)


def test_a_long_endpoint_is_shown_shortened():
    with pytest.raises(SettingsError) as caught:
        _client.parse_endpoint("http://" + "a" * 10000 + "/x")
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("value", [0, -1, 86401, 10**20, 10**30, True, "30", 1.5, None])
def test_timeouts_outside_one_day_are_refused(value):
    assert "request_timeout must be a whole number of seconds from 1 to 86400" in _client.seconds_problem("request_timeout", value)
    with pytest.raises(SettingsError, match="api_deadline"):
        CvmApi(CREDENTIAL, "ap-guangzhou", endpoint="http://127.0.0.1:9", api_deadline=value)


class OneFailure:
    """An SDK client whose every call fails with the same network error."""

    def __init__(self, message):
        self.message = message
        self.calls = 0
        self.request = type("Request", (), {"conn": type("Conn", (), {"timeout": None})()})()

    def call_json(self, action, params):  # pylint: disable=unused-argument  # the SDK's signature
        self.calls += 1
        raise TencentCloudSDKException("ClientNetworkError", self.message, None)


def failing_api(message, monkeypatch, endpoint):
    clock = FakeClock()
    api = CvmApi(CREDENTIAL, "ap-guangzhou", endpoint=endpoint, sleep=clock.sleep, rng=lambda low, high: high, clock=clock)
    client = OneFailure(message)
    monkeypatch.setattr(api, "_sdk_client", lambda: client)
    monkeypatch.setattr(api, "_limiter", lambda action: RateLimiter(1000, clock=clock, sleep=clock.sleep))
    return api, client


def test_tls_against_plain_http_fails_at_once_and_says_use_http(monkeypatch):
    api, client = failing_api(WRONG_VERSION, monkeypatch, "127.0.0.1:8400")
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert client.calls == 1 and caught.value.code == "ClientNetworkError.NotTls"
    text = caught.value.describe("read the instances", "ap-guangzhou", api.endpoint_url)
    assert "not TLS" in text and "http://host:port" in text and "Gave up" not in text


def test_a_lost_answer_says_what_happened_and_what_the_module_did(monkeypatch):
    api, client = failing_api(LOST, monkeypatch, "http://127.0.0.1:8400")
    with pytest.raises(CvmApiError) as caught:
        api.call("AssociateInstancesKeyPairs", {}, resend_safe=False)
    assert client.calls == 1 and caught.value.code == "ClientNetworkError.ConnectionDropped"
    assert _errors.retry_class(caught.value.code) == _errors.TRANSIENT
    text = caught.value.describe("bind the key pairs", "ap-guangzhou", api.endpoint_url)
    assert "closed after the request was sent" in text and "re-reading" in text and "Could not reach" not in text


@pytest.mark.parametrize(
    "environ, protocol, host, expected",
    [
        ({"HTTP_PROXY": "http://p:3128"}, "http", "127.0.0.1:8400", "http://p:3128"),
        ({"http_proxy": "http://p:3128"}, "http", "cvm.tencentcloudapi.com", "http://p:3128"),
        ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "127.0.0.1"}, "http", "127.0.0.1:8400", "http://p:3128"),  # the SDK wants host:port
        ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "127.0.0.1:8400"}, "http", "127.0.0.1:8400", "http://p:3128"),  # requests wants the IP
        ({"HTTP_PROXY": "http://p:3128", "no_proxy": "x,127.0.0.1:8400,127.0.0.1"}, "http", "127.0.0.1:8400", None),
        ({"HTTPS_PROXY": "http://p:3128"}, "http", "127.0.0.1:8400", None),
        ({"ALL_PROXY": "http://a:3128"}, "http", "127.0.0.1:8400", "http://a:3128"),
        ({"ALL_PROXY": "http://a:3128", "NO_PROXY": "cvm.tencentcloudapi.com"}, "https", "cvm.tencentcloudapi.com", None),
        ({"HTTPS_PROXY": "http://p:3128"}, "https", "cvm.tencentcloudapi.com", "http://p:3128"),
    ],
)
def test_the_proxy_is_the_one_the_sdk_and_requests_choose(monkeypatch, environ, protocol, host, expected):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert _client.proxy_for(protocol, host) == expected


def test_a_proxy_for_plain_http_is_named_without_its_password_even_to_this_machine():
    text = _client.proxied_http_warning("http", "127.0.0.1:8400", "http://user:Pr0xyPw@127.0.0.1:3128")
    assert "http://***@127.0.0.1:3128" in text and "Pr0xyPw" not in text and "Authorization" in text
    assert "127.0.0.1:8400 and 127.0.0.1 in NO_PROXY" in text
    assert _client.proxied_http_warning("https", "cvm.tencentcloudapi.com", "http://p:3128") is None
    assert _client.proxied_http_warning("http", "127.0.0.1:8400", None) is None


def test_a_network_error_through_a_proxy_names_it_and_masks_urls_in_the_raw_text():
    code, message = _client._describe_network_error(
        "ProxyError('Unable to connect to proxy http://u:Pr0xyPw@127.0.0.1:1/')", "http://127.0.0.1:8400", (1.0, 2.0), "http://***@127.0.0.1:1"
    )
    assert code.startswith("ClientNetworkError") and "through the proxy http://***@127.0.0.1:1" in message and "Pr0xyPw" not in message
