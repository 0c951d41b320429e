# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the CVM API client every module uses.

It owns what no module should do on its own: which endpoint and TLS settings
to use, the client-side rate limit per action, retries with jittered
exponential backoff for the codes worth retrying within a deadline per call,
renewing temporary keys that expire (through the credential object it is
given, see _credentials), and turning every SDK failure into one exception
type, CvmApiError. Where the credentials come from is _credentials' concern.

Layer 3 (client). May import: _ids, _errors, _shared_limiter (and the standard library).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import re
import threading
import time
import traceback
from collections import deque
from typing import Any, Callable
from urllib.parse import urlsplit

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _errors
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter

try:
    from tencentcloud.common.common_client import CommonClient
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from requests.exceptions import RequestException  # the SDK's HTTP library; raised raw while it reads a body
    import tenacity  # the retry loop (see CvmApi.call and docs/architecture.md, "Retries")
except ImportError:
    HAS_SDK = False
    SDK_IMPORT_ERROR: str | None = traceback.format_exc()

    class TencentCloudSDKException(Exception):  # type: ignore[no-redef]
        """Stands in for the SDK's exception so that except clauses still parse."""

    class RequestException(Exception):  # type: ignore[no-redef]
        """Stands in for requests' exception so that except clauses still parse."""
else:
    HAS_SDK = True
    SDK_IMPORT_ERROR = None
    # The SDK logs whole requests (Authorization and X-TC-Token headers included) at DEBUG.
    logging.getLogger("tencentcloud_sdk_common").setLevel(logging.WARNING)

SDK_REQUIREMENT = "tencentcloud-sdk-python-common, tencentcloud-sdk-python-cvm and tenacity"
DEFAULT_ENDPOINT = "cvm.tencentcloudapi.com"
SERVICE = "cvm"
API_VERSION = "2017-03-12"
# The code of a security token that is invalid or expired: an answer, decided before the action (nothing was applied).
TOKEN_FAILURE = "AuthFailure.TokenFailure"

# Documented per-action limits (requests per second); unlisted actions get DEFAULT_RATE. AssumeRole is STS's.
RATE_LIMITS = {"DescribeInstances": 40, "AssumeRole": 600}
DEFAULT_RATE = 10

# Backoff per retry class: (first delay, cap), seconds; doubled each attempt, with jitter.
BACKOFF = {_errors.THROTTLED: (0.5, 8.0), _errors.TRANSIENT: (0.25, 4.0), _errors.BUSY: (1.0, 8.0)}

DEFAULT_REQUEST_TIMEOUT = 30
DEFAULT_API_DEADLINE = 60
# The largest value of any timeout or deadline option (request_timeout, api_deadline, wait_timeout): one day. Larger
# values are typing mistakes, and would overflow the time arithmetic of the SDK and of the sockets.
MAX_SECONDS = 86400
# requests applies one timeout to connecting and then again to waiting for the answer, so an attempt
# given T could take 2T. Each attempt's budget is split instead: connecting gets a third, at most this.
CONNECT_TIMEOUT_CAP = 10.0
# No attempt starts with less than this left of the call's deadline: it could hardly succeed.
MIN_ATTEMPT_SECONDS = 1.0

_REGION_RE = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+\Z")
_HOST_PORT_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?\Z")
_IPV6_PORT_RE = re.compile(r"\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?\Z")
# What travels over plain HTTP, for the warning (see docs/reliability.md, "Transport rules").
IN_CLEAR = (
    "the signed Authorization header (with the SecretId), the security token (X-TC-Token) of temporary credentials, "
    "and every request and answer, including the private key of a key pair cvm_keypair creates"
)
_WARNED_HTTP: set[object] = set()  # endpoints this process has already warned about


