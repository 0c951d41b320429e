# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Narrow unit tests of the shared client layer: settings, rate limiting, retries (credentials: test_credentials.py)."""

from __future__ import annotations

import pytest

from requests.exceptions import ReadTimeout, RequestException
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _credentials, _errors
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi, CvmApiError, RateLimiter, SettingsError
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_utils.fake_clock import FakeClock
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about


@pytest.mark.parametrize(
    "endpoint, expected",
    [
        (None, ("https", "cvm.tencentcloudapi.com")),
        ("", ("https", "cvm.tencentcloudapi.com")),
        ("cvm.ap-guangzhou.tencentcloudapi.com", ("https", "cvm.ap-guangzhou.tencentcloudapi.com")),
        ("127.0.0.1:8443", ("https", "127.0.0.1:8443")),
        ("http://127.0.0.1:8400", ("http", "127.0.0.1:8400")),
        ("https://cvm.example.internal/", ("https", "cvm.example.internal")),
    ],
)
def test_parse_endpoint_accepts(endpoint, expected):
    assert _client.parse_endpoint(endpoint) == expected


@pytest.mark.parametrize(
    "endpoint",
    [
        "ftp://cvm.tencentcloudapi.com",
        "http://",
        "http://host:99999",
        "http://host/path",
        "not a host",
        "ho\nst",
        "ins-\u00e9",
        "http://host:84\n00",
        "http://host\x00:8400",
        "host:port",
        "https://host?x=1",
    ],
)
def test_parse_endpoint_refuses_with_the_value(endpoint):
    with pytest.raises(SettingsError) as caught:
        _client.parse_endpoint(endpoint)
    assert repr(endpoint.strip()) in str(caught.value)


@pytest.mark.parametrize("region", ["ap-guangzhou", "na-siliconvalley", "ap-shanghai-fsi", "eu-frankfurt"])
def test_region_shapes_accepted(region):
    _client.check_region(region)


@pytest.mark.parametrize(
    "region, fragment",
    [
        (None, "TENCENTCLOUD_REGION"),
        ("", "TENCENTCLOUD_REGION"),
        ("Guangzhou", "'Guangzhou'"),
        ("ap_guangzhou", "'ap_guangzhou'"),
    ],
)
def test_region_refused(region, fragment):
    with pytest.raises(SettingsError) as caught:
        _client.check_region(region)
    assert fragment in str(caught.value)


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
    clock.now += 0.7  # the first request is still in flight...
    limiter.release(first)  # ...and answered at 100.7
    limiter.acquire()
    assert clock.now == pytest.approx(100.7 + 1.0 + RateLimiter.MARGIN, abs=0.02)


def test_rate_limiter_pause_holds_everyone():
    clock = FakeClock()
    limiter = RateLimiter(40, clock=clock, sleep=clock.sleep)
    limiter.pause(2.0)
    limiter.release(limiter.acquire())
    assert clock.now == pytest.approx(102.0)


class Connection:
    timeout = None


class Request:
    def __init__(self):
        self.conn = Connection()


class Hang:
    """An attempt that waits its whole read timeout for an answer that never comes (a hung endpoint)."""

    def __init__(self, clock):
        self.clock = clock

    def __call__(self, timeout):
        self.clock.now += timeout[1]
        raise TencentCloudSDKException("ClientNetworkError", "HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out. (read timeout=%s)" % timeout[1])


class Slow:
    """An attempt that takes `seconds`, then fails with `error` (or answers, when error is None)."""

    def __init__(self, clock, seconds, error=None):
        self.clock, self.seconds, self.error = clock, seconds, error

    def __call__(self, timeout):
        self.clock.now += min(self.seconds, sum(timeout))
        if self.error is not None:
            raise self.error
        return {"Response": {"RequestId": "req-slow"}}