class CvmApiError(Exception):
    """A failed API call, after any retries, with everything a user needs to act on it."""

    def __init__(self, action: str, code: str, message: str, request_id: str | None = None, attempts: int = 1) -> None:
        super().__init__("%s: %s" % (code, message))
        self.action = action
        self.code = code
        self.message = message
        self.request_id = request_id
        self.attempts = attempts
        self.elapsed: float | None = None  # seconds from the first attempt to giving up (rate-limit waits included)
        self.deadline_reached: int | None = None  # api_deadline (seconds) when it, not an attempt cap, ended the retries
        self.during: str | None = None  # what failed on the way, when not the action itself ("assuming the CAM role ...")

    def describe(self, attempting: str, region: str | None, endpoint_url: str) -> str:
        """The one wording of a failure, for modules and plugins: what was attempted, what went wrong, what to do."""
        during = "%s failed: " % self.during if self.during else ""
        msg = "Failed to %s: %s%s (%s)." % (attempting, during, self.message.rstrip("."), self.code)
        if self.gave_up_text():
            msg += " " + self.gave_up_text()
        msg += " " + self.hint(region=repr(region), endpoint=endpoint_url)
        if self.request_id:
            msg += " RequestId: %s." % self.request_id
        return msg

    def gave_up_text(self) -> str:
        """'Gave up after N attempts in X s...' when the call was retried or cut short, else ''."""
        if self.attempts <= 1 and not self.deadline_reached:
            return ""
        text = "Gave up after %d attempt%s" % (self.attempts, "" if self.attempts == 1 else "s")
        if self.elapsed is not None:
            text += " in %.1f s" % self.elapsed
        if self.deadline_reached:
            text += ": api_deadline=%ds leaves no time for another" % self.deadline_reached
        return text + "."

    def hint(self, **context: str) -> str:
        return _errors.hint(self.code, action=self.action, **context)

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "request_id": self.request_id, "action": self.action}


class SettingsError(ValueError):
    """A connection setting is unusable; raised before any request is sent."""


_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*\Z")


def split_endpoint(endpoint: object) -> tuple[str, str, str]:
    """(scheme and its '://', user info, the rest) of an endpoint's text: the one reading of where user info is.

    The scheme is the text before the first '://' when that text is a scheme's name, else there is none. User info is
    everything after the scheme up to the last '@' of the whole text (an endpoint never holds an '@', so whatever comes
    before one may be a password, even behind a '/', a second '://' or a '?'). The parser refuses any user info, the
    masker hides it and modules mask it in their invocation: all through this function, so they cannot disagree.
    """
    text = str(endpoint)
    scheme, sep, rest = text.partition("://")
    if not sep or not _SCHEME_RE.match(scheme):
        scheme, sep, rest = "", "", text
    user_info, at, host = rest.rpartition("@")
    return scheme + sep, user_info + at, host


def endpoint_user_info(endpoint: object) -> str:
    """The user info of an endpoint ('' when there is none), '@' excluded; see split_endpoint."""
    return split_endpoint(endpoint)[1][:-1]


def mask_endpoint(endpoint: object) -> str:
    """The endpoint text as it may be shown: any user info (see split_endpoint) replaced by ***, at most 120 characters."""
    scheme, user_info, rest = split_endpoint(endpoint)
    shown = scheme + ("***@" if user_info else "") + rest
    return shown if len(shown) <= 120 else shown[:117] + "..."


def parse_endpoint(endpoint: str | None) -> tuple[str, str]:
    """Return (protocol, host[:port]) for an endpoint option.

    `host[:port]` means HTTPS; a URL starting with http:// or https:// is used as given. Messages never show user info.
    """
    if not endpoint:
        return "https", DEFAULT_ENDPOINT
    endpoint = endpoint.strip()
    shown = mask_endpoint(endpoint)
    if endpoint_user_info(endpoint):
        raise SettingsError(
            "endpoint %r holds user info (user:password@), which the CVM API never uses: remove it (the password is "
            "not shown). Credentials go in secret_id and secret_key." % shown
        )
    if any(ord(char) <= 32 or ord(char) == 127 for char in endpoint):
        # urlsplit would drop tabs and newlines silently: refuse rather than guess what was meant.
        raise SettingsError("endpoint %r holds a space or a control character: give scheme://host[:port] or host[:port] alone." % shown)
    if "://" in endpoint:
        try:
            parts = urlsplit(endpoint)
        except ValueError:
            raise SettingsError("endpoint %r is not a valid http(s)://host[:port] URL, e.g. https://cvm.tencentcloudapi.com." % shown) from None
        if parts.scheme not in ("http", "https"):
            raise SettingsError("endpoint %r: the scheme must be http:// or https://, or give host[:port] for HTTPS." % shown)
        host = parts.netloc
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise SettingsError("endpoint %r: give only scheme://host[:port], without path, query or user." % shown)
        protocol = parts.scheme
    else:
        protocol, host = "https", endpoint
    name = _split_host(host)[0]
    if (
        not (_HOST_PORT_RE.match(host) or _IPV6_PORT_RE.match(host))
        or not _valid_port(host)
        or len(name) > 253
        or any(len(label) > 63 for label in name.split("."))
    ):  # DNS limits: refused here, never looked up
        raise SettingsError("endpoint %r is not a valid host[:port] or http(s)://host[:port] URL, e.g. cvm.tencentcloudapi.com." % shown)
    return protocol, host


def _split_host(host):
    """(name or address, port text) of host[:port] or [v6]:port."""
    if host.startswith("["):
        address, rest = host[1:].partition("]")[::2]
        return address, rest[1:]
    name, port = host.partition(":")[::2]
    return name, port


def _valid_port(host):
    port = _split_host(host)[1] or "443"
    return 0 < int(port) < 65536


def is_loopback(host: str) -> bool:
    """Whether host[:port] names this machine by its text: localhost, 127.0.0.0/8 or ::1 (no name is looked up)."""
    name = _split_host(host)[0].lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_http_warning(protocol: str, host: str) -> str | None:
    """The warning for a plain-HTTP endpoint that is not this machine, or None."""
    if protocol != "http" or is_loopback(host):
        return None
    return (
        "endpoint http://%s is plain HTTP to another machine: %s travel unencrypted, readable and changeable by anyone on the "
        "way. Use https:// (or host[:port]), or set allow_insecure_http: true (TENCENTCLOUD_ALLOW_INSECURE_HTTP) on a network you "
        "trust to silence this warning." % (host, IN_CLEAR)
    )


def proxy_for(protocol: str, host: str) -> str | None:
    """The proxy requests to protocol://host go through, as the SDK and requests choose it, or None.

    Two layers decide, in this order. The SDK passes requests an explicit proxy: for http, http_proxy/HTTP_PROXY, for https,
    https_proxy/HTTPS_PROXY, unless the text host[:port] appears in NO_PROXY/no_proxy (a plain substring test). Without one,
    requests itself takes the environment's proxies (urllib.request.getproxies(): HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, in
    either case) unless NO_PROXY names the host (requests.utils.should_bypass_proxies, urllib's proxy_bypass).
    """
    env = os.environ
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy")
    name = "%s_proxy" % protocol
    if not (no_proxy and host in no_proxy):
        chosen = env.get(name) or env.get(name.upper())
        if chosen:
            return chosen
    url = "%s://%s/" % (protocol, host)
    try:
        from requests.utils import get_environ_proxies, select_proxy  # pylint: disable=import-outside-toplevel  # only with the SDK
    except ImportError:
        from urllib.request import getproxies, proxy_bypass  # pylint: disable=import-outside-toplevel  # no requests: as urllib

        if proxy_bypass(_split_host(host)[0]):
            return None
        proxies = getproxies()
        return proxies.get(protocol) or proxies.get("all")
    return select_proxy(url, get_environ_proxies(url, no_proxy=no_proxy))


def proxied_http_warning(protocol: str, host: str, proxy: str | None) -> str | None:
    """The warning for plain-HTTP requests that leave through a proxy (even to this machine), or None."""
    if protocol != "http" or not proxy:
        return None
    return (
        "requests to http://%s go through the proxy %s (from the proxy environment variables HTTP_PROXY, http_proxy or ALL_PROXY) "
        "in plain HTTP: the proxy reads %s. Use https:// (or host[:port]), or, if no proxy should see this traffic, list %s in "
        "NO_PROXY (the SDK matches host:port as written, requests the host alone)."
        % (host, mask_endpoint(proxy), IN_CLEAR, " and ".join(sorted({host, _split_host(host)[0]}, key=len, reverse=True)))
    )