class ScriptedClient:
    """Stands in for the SDK client: raises the scripted SDK exceptions, then answers; records each attempt's timeout."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0
        self.request = Request()
        self.timeouts = []

    def call_json(self, action, params):  # pylint: disable=unused-argument  # the SDK's signature
        self.calls += 1
        self.timeouts.append(self.request.conn.timeout)
        item = self.script.pop(0) if self.script else {"Response": {"RequestId": "req-ok"}}
        if callable(item):
            return item(self.request.conn.timeout)
        if isinstance(item, (TencentCloudSDKException, ValueError, RequestException)):
            raise item  # pylint: disable=raising-bad-type
        return item


def make_api(script, monkeypatch, **settings):
    """(CvmApi on a scripted SDK client and a fake clock, that client, the clock)."""
    clock = FakeClock()
    api = CvmApi(
        _credentials.sdk_credential.Credential("AKIDx", "secret"),
        "ap-guangzhou",
        endpoint="http://127.0.0.1:9",
        sleep=clock.sleep,
        rng=lambda low, high: high,
        clock=clock,
        **settings,
    )
    client = ScriptedClient(script(clock) if callable(script) else script)
    monkeypatch.setattr(api, "_sdk_client", lambda: client)
    monkeypatch.setattr(api, "_limiter", lambda action: RateLimiter(1000, clock=clock, sleep=clock.sleep))
    return api, client, clock


def sdk_error(code, message="boom", request_id="req-1"):
    return TencentCloudSDKException(code, message, request_id)


REFUSED = (
    "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: / (Caused by NewConnectionError(\"HTTPConnection("
    "host='127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] Connection refused\"))"
)
CONNECT_TIMEOUT = (
    "HTTPConnectionPool(host='10.255.255.1', port=80): Max retries exceeded with url: / (Caused by ConnectTimeoutError("
    "<HTTPConnection object>, 'Connection to 10.255.255.1 timed out. (connect timeout=10.0)'))"
)
NO_SUCH_HOST = (
    "HTTPSConnectionPool(host='no-such-host.invalid', port=443): Max retries exceeded with url: / (Caused by NameResolutionError("
    "\"HTTPSConnection(host='no-such-host.invalid', port=443): Failed to resolve 'no-such-host.invalid' ([Errno -2] Name or service not known)\"))"
)
RESET = "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"


def test_transient_errors_are_retried_with_growing_capped_delays(monkeypatch):
    api, client, clock = make_api([sdk_error("InternalError"), sdk_error("ServerNetworkError", b"<html>502</html>", None)], monkeypatch)
    assert api.call("DescribeInstances", {}, resend_safe=True) == {"RequestId": "req-ok"}
    assert client.calls == 3
    assert clock.sleeps == [0.25, 0.5]


@pytest.mark.parametrize("code", ["InternalError", "ServerNetworkError", "ClientNetworkError", "ResourceUnavailable"])
def test_ambiguous_failures_are_not_resent_by_default(monkeypatch, code):
    api, client, clock = make_api([sdk_error(code)], monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("AssociateInstancesKeyPairs", {})
    assert caught.value.code == code and client.calls == 1 and clock.sleeps == []


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "OperationDenied.InstanceOperationInProgress"])
def test_refusals_are_still_retried_without_ambiguous_retries(monkeypatch, code):
    """Throttled or busy: the request was refused, so resending it cannot apply it twice."""
    api, client, _clock = make_api([sdk_error(code)], monkeypatch)
    assert api.call("AssociateInstancesKeyPairs", {}, resend_safe=False) == {"RequestId": "req-ok"}
    assert client.calls == 2


@pytest.mark.parametrize(
    "code, retry",
    [
        ("RequestLimitExceeded", _errors.THROTTLED),
        ("RequestLimitExceeded.UinLimitExceeded", _errors.THROTTLED),
        ("InternalError", _errors.TRANSIENT),
        ("ClientNetworkError", _errors.TRANSIENT),
        ("OperationDenied.InstanceOperationInProgress", _errors.BUSY),
        ("MutexOperation.TaskRunning", _errors.BUSY),
    ],
)
def test_retryable_codes_give_up_after_their_cap(monkeypatch, code, retry):
    cap = _errors.MAX_ATTEMPTS[retry]
    api, client, clock = make_api([sdk_error(code, request_id="req-%d" % n) for n in range(cap + 5)], monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("AssociateInstancesKeyPairs", {}, resend_safe=True)
    assert client.calls == cap
    assert caught.value.attempts == cap
    assert caught.value.request_id == "req-%d" % (cap - 1)  # the last one, for support
    assert caught.value.deadline_reached is None
    first, limit = _client.BACKOFF[retry]
    assert clock.sleeps == [min(limit, first * 2**n) for n in range(cap - 1)]
    assert caught.value.elapsed == pytest.approx(sum(clock.sleeps))
    assert caught.value.gave_up_text() == "Gave up after %d attempts in %.1f s." % (cap, sum(clock.sleeps))


@pytest.mark.parametrize(
    "raw, code, message",
    [
        (
            "HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out. (read timeout=20.0)",
            "ClientNetworkError.Timeout",
            "could not reach http://127.0.0.1:9: no answer within 20.0 s",
        ),
        (CONNECT_TIMEOUT, "ClientNetworkError.Timeout", "could not reach http://127.0.0.1:9: no connection within 10.0 s"),
        (REFUSED, "ClientNetworkError.ConnectionRefused", "could not reach http://127.0.0.1:9: connection refused"),
        (NO_SUCH_HOST, "ClientNetworkError.HostNotFound", "could not reach http://127.0.0.1:9: the host name does not resolve"),
    ],
)
def test_unreachable_endpoints_are_named_and_tried_three_times(monkeypatch, raw, code, message):
    api, client, clock = make_api([sdk_error("ClientNetworkError", raw, None)] * 5, monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert (caught.value.code, caught.value.message, caught.value.request_id) == (code, message, None)
    assert client.calls == caught.value.attempts == _errors.max_attempts(code) == 3
    assert clock.sleeps == [0.25, 0.5]
    assert _errors.retry_class(code) == _errors.TRANSIENT


def test_other_network_errors_keep_the_transient_cap(monkeypatch):
    """A dropped or reset connection is the flaky network that retries are for: ten attempts, as before."""
    api, client, _clock = make_api([sdk_error("ClientNetworkError", RESET, None)] * 12, monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert caught.value.code == "ClientNetworkError.ConnectionDropped"
    assert caught.value.message.startswith("the connection to http://127.0.0.1:9 was closed after the request was sent")
    assert client.calls == caught.value.attempts == _errors.MAX_ATTEMPTS[_errors.TRANSIENT]


def test_three_timeouts_among_other_failures_end_the_call(monkeypatch):
    """The cap counts failures of the code, not attempts: two 502s do not use up the timeouts' three."""
    timeout = sdk_error("ClientNetworkError", "Read timed out. (read timeout=20.0)", None)
    script = [timeout, sdk_error("ServerNetworkError", b"", None), timeout, sdk_error("ServerNetworkError", b"", None), timeout, {}]
    api, client, _clock = make_api(script, monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert (caught.value.code, caught.value.attempts, client.calls) == ("ClientNetworkError.Timeout", 5, 5)


def test_each_attempt_splits_request_timeout_between_connecting_and_answering(monkeypatch):
    api, client, _clock = make_api([sdk_error("InternalError")], monkeypatch, request_timeout=30)
    api.call("DescribeInstances", {}, resend_safe=True)
    assert client.timeouts == [(10.0, 20.0), (10.0, 20.0)]
    api, client, _clock = make_api([], monkeypatch, request_timeout=3)
    api.call("DescribeInstances", {}, resend_safe=True)
    assert client.timeouts == [(1.0, 2.0)]


def test_hung_endpoint_at_the_defaults_fails_within_the_deadline(monkeypatch):
    """Each attempt waits out its read timeout: 20 s, 0.25 s backoff, 20 s, 0.5 s backoff, then the 19.25 s left, split."""
    api, client, clock = make_api(lambda clock: [Hang(clock)] * 10, monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert client.timeouts == [(10.0, 20.0), (10.0, 20.0), pytest.approx((19.25 / 3, 19.25 * 2 / 3))]
    assert clock.now - 100.0 == pytest.approx(40.75 + 19.25 * 2 / 3)
    assert caught.value.elapsed == pytest.approx(clock.now - 100.0)
    assert (caught.value.code, caught.value.attempts, caught.value.deadline_reached) == ("ClientNetworkError.Timeout", 3, None)
    assert caught.value.message == "could not reach http://127.0.0.1:9: no answer within 12.8 s"


def test_no_attempt_outlives_the_deadline_the_last_one_is_shortened(monkeypatch):
    api, client, clock = make_api(lambda clock: [Hang(clock)] * 10, monkeypatch, request_timeout=30, api_deadline=50)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    second = 50 - 20.25  # the second attempt already gets less than request_timeout
    third = second / 3 - 0.5  # what its connect share and the 0.5 s backoff leave
    assert client.timeouts == [(10.0, 20.0), pytest.approx((second / 3, second * 2 / 3)), pytest.approx((third / 3, third * 2 / 3))]
    assert clock.now - 100.0 == pytest.approx(20.25 + second * 2 / 3 + 0.5 + third * 2 / 3)
    assert clock.now - 100.0 < 50
    assert caught.value.attempts == 3


def test_no_retry_starts_without_a_second_left_of_the_deadline(monkeypatch):
    """Answers that take 4 s each: 4, backoff 0.25, 4, backoff 0.5 leave 1.25 s for a third attempt; then nothing is left."""

    def script(clock):
        return [Slow(clock, 4.0, sdk_error("InternalError", request_id="req-%d" % n)) for n in range(10)]

    api, client, clock = make_api(script, monkeypatch, request_timeout=30, api_deadline=10)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert client.timeouts[2] == pytest.approx((1.25 / 3, 1.25 * 2 / 3))
    assert (client.calls, caught.value.attempts, caught.value.deadline_reached, caught.value.request_id) == (3, 3, 10, "req-2")
    assert clock.sleeps == [0.25, 0.5]
    assert clock.now - 100.0 == pytest.approx(10.0)
    assert caught.value.gave_up_text() == "Gave up after 3 attempts in 10.0 s: api_deadline=10s leaves no time for another."


def test_a_deadline_shorter_than_request_timeout_caps_the_first_attempt(monkeypatch):
    api, client, clock = make_api(lambda clock: [Hang(clock)] * 3, monkeypatch, request_timeout=30, api_deadline=3)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert client.timeouts == [(1.0, 2.0)]
    assert (caught.value.attempts, caught.value.deadline_reached, clock.now - 100.0) == (1, 3, 2.0)
    assert caught.value.gave_up_text() == "Gave up after 1 attempt in 2.0 s: api_deadline=3s leaves no time for another."


def test_rate_limit_waits_and_busy_or_throttled_backoff_do_not_count_against_the_deadline(monkeypatch):
    """Ten busy answers sleep 55 s and twelve throttled ones 63.5 s: both far beyond a 5 s deadline, and both allowed."""
    busy = [sdk_error("OperationDenied.InstanceOperationInProgress")] * 9
    api, client, clock = make_api(busy, monkeypatch, api_deadline=5)
    assert api.call("AssociateInstancesKeyPairs", {}) == {"RequestId": "req-ok"}
    assert sum(clock.sleeps) == pytest.approx(1 + 2 + 4 + 8 * 6)
    api, client, clock = make_api([sdk_error("RequestLimitExceeded")] * 11, monkeypatch, api_deadline=5)
    assert api.call("DescribeInstances", {}, resend_safe=True) == {"RequestId": "req-ok"}
    assert client.calls == 12

    api, client, clock = make_api([], monkeypatch, api_deadline=5)
    limiter = RateLimiter(1, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr(api, "_limiter", lambda action: limiter)
    for _call in range(10):  # ten calls through a limiter of 1/s: the tenth waited 9 s in the queue, and still had its deadline
        api.call("DescribeInstances", {}, resend_safe=True)
    assert clock.now - 100.0 >= 9.0
    assert client.timeouts == [pytest.approx((5 / 3, 5 * 2 / 3))] * 10


def test_transient_backoff_counts_against_the_deadline(monkeypatch):
    api, _client, clock = make_api([sdk_error("InternalError", request_id="req-%d" % n) for n in range(10)], monkeypatch, api_deadline=5)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    # backoff 0.25 + 0.5 + 1 + 2 = 3.75 s used; 4 s more would leave less than a second.
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0]
    assert (caught.value.attempts, caught.value.deadline_reached, caught.value.request_id) == (5, 5, "req-4")


def test_a_body_that_stops_arriving_is_a_network_error(monkeypatch):
    api, _client, _clock = make_api([ReadTimeout("HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out.")] * 3, monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert (caught.value.code, caught.value.attempts) == ("ClientNetworkError.Timeout", 3)


@pytest.mark.parametrize(
    "code",
    [
        "AuthFailure.SignatureFailure",
        "AuthFailure.SecretIdNotFound",
        "InvalidInstanceId.Malformed",
        "InvalidKeyPairId.NotFound",
        "UnsupportedOperation.InstanceStateRunning",
        "UnsupportedOperation.InstanceOsWindows",
        "LimitExceeded.KeyPairLimit",
        "InvalidParameterValue.LimitExceeded",
    ],
)
def test_permanent_codes_fail_at_once(monkeypatch, code):
    api, client, clock = make_api([sdk_error(code)], monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("AssociateInstancesKeyPairs", {})
    assert (client.calls, clock.sleeps, caught.value.code, caught.value.attempts) == (1, [], code, 1)


def test_error_body_that_the_sdk_took_for_success_is_still_an_error(monkeypatch):
    answer = {"Response": {"Error": {"Code": "InternalError", "Message": "x"}, "RequestId": "req-9"}}
    api, client, _clock = make_api([answer, answer, {"Response": {"RequestId": "req-ok", "TotalCount": 0}}], monkeypatch)
    assert api.call("DescribeInstances", {}, resend_safe=True)["TotalCount"] == 0
    assert client.calls == 3


def test_non_api_answer_is_reported_not_raised_raw(monkeypatch):
    api, _client, _clock = make_api([ValueError("Expecting value")], monkeypatch)
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {}, resend_safe=True)
    assert caught.value.code == "InvalidResponse"
    assert "http://127.0.0.1:9" in caught.value.message


def test_throttling_pauses_the_action_limiter(monkeypatch):
    api, _client, clock = make_api([sdk_error("RequestLimitExceeded")], monkeypatch)
    limiter = RateLimiter(1000, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr(api, "_limiter", lambda action: limiter)
    api.call("DescribeInstances", {}, resend_safe=True)
    assert limiter._paused_until == pytest.approx(100.0 + 0.5)


def test_ca_bundle_must_exist(tmp_path):
    cred = _credentials.sdk_credential.Credential("AKIDx", "secret")
    with pytest.raises(SettingsError) as caught:
        CvmApi(cred, "ap-guangzhou", ca_bundle=str(tmp_path / "missing.pem"))
    assert "missing.pem" in str(caught.value)


@pytest.mark.parametrize("ca_bundle", [None, ""])
def test_default_is_https_with_certificate_verification(ca_bundle):
    import certifi  # pylint: disable=import-outside-toplevel  # requests' CA bundle, read where it is compared

    api = CvmApi(_credentials.sdk_credential.Credential("AKIDx", "secret"), "ap-guangzhou", ca_bundle=ca_bundle)
    assert api.endpoint_url == "https://cvm.tencentcloudapi.com"
    connection = api._sdk_client().request.conn
    assert connection.certification == certifi.where()  # requests' verify= the public CA bundle, never "" or False


def test_named_ca_bundle_is_what_requests_verifies_with(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    api = CvmApi(_credentials.sdk_credential.Credential("AKIDx", "secret"), "ap-guangzhou", endpoint="https://127.0.0.1:8443", ca_bundle=str(bundle))
    assert api._sdk_client().request.conn.certification == str(bundle)


class RenewableCredential:
    """Stands in for _credentials.AssumedRoleCredential: counts ensure_fresh() and renewals after a refused token."""

    def __init__(self):
        self.generation = 1
        self.renewed_after = []

    def get_credential_info(self):
        return ("AKIDtmp%d" % self.generation, "key", "token%d" % self.generation)

    def ensure_fresh(self):
        return self.generation

    def renew_after_token_failure(self, generation):
        self.renewed_after.append(generation)
        self.generation += 1


@pytest.mark.parametrize("resend_safe", [True, False])
def test_a_token_refused_as_expired_is_renewed_once_and_the_call_sent_again(monkeypatch, resend_safe):
    """A refusal is an answer decided before the action: even a write (resend_safe=False) is safe to send again."""
    api, client, clock = make_api([sdk_error(_client.TOKEN_FAILURE)], monkeypatch)
    api.credential = RenewableCredential()
    assert api.call("AssociateInstancesKeyPairs", {}, resend_safe=resend_safe) == {"RequestId": "req-ok"}
    assert client.calls == 2 and api.credential.renewed_after == [1] and clock.sleeps == []


def test_a_token_refused_again_after_renewal_fails(monkeypatch):
    api, client, _clock = make_api([sdk_error(_client.TOKEN_FAILURE), sdk_error(_client.TOKEN_FAILURE, request_id="req-2")], monkeypatch)
    api.credential = RenewableCredential()
    with pytest.raises(CvmApiError) as caught:
        api.call("DescribeInstances", {})
    assert caught.value.code == _client.TOKEN_FAILURE and caught.value.request_id == "req-2" and client.calls == 2


def test_a_token_refused_for_fixed_keys_is_not_retried(monkeypatch):
    api, client, _clock = make_api([sdk_error(_client.TOKEN_FAILURE)], monkeypatch)
    with pytest.raises(CvmApiError):
        api.call("DescribeInstances", {})
    assert client.calls == 1