def seconds_problem(name: str, value: object) -> str | None:
    """Why a timeout or deadline option is unusable (it must be a whole number of seconds from 1 to MAX_SECONDS), or None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SECONDS:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        return "%s must be a whole number of seconds from 1 to %d (one day), got %s." % (name, MAX_SECONDS, shown)
    return None


def check_seconds(name: str, value: object) -> None:
    problem = seconds_problem(name, value)
    if problem:
        raise SettingsError(problem)


def check_region(region: object) -> None:
    if not region:
        raise SettingsError("region is required: set the option region or the environment variable TENCENTCLOUD_REGION, e.g. ap-guangzhou.")
    if not isinstance(region, str) or not _REGION_RE.match(region):
        raise SettingsError("region %r is not a Tencent Cloud region name: use a name like ap-guangzhou or na-siliconvalley." % region)


def check_rate_limit_url(url: str | None, ca_bundle: str | None = None) -> tuple[str | None, str | None]:
    """(url, the url as it may be shown) of the rate_limit_url option, or (None, None) when it is not set.

    Raise SettingsError, before any request, for a scheme other than redis://, rediss:// or unix://, for a space or a control
    character, or for a CA bundle that is not a file. The password (user info) is never shown: mask_endpoint hides it."""
    if url is None or not str(url).strip():
        return None, None
    url = str(url).strip()
    shown = mask_endpoint(url)
    if any(ord(char) <= 32 or ord(char) == 127 for char in url):
        raise SettingsError(
            "rate_limit_url %r holds a space or a control character: give redis://host[:port][/db], rediss://host[:port][/db] "
            "or unix:///path/to/socket." % shown
        )
    problem = _shared_limiter.redis_url_problem(url)
    if problem:
        raise SettingsError("rate_limit_url %r cannot be used: %s (e.g. redis://redis.example.com:6379/0)." % (shown, problem))
    if ca_bundle and not os.path.isfile(ca_bundle):
        raise SettingsError("rate_limit_ca_bundle %r does not exist or is not a file: give the path of a PEM file of CA certificates." % ca_bundle)
    return url, shown


def check_settings(
    region: str | None,
    endpoint: str | None = None,
    request_timeout: object = DEFAULT_REQUEST_TIMEOUT,
    api_deadline: object = DEFAULT_API_DEADLINE,
    ca_bundle: str | None = None,
    rate_limit_url: str | None = None,
    rate_limit_ca_bundle: str | None = None,
) -> tuple[str, str, str | None, str | None]:
    """Every check of a client's settings, in the order their messages are given: (protocol, host[:port], rate_limit_url,
    rate_limit_url as it may be shown). Raises SettingsError naming the first unusable value; sends nothing.

    CvmApi runs it when it is made; the connection builder (_credentials.build_clients) runs it first for every region, so a
    bad setting is reported before any credential is looked up.
    """
    check_seconds("request_timeout", request_timeout)
    check_seconds("api_deadline", api_deadline)
    check_region(region)
    protocol, host = parse_endpoint(endpoint)
    url, shown = check_rate_limit_url(rate_limit_url, rate_limit_ca_bundle)
    if ca_bundle and not os.path.isfile(ca_bundle):
        raise SettingsError("ca_bundle %r does not exist or is not a file: give the path of a PEM file of CA certificates." % ca_bundle)
    return protocol, host, url, shown


class RateLimiter:
    """At most `rate` requests in any window of one second (plus a margin), shared by the threads of a process.

    A sliding window, not a token bucket: the API counts requests per second,
    so a full bucket plus a refill would exceed it within one window.
    A request counts from when it was sent until one window after its answer came
    back: the server counted it somewhere in between, so the window is measured
    from the latest moment it can have started, and slow answers never make the
    next burst arrive early.
    """

    # Dating a request by its answer already errs on the safe side; the margin only absorbs clock granularity.
    MARGIN = 0.01
    IN_FLIGHT_POLL = 0.01

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._slots: deque[list[float | None]] = deque()  # [answered_at or None while in flight], oldest first
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> list[float | None]:
        """Wait for room in the window; return the slot to hand to release() once the answer is in."""
        window = 1.0 + self.MARGIN
        while True:
            with self._lock:
                now = self._clock()
                while self._slots and self._slots[0][0] is not None and now - self._slots[0][0] >= window:
                    self._slots.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._slots) < self.rate:
                    slot: list[float | None] = [None]
                    self._slots.append(slot)
                    return slot
                if wait <= 0:
                    oldest = self._slots[0][0]
                    wait = self.IN_FLIGHT_POLL if oldest is None else window - (now - oldest)
            self._sleep(max(wait, 0.001))

    def release(self, slot: list[float | None]) -> None:
        with self._lock:
            slot[0] = self._clock()

    def pause(self, seconds: float) -> None:
        """The server said we were too fast: hold every thread back for a moment."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


class CvmApi:  # pylint: disable=too-many-instance-attributes  # one per connection option, read on every call
    """Calls CVM API actions with rate limiting, retries and uniform errors. Safe to share between threads.

    service/version name another Tencent Cloud API on the same machinery (_credentials uses STS's AssumeRole).
    """

    def __init__(  # pylint: disable=unknown-option-value,too-many-arguments,too-many-positional-arguments,too-many-locals  # the connection options
        self,
        credential: Any,
        region: str | None,
        endpoint: str | None = None,
        request_timeout: int = DEFAULT_REQUEST_TIMEOUT,
        ca_bundle: str | None = None,
        api_deadline: int = DEFAULT_API_DEADLINE,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[float, float], float] = random.uniform,
        clock: Callable[[], float] = time.monotonic,
        warn: Callable[[str], None] | None = None,
        allow_insecure_http: bool = False,
        service: str = SERVICE,
        version: str = API_VERSION,
        rate_limit_url: str | None = None,
        rate_limit_password: str | None = None,
        rate_limit_ca_bundle: str | None = None,
    ) -> None:
        self.protocol, self.host, self.rate_limit_url, self.rate_limit_shown = check_settings(
            region, endpoint, request_timeout, api_deadline, ca_bundle, rate_limit_url, rate_limit_ca_bundle
        )
        self.region = region
        self.credential = credential
        self.service = service
        self.version = version
        self.request_timeout = request_timeout
        self.api_deadline = api_deadline
        # Never pass an empty value on: the SDK hands it to requests as `verify`, where "" turns verification off.
        self.ca_bundle = ca_bundle or None
        self._rate_limit_password = rate_limit_password or None
        self._rate_limit_ca_bundle = rate_limit_ca_bundle or None
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._limiters: dict[str, Any] = {}
        self._limiters_lock = threading.Lock()
        self._warn = warn  # callable(message), for what the user should hear about (the shared rate limit being off)
        self._local = threading.local()
        insecure = insecure_http_warning(self.protocol, self.host)
        if insecure and not allow_insecure_http and warn is not None and self.host not in _WARNED_HTTP:
            _WARNED_HTTP.add(self.host)  # once per run, however many clients
            warn(insecure)
        proxy = proxy_for(self.protocol, self.host)
        self.proxy = mask_endpoint(proxy) if proxy else None  # as it may be shown: named in connection errors
        proxied = proxied_http_warning(self.protocol, self.host, proxy)
        # Not silenced by allow_insecure_http: a proxy set for the whole machine (as AWX can) is easily not noticed.
        if proxied and warn is not None and ("proxy", self.host) not in _WARNED_HTTP:
            _WARNED_HTTP.add(("proxy", self.host))
            warn(proxied)

    @property
    def endpoint_url(self) -> str:
        return "%s://%s" % (self.protocol, self.host)

    def call(self, action: str, params: dict[str, Any], resend_safe: bool = False) -> dict[str, Any]:
        """Send one action; return its Response dict. Raise CvmApiError when it fails for good.

        resend_safe: whether sending the request twice does no harm. A TRANSIENT failure (InternalError, 5xx, dropped
        connection, timeout) may have taken effect, so it is resent only when the caller says so: reads pass True; every
        write states False, and its caller settles such a failure by reading (nothing is resent blindly by default).
        Refusals that prove nothing was done (THROTTLED, BUSY) are retried either way.

        Retries stop at the retry class's attempt cap, at the code's own cap (MAX_FAILURES_BY_CODE),
        or when the call's api_deadline could not hold another attempt. The deadline counts the time
        spent waiting for answers and the backoff after transient errors; waiting for the rate limiter,
        after throttling and for a busy instance's operation does not count (their attempt caps bound
        them), so a queue of thousands of requests in a big run never eats any one call's deadline.
        """
        attempts = _Attempts(self, action, params, resend_safe)
        # tenacity runs the loop; _Attempts decides (retry), how long to wait (wait) and how to wait (sleep).
        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception(attempts.retry), wait=attempts.wait, sleep=attempts.sleep)
        try:
            return retrying(attempts.attempt)
        except CvmApiError as error:
            if error is not attempts.error:
                raise  # not the action's answer (renewing the temporary keys failed): as it is
            raise self._given_up(error, attempts.count, attempts.started, attempts.deadline_reached) from None

    def _fresh_credential(self):
        """Renew temporary keys that are about to expire (_credentials.AssumedRoleCredential); return their generation."""
        ensure_fresh = getattr(self.credential, "ensure_fresh", None)
        return ensure_fresh() if ensure_fresh is not None else None

    def _given_up(self, error, attempts, started, deadline_reached=False):
        error.attempts = attempts
        error.elapsed = self._clock() - started
        error.deadline_reached = self.api_deadline if deadline_reached else None
        return error

    def _attempt_timeout(self, remaining):
        """(connect, read) seconds for requests: together at most request_timeout and what is left of the deadline."""
        budget = max(min(float(self.request_timeout), remaining), MIN_ATTEMPT_SECONDS)
        connect = min(CONNECT_TIMEOUT_CAP, budget / 3.0)
        return (connect, budget - connect)

    def _send(self, action, params, timeout):
        client = self._sdk_client()
        # The SDK fixes its timeout when the client is made; each attempt gets its own (see _attempt_timeout).
        client.request.conn.timeout = timeout
        try:
            body = client.call_json(action, params)
        except TencentCloudSDKException as exc:
            code = exc.code or "ClientError"
            if code == "ClientNetworkError":
                code, message = _describe_network_error(str(exc.message or ""), self.endpoint_url, timeout, self.proxy)
            else:
                message = _describe_sdk_message(exc, self.endpoint_url)
            raise CvmApiError(action, code, message, exc.requestId) from None
        except RequestException as exc:
            # The SDK wraps what fails while sending; a body that stops arriving fails later, unwrapped.
            code, message = _describe_network_error(str(exc), self.endpoint_url, timeout, self.proxy)
            raise CvmApiError(action, code, message) from None
        except (ValueError, KeyError, TypeError) as exc:
            # A 200 answer that is not the API's JSON: a wrong endpoint (a web page, a proxy).
            message = "the endpoint %s did not answer with %s API JSON (%s)" % (self.endpoint_url, self.service.upper(), type(exc).__name__)
            raise CvmApiError(action, "InvalidResponse", message) from None
        response = body.get("Response") if isinstance(body, dict) else None
        if not isinstance(response, dict):
            raise CvmApiError(action, "InvalidResponse", "the endpoint %s answered without a Response object" % self.endpoint_url)
        if "Error" in response:
            # The SDK only recognises errors sent as exactly application/json; never take one for a success.
            err = response["Error"] or {}
            raise CvmApiError(action, err.get("Code", "UnknownError"), err.get("Message", ""), response.get("RequestId"))
        return response

    def _backoff(self, retry, attempts):
        """Exponential from the class's first delay up to its cap, with jitter: between half of it and all of it."""
        delay = exponential_delay(*BACKOFF[retry], attempts)
        return self._rng(delay / 2, delay)

    def _limiter(self, action):
        with self._limiters_lock:
            if action not in self._limiters:
                # One limit per action for every process of this user with the same account, region and endpoint (forks).
                rate = RATE_LIMITS.get(action, DEFAULT_RATE)
                # Temporary keys change on renewal: they name a stable identity for the limit (the role) instead.
                identity = getattr(self.credential, "rate_limit_identity", None) or getattr(self.credential, "secret_id", None)
                self._limiters[action] = _shared_limiter.make_limiter(
                    identity,
                    self.region,
                    self.endpoint_url,
                    action,
                    rate,
                    1.0 + RateLimiter.MARGIN,
                    lambda: RateLimiter(rate, sleep=self._sleep),
                    warn=self._warn,
                    sleep=self._sleep,
                    url=self.rate_limit_url,
                    password=self._rate_limit_password,
                    ca_bundle=self._rate_limit_ca_bundle,
                    shown_url=self.rate_limit_shown,
                )
            return self._limiters[action]

    def _sdk_client(self):
        # One SDK client per thread: the SDK does not promise its client is thread-safe.
        client = getattr(self._local, "client", None)
        if client is None:
            http_profile = HttpProfile(
                protocol=self.protocol, endpoint=self.host, reqTimeout=self.request_timeout, certification=self.ca_bundle, keepAlive=True
            )
            client = CommonClient(self.service, self.version, self.credential, self.region, ClientProfile(httpProfile=http_profile, language="en-US"))
            self._local.client = client
        return client


class _AttemptNumber:
    """What tenacity's wait strategies read of a retry's state: the number of the attempt that failed."""

    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number


def exponential_delay(first: float, cap: float, attempt: int) -> float:
    """first, doubled after each failed attempt (attempt counts from 1), at most cap: tenacity's wait_exponential."""
    return tenacity.wait_exponential(multiplier=first, max=cap)(_AttemptNumber(attempt))  # type: ignore[arg-type]  # reads attempt_number only


class _Attempts:
    """One CvmApi.call's retry policy and state, as tenacity's callbacks: attempt() sends once, retry() decides, wait() and
    sleep() wait. Retries stop at the retry class's attempt cap, at the code's own cap (MAX_FAILURES_BY_CODE), or when the
    call's api_deadline could not hold another attempt (see CvmApi.call)."""

    def __init__(self, api: CvmApi, action: str, params: dict[str, Any], resend_safe: bool) -> None:
        self.api = api
        self.action = action
        self.params = params
        self.resend_safe = resend_safe
        self.limiter = api._limiter(action)  # pylint: disable=protected-access
        self.started = api._clock()  # pylint: disable=protected-access
        self.used = 0.0  # seconds counted against api_deadline
        self.count = 0  # attempts sent
        self.failures: dict[str, int] = {}  # code -> failures of this call
        self.renewed = False  # a temporary key refused as expired is renewed once per call
        self.generation: Any = None
        self.error: CvmApiError | None = None  # the last answer that was a failure
        self.delay = 0.0
        self.throttled = False
        self.deadline_reached = False

    def attempt(self) -> dict[str, Any]:
        """Send the call once: its answer, or the SDK's error for retry() to judge."""
        api = self.api
        self.count += 1
        slot = self.limiter.acquire()
        try:
            # Temporary keys about to expire are renewed first; a failure to renew is raised as it is (never retried here).
            self.generation = api._fresh_credential()  # pylint: disable=protected-access
            sent = api._clock()  # pylint: disable=protected-access
            try:
                return api._send(self.action, self.params, api._attempt_timeout(api.api_deadline - self.used))  # pylint: disable=protected-access
            except CvmApiError as exc:
                self.error = exc
                raise
            finally:
                self.used += api._clock() - sent  # pylint: disable=protected-access
        finally:
            self.limiter.release(slot)

    def retry(self, error: BaseException) -> bool:
        """Whether to send again after `error`; sets the delay (wait) first."""
        if error is not self.error:
            return False
        code = self.error.code
        self.failures[code] = self.failures.get(code, 0) + 1
        credential = self.api.credential
        if code == TOKEN_FAILURE and not self.renewed and hasattr(credential, "renew_after_token_failure"):
            # The token expired between signing and the server's check. The refusal is an answer decided before the
            # action, so nothing was applied and even a write is safe to send again with renewed keys.
            self.renewed = True
            credential.renew_after_token_failure(self.generation)
            self.delay, self.throttled = 0.0, False
            return True
        retry = _errors.retry_class(code, self.action)
        if (
            retry is None
            or self.count >= _errors.MAX_ATTEMPTS[retry]
            or self.failures[code] >= _errors.max_attempts(code, self.action)
            or (retry == _errors.TRANSIENT and not self.resend_safe)
        ):
            return False
        delay = self.api._backoff(retry, self.count)  # pylint: disable=protected-access
        counted = delay if retry == _errors.TRANSIENT else 0.0
        if self.api.api_deadline - self.used - counted < MIN_ATTEMPT_SECONDS:
            self.deadline_reached = True
            return False
        self.used += counted
        self.delay, self.throttled = delay, retry == _errors.THROTTLED
        return True

    def wait(self, retry_state: Any) -> float:  # pylint: disable=unused-argument  # decided by retry()
        return self.delay

    def sleep(self, seconds: float) -> None:
        if self.throttled:
            self.limiter.pause(seconds)  # the server said we were too fast: every thread of the limit waits
        if seconds:
            self.api._sleep(seconds)  # pylint: disable=protected-access


def _describe_network_error(raw, endpoint_url, timeout, proxy=None):
    """(code, message) for a failure to talk to the endpoint, named by what happened; requests' wording is long and unstable.

    Through a proxy, the message names it (its user info masked): the failure may be the proxy's."""
    code, message = _network_error(_masked_urls(raw), endpoint_url, timeout)
    if proxy:
        message += " (through the proxy %s, from the proxy environment variables; NO_PROXY lists hosts to reach directly)" % proxy
    return code, message


_URL_USER_INFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@'\"]*@")


def _masked_urls(text):
    """requests' wording can quote the proxy URL: any user info in a URL of it becomes ***."""
    return _URL_USER_INFO_RE.sub(r"\1***@", text)


def _network_error(raw, endpoint_url, timeout):
    text = " ".join(raw.split())
    lowered = text.lower()
    if "wrong_version_number" in lowered or "wrong version number" in lowered or "record layer failure" in lowered:
        return (
            "ClientNetworkError.NotTls",
            "could not reach %s: the TLS handshake got an answer that is not TLS (the server there speaks plain HTTP?)" % endpoint_url,
        )
    if "certificate_verify_failed" in lowered:
        return "ClientNetworkError.CertificateVerifyFailed", "could not reach %s: %s" % (endpoint_url, text[:300])
    if "connect timeout" in lowered or "connecttimeout" in lowered:
        return "ClientNetworkError.Timeout", "could not reach %s: no connection within %.1f s" % (endpoint_url, timeout[0])
    if "timed out" in lowered:
        return "ClientNetworkError.Timeout", "could not reach %s: no answer within %.1f s" % (endpoint_url, timeout[1])
    if "connection refused" in lowered or "errno 111" in lowered:
        return "ClientNetworkError.ConnectionRefused", "could not reach %s: connection refused" % endpoint_url
    if any(
        marker in lowered for marker in ("failed to resolve", "name or service not known", "nodename nor servname", "name resolution", "getaddrinfo failed")
    ):
        return "ClientNetworkError.HostNotFound", "could not reach %s: the host name does not resolve" % endpoint_url
    if (
        "remote end closed connection without response" in lowered
        or "connection aborted" in lowered
        or "connection reset by peer" in lowered
        or "errno 104" in lowered
    ):
        return (
            "ClientNetworkError.ConnectionDropped",
            "the connection to %s was closed after the request was sent, before any answer: the request may or may not have taken effect" % endpoint_url,
        )
    return "ClientNetworkError", "could not reach %s: %s" % (endpoint_url, text[:300])


def _describe_sdk_message(exc, endpoint_url):
    message = exc.message
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    message = " ".join(str(message or "").split())
    if exc.code == "ServerNetworkError":
        return "HTTP error from %s: %s" % (endpoint_url, message[:200] or "(empty body)")
    return message
