# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: where the credentials come from, and assuming a CAM role.

The chain, first match wins: the options secret_id/secret_key (or their environment variables), a tccli
profile (`profile`: ~/.tccli/<name>.credential), the SDK's profile file ~/.tencentcloud/credentials, the
CAM role of the CVM instance, TKE's OIDC role. With role_arn, the identity found so assumes that role
through STS AssumeRole, and AssumedRoleCredential keeps the temporary keys fresh for long runs.

It sits above the client because the STS call goes through the client's machinery (endpoint, TLS,
timeouts, api_deadline, retries, error table); the client only calls the credential object it is given
(get_credential_info, ensure_fresh, renew_after_token_failure), never this file.

It is also the one connection builder: connection_argument_spec() (the options and the environment variables they fall
back to, with AWX's empty variables meaning "not set") and build_clients() (options -> one client per region, one
credential for all) serve the modules (_base), the inventory plugin, the event source and STS alike.

Layer 4 (lookups and credentials). May import: _client.
"""

from __future__ import annotations

import decimal
import json
import os
import re
import socket
import stat
import threading
import time

from typing import Any, Callable
from collections.abc import Mapping, Sequence

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator, ValidationResult
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client

try:
    from tencentcloud.common import credential as sdk_credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
except ImportError:

    class TencentCloudSDKException(Exception):  # type: ignore[no-redef]
        """Stands in for the SDK's exception so that except clauses still parse (_client.HAS_SDK says why)."""


STS_SERVICE = "sts"
STS_VERSION = "2018-08-13"
STS_DEFAULT_ENDPOINT = "sts.tencentcloudapi.com"
DEFAULT_SESSION_NAME = "ansible-tencentcloud-cvm"
DEFAULT_ROLE_DURATION = 7200
MAX_ROLE_DURATION = 43200  # the API's documented maximum of DurationSeconds
# Temporary keys are renewed when less than this is left of them, or half their lifetime for short sessions.
MAX_REFRESH_MARGIN = 300.0

# The API's rules (AssumeRole in the SDK's sts/v20180813/models.py): 2 to 128 characters of these.
_SESSION_NAME_RE = re.compile(r"[\w+=,.@-]{2,128}\Z", re.ASCII)
_EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]{2,128}\Z", re.ASCII)
_ROLE_ARN_RE = re.compile(r"qcs::cam::uin/[0-9]+:role(Name)?/\S+\Z")
_PROFILE_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
TCCLI_FOLDER = "~/.tccli"

NO_CREDENTIALS_MSG = (
    "No Tencent Cloud credentials found. Set the options secret_id and secret_key (or the environment variables "
    "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, with security_token/TENCENTCLOUD_SECURITY_TOKEN for temporary keys), "
    "or name a tccli profile with profile (TENCENTCLOUD_PROFILE), or write them to ~/.tencentcloud/credentials under [default] "
    "as secret_id and secret_key, or run on a CVM instance with a CAM role."
)


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- the base identity ------------------------------------------------------------------------------------------------


def resolve_credential(
    secret_id: str | None = None,
    secret_key: str | None = None,
    security_token: str | None = None,
    profile: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> Any:
    """The identity of the chain: explicit keys, a tccli profile, the SDK's profile file, the instance role, TKE OIDC."""
    if secret_id or secret_key:
        if profile:
            raise _client.SettingsError(
                "Both secret_id/secret_key and profile %s are set: give one of them (unset TENCENTCLOUD_SECRET_ID and "
                "TENCENTCLOUD_SECRET_KEY to use the profile)." % _shown(profile)
            )
        if not (secret_id and secret_key):
            missing = "secret_key (TENCENTCLOUD_SECRET_KEY)" if secret_id else "secret_id (TENCENTCLOUD_SECRET_ID)"
            raise _client.SettingsError(
                "Only half of an API key was given: %s is missing. Set both, or neither to use a profile or the instance role." % missing
            )
        return _key(secret_id, secret_key, security_token)
    if profile:
        return _key(*TccliProfile(profile, warn).keys())
    for provider in _fallback_providers():
        try:
            found = provider.get_credential()
        except (TencentCloudSDKException, OSError, ValueError, KeyError):
            found = None
        if found is not None:
            return found
    raise _client.SettingsError(NO_CREDENTIALS_MSG)


def _key(secret_id, secret_key, token=None):
    try:
        return sdk_credential.Credential(secret_id, secret_key, token or None)
    except TencentCloudSDKException as exc:
        # The SDK's own checks (empty, spaces); its messages never include the values.
        raise _client.SettingsError("The credentials are not usable: %s" % exc.message) from None


def _fallback_providers():
    yield sdk_credential.ProfileCredential()
    yield _BoundedCvmRoleCredential()
    if os.environ.get("TKE_REGION"):
        yield sdk_credential.DefaultTkeOIDCRoleArnProvider()


class _BoundedCvmRoleCredential:
    """The SDK's instance-role lookup, with a short timeout: off Tencent Cloud the metadata host never answers."""

    def get_credential(self) -> Any:
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(2)
        try:
            return sdk_credential.CVMRoleCredential().get_credential()
        finally:
            socket.setdefaulttimeout(previous)


# -- tccli profiles ---------------------------------------------------------------------------------------------------


class TccliProfile:
    """tccli's files of one profile: <name>.credential (JSON: secretId, secretKey, token, role-arn, role-session-name)
    and <name>.configure (JSON: _sys_param.region), as `tccli configure --profile <name>` writes them."""

    def __init__(self, name: object, warn: Callable[[str], None] | None = None, folder: str = TCCLI_FOLDER) -> None:
        if not isinstance(name, str) or not _PROFILE_NAME_RE.match(name):
            raise _client.SettingsError("profile %s is not a tccli profile name: use letters, digits, '.', '_' and '-', like default or prod." % _shown(name))
        self.name = name
        self.folder = os.path.expanduser(folder)
        self._warn = warn

    def path(self, kind: str) -> str:
        return os.path.join(self.folder, "%s.%s" % (self.name, kind))

    def _read(self, kind, required):
        path = self.path(kind)
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except FileNotFoundError:
            if required:
                raise _client.SettingsError(
                    "profile %r: %s does not exist. Write it with `tccli configure --profile %s`, or check profile "
                    "(TENCENTCLOUD_PROFILE)." % (self.name, path, self.name)
                ) from None
            return {}
        except (OSError, ValueError) as exc:
            # Neither the text nor the JSON error (which quotes the text) is shown: the file holds secrets.
            raise _client.SettingsError(
                "profile %r: %s cannot be read as tccli's JSON (%s). Write it again with `tccli configure --profile %s`."
                % (self.name, path, type(exc).__name__, self.name)
            ) from None
        if not isinstance(document, dict):
            raise _client.SettingsError("profile %r: %s is not a JSON object as tccli writes it." % (self.name, path))
        if kind == "credential":
            self._warn_if_readable_by_others(path)
        return document

    def _warn_if_readable_by_others(self, path):
        """tccli keeps the folder private (0700); a file other users can still reach and read gets a warning."""
        if self._warn is None:
            return
        mode, folder_mode = os.stat(path).st_mode, os.stat(os.path.dirname(path)).st_mode
        readable = (mode & stat.S_IROTH and folder_mode & stat.S_IXOTH) or (mode & stat.S_IRGRP and folder_mode & stat.S_IXGRP)
        if readable:
            self._warn(
                "The tccli profile file %s can be read by other users (mode %04o, folder %04o): it holds a secret key. Make it "
                "private: chmod 700 %s; chmod 600 %s." % (path, stat.S_IMODE(mode), stat.S_IMODE(folder_mode), os.path.dirname(path), path)
            )

    def keys(self) -> tuple[str, str, str | None]:
        """(secretId, secretKey, token or None) of the profile."""
        document = self._read("credential", required=True)
        if document.get("type") not in (None, "", "default"):
            kind = _shown(document.get("type"))
            raise _client.SettingsError(
                "profile %r has credentials of type %s, which only tccli itself can renew: give the profile "
                "API keys (tccli configure --profile %s), or use secret_id/secret_key." % (self.name, kind, self.name)
            )
        secret_id, secret_key = document.get("secretId"), document.get("secretKey")
        if not (isinstance(secret_id, str) and secret_id and isinstance(secret_key, str) and secret_key):
            raise _client.SettingsError(
                "profile %r: %s has no secretId and secretKey. Set them with `tccli configure --profile %s`." % (self.name, self.path("credential"), self.name)
            )
        token = document.get("token")
        return secret_id, secret_key, token if isinstance(token, str) and token else None

    def role(self) -> tuple[str | None, str | None]:
        """(role-arn, role-session-name) the profile names for tccli's own role assumption, or (None, None)."""
        document = self._read("credential", required=True)
        arn, session = document.get("role-arn"), document.get("role-session-name")
        return (arn if isinstance(arn, str) and arn else None), (session if isinstance(session, str) and session else None)

    def region(self) -> str | None:
        """The region of <name>.configure, or None."""
        document = self._read("configure", required=False)
        system = document.get("_sys_param")
        region = system.get("region") if isinstance(system, dict) else document.get("region")  # older tccli: at the top
        return region if isinstance(region, str) and region else None


def profile_region(profile: str | None, warn: Callable[[str], None] | None = None) -> str | None:
    """The region a tccli profile names (for when region is not set), or None."""
    return TccliProfile(profile, warn).region() if profile else None


# -- assuming a role --------------------------------------------------------------------------------------------------


def sts_endpoint_for(endpoint: str | None, sts_endpoint: str | None = None) -> str:
    """STS's endpoint: sts_endpoint if given; else derived from the CVM endpoint (cvm.X -> sts.X; any other, like the
    emulator's, serves STS itself); else the public one."""
    if sts_endpoint:
        return sts_endpoint
    if not endpoint:
        return STS_DEFAULT_ENDPOINT
    text = endpoint.strip()
    scheme, sep, host = text.rpartition("://")
    if host.startswith("cvm."):
        return "%s%s%s" % (scheme, sep, "sts." + host[len("cvm.") :])
    return text


def check_role_settings(role_arn: object, session_name: object, duration: object, external_id: object) -> None:
    """Raise SettingsError naming the bad value and the fix; nothing is sent before these pass."""
    if not isinstance(role_arn, str) or not _ROLE_ARN_RE.match(role_arn):
        raise _client.SettingsError(
            "role_arn %s is not a CAM role ARN: it looks like qcs::cam::uin/100000000001:roleName/ops (the role's "
            "page in the CAM console shows it)." % _shown(role_arn)
        )
    if not isinstance(session_name, str) or not _SESSION_NAME_RE.match(session_name):
        raise _client.SettingsError(
            "role_session_name %s is not valid: 2 to 128 letters, digits and =,.@_- (for example %s)." % (_shown(session_name), DEFAULT_SESSION_NAME)
        )
    if isinstance(duration, bool) or not isinstance(duration, int) or not 0 < duration <= MAX_ROLE_DURATION:
        raise _client.SettingsError(
            "role_duration must be a whole number of seconds from 1 to %d (12 hours, the API's maximum), got %s." % (MAX_ROLE_DURATION, _shown(duration))
        )
    if external_id and (not isinstance(external_id, str) or not _EXTERNAL_ID_RE.match(external_id)):  # '' (AWX's empty input) is unset
        # Not a secret in CAM's model, but shown only by its length: it is often handled like one.
        raise _client.SettingsError("role_external_id (%d characters) is not valid: 2 to 128 letters, digits and =,.@:/-." % len(str(external_id)))


class AssumedRoleCredential:
    """Temporary keys of a CAM role, from STS AssumeRole through `sts_api` (a CvmApi for STS), renewed before they expire.

    The renewal follows the expiry the answer states (ExpiredTime): keys are renewed once less than
    min(MAX_REFRESH_MARGIN, half their lifetime) is left. Safe to share between threads: one renews, the others wait.
    """

    def __init__(
        self,
        sts_api: _client.CvmApi,
        role_arn: str,
        session_name: str = DEFAULT_SESSION_NAME,
        duration: int = DEFAULT_ROLE_DURATION,
        external_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._sts = sts_api
        self.role_arn = role_arn
        self._params = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": duration}
        if external_id:
            self._params["ExternalId"] = external_id
        self._duration = duration
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.RLock()
        self._keys: tuple[str, str, str] | None = None  # (TmpSecretId, TmpSecretKey, Token)
        self._renew_at = 0.0
        self.generation = 0  # counts renewals, so a refused token renews once however many threads saw it refused
        self.renewals = 0

    @property
    def rate_limit_identity(self) -> str:
        """What the shared rate limit is keyed by: the role, which outlives each of its temporary keys."""
        return self.role_arn

    @property
    def secret_id(self) -> str:
        return self.get_credential_info()[0]

    def get_credential_info(self) -> tuple[str, str, str]:
        """(secret id, secret key, token), as the SDK signs with. Renewal is ensure_fresh's, called by the client
        before each attempt, outside the SDK (a failure to renew must not pass for the attempt's own)."""
        with self._lock:
            return self._keys if self._keys is not None else self._renew()

    def ensure_fresh(self) -> int:
        """Renew the keys when they are due; return their generation (for renew_after_token_failure)."""
        with self._lock:
            if self._keys is None or self._clock() >= self._renew_at:
                self._renew()
            return self.generation

    def renew_after_token_failure(self, generation: int) -> None:
        """The keys of `generation` were refused as expired: renew them, unless another thread already did."""
        with self._lock:
            if generation == self.generation:
                self._renew()

    def _renew(self) -> tuple[str, str, str]:
        try:
            answer = self._sts.call("AssumeRole", dict(self._params), resend_safe=True)  # a resent AssumeRole only mints another session
        except _client.CvmApiError as exc:
            exc.during = "assuming the CAM role %s (role_arn)" % self.role_arn
            raise
        try:
            keys = answer["Credentials"]
            fresh = (keys["TmpSecretId"], keys["TmpSecretKey"], keys["Token"])
            expired_time = int(answer["ExpiredTime"])
        except (KeyError, TypeError, ValueError):
            raise _client.CvmApiError(
                "AssumeRole",
                "InvalidResponse",
                "the STS endpoint %s answered AssumeRole without Credentials and ExpiredTime" % self._sts.endpoint_url,
                answer.get("RequestId"),
            ) from None
        now = self._clock()
        # Seconds left as the answer states them, by this host's clock; never more than was asked for (a slow clock).
        lifetime = min(max(expired_time - self._wall_clock(), 0.0), float(self._duration))
        self._keys = fresh
        self._renew_at = now + lifetime - min(MAX_REFRESH_MARGIN, lifetime / 2.0)
        self.generation += 1
        self.renewals += 1
        return fresh


def connect(options: Mapping[str, Any], region: str | None, warn: Callable[[str], None] | None = None) -> Any:
    """The credential for a client: the chain's identity, or the role it assumes when options['role_arn'] is set.

    options: the connection options (secret_id, secret_key, security_token, profile, role_arn, role_session_name,
    role_duration, role_external_id, endpoint, sts_endpoint, ca_bundle, request_timeout, api_deadline, allow_insecure_http).
    Raises SettingsError before any request when a value is unusable.
    """
    role_arn, session_name = options.get("role_arn"), options.get("role_session_name")
    if options.get("profile") and not role_arn and not (options.get("secret_id") or options.get("secret_key")):
        role_arn, profile_session = TccliProfile(options["profile"], warn).role()
        session_name = session_name or profile_session
    session_name = session_name or DEFAULT_SESSION_NAME
    duration = options.get("role_duration") or DEFAULT_ROLE_DURATION
    if role_arn:
        check_role_settings(role_arn, session_name, duration, options.get("role_external_id"))
        _client.parse_endpoint(sts_endpoint_for(options.get("endpoint"), options.get("sts_endpoint")))
    base = resolve_credential(options.get("secret_id"), options.get("secret_key"), options.get("security_token"), options.get("profile"), warn)
    if not role_arn:
        return base
    # The shared limit (rate_limit_url) keeps the CVM actions' budget; AssumeRole keeps this machine's own limit.
    sts_api = _new_client(
        options,
        region,
        base,
        warn,
        endpoint=sts_endpoint_for(options.get("endpoint"), options.get("sts_endpoint")),
        service=STS_SERVICE,
        version=STS_VERSION,
        rate_limit_url=None,
        rate_limit_password=None,
        rate_limit_ca_bundle=None,
    )
    return AssumedRoleCredential(sts_api, role_arn, session_name, duration, options.get("role_external_id"))


# -- the one connection builder ---------------------------------------------------------------------------------------


def env_fallback(*names: str) -> str:
    """The value of the first of these environment variables that is set and not empty (an argument spec fallback).

    An empty variable means "not set" for every option: AWX injects one for each credential input left empty, and
    ansible-core's own env_fallback would pass '' on, which an int or bool option refuses. The environment is only read.
    """
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    raise AnsibleFallbackNotFound


def connection_argument_spec() -> dict[str, dict[str, Any]]:
    """The options documented once in the tencentcloud.cvm.connection doc fragment, with their environment variables."""
    return dict(
        # The id is not secret (like an AWS access key id): showing it makes output useful.
        secret_id=dict(type="str", no_log=False, fallback=(env_fallback, ["TENCENTCLOUD_SECRET_ID"])),
        secret_key=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_SECRET_KEY"])),
        security_token=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_SECURITY_TOKEN"])),
        profile=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_PROFILE"])),
        role_arn=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_ROLE_ARN"])),
        role_session_name=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_ROLE_SESSION_NAME"])),
        role_duration=dict(type="int", default=DEFAULT_ROLE_DURATION, fallback=(env_fallback, ["TENCENTCLOUD_ROLE_DURATION"])),
        role_external_id=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_ROLE_EXTERNAL_ID"])),
        sts_endpoint=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_STS_ENDPOINT"])),
        region=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_REGION"])),
        endpoint=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_ENDPOINT"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["TENCENTCLOUD_CA_BUNDLE"])),
        request_timeout=dict(type="int", default=_client.DEFAULT_REQUEST_TIMEOUT),
        api_deadline=dict(type="int", default=_client.DEFAULT_API_DEADLINE, fallback=(env_fallback, ["TENCENTCLOUD_API_DEADLINE"])),
        allow_insecure_http=dict(type="bool", default=False, fallback=(env_fallback, ["TENCENTCLOUD_ALLOW_INSECURE_HTTP"])),
        rate_limit_url=dict(type="str", no_log=False, fallback=(env_fallback, ["TENCENTCLOUD_RATE_LIMIT_URL"])),
        rate_limit_password=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_RATE_LIMIT_PASSWORD"])),
        rate_limit_ca_bundle=dict(type="path", fallback=(env_fallback, ["TENCENTCLOUD_RATE_LIMIT_CA_BUNDLE"])),
    )


# The options counted in seconds, bounded by _client.MAX_SECONDS (modules add their own wait_timeout).
SECONDS_OPTIONS = ("request_timeout", "api_deadline", "wait_timeout")


def unconvertible_numbers(spec: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any]) -> dict[str, str]:
    """{option: text} for int options given as text (in `given`, else by their environment fallback) that ansible-core cannot
    turn into a number safely.

    ansible-core converts '1e9' through decimal.Decimal: 'Infinity' then escapes its error handling (OverflowError, a
    crash), and an exponent like '1e999999999' builds an integer of a billion digits (a hang). Found here first, they are
    refused with a message instead (number_refusal).
    """
    found = {}
    for name, settings in spec.items():
        if settings.get("type") != "int":
            continue
        value = given.get(name)
        if value is None and "fallback" in settings:
            try:
                value = settings["fallback"][0](*settings["fallback"][1])  # env_fallback: what the option would get
            except AnsibleFallbackNotFound:
                value = None
        if isinstance(value, str):
            try:
                number = decimal.Decimal(value.strip())
            except decimal.DecimalException:
                continue  # ansible-core refuses it with its own clear message
            if not number.is_finite() or number.adjusted() > 30:
                found[name] = value
    return found


def number_refusal(name: str, text: str) -> str:
    """The sentence refusing an option's number that cannot be converted safely (see unconvertible_numbers)."""
    problem = _client.seconds_problem(name, text) if name in SECONDS_OPTIONS else None
    return problem or "%s must be a whole number, got %s." % (name, repr(text)[:40])


def validate_options(spec: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any]) -> tuple[ValidationResult, list[str]]:
    """Options for a plugin (inventory, event source) as ansible-core checks a module's: environment fallbacks, defaults,
    types. Returns (ansible-core's ValidationResult, refusals of numbers it cannot convert safely); those are parsed as text."""
    unconvertible = unconvertible_numbers(spec, given)
    safe = {name: dict(settings, type="str") if name in unconvertible else dict(settings) for name, settings in spec.items()}
    result = ArgumentSpecValidator(safe).validate(dict(given))
    return result, [number_refusal(name, text) for name, text in sorted(unconvertible.items())]


def default_region(options: Mapping[str, Any], warn: Callable[[str], None] | None = None) -> str | None:
    """options['region'], else the region of the tccli profile options['profile'] names, else None."""
    return options.get("region") or profile_region(options.get("profile"), warn)


def _seconds(options: Mapping[str, Any], name: str) -> Any:
    """request_timeout or api_deadline of the options, or its default when not given (None); any other value is checked."""
    value = options.get(name)
    return (_client.DEFAULT_REQUEST_TIMEOUT if name == "request_timeout" else _client.DEFAULT_API_DEADLINE) if value is None else value


def _new_client(options: Mapping[str, Any], region: str | None, credential: Any, warn: Callable[[str], None] | None, **overrides: Any) -> _client.CvmApi:
    """The one place a client is made: the connection options as CvmApi takes them, `overrides` for STS."""
    settings = dict(
        endpoint=options.get("endpoint"),
        request_timeout=_seconds(options, "request_timeout"),
        api_deadline=_seconds(options, "api_deadline"),
        ca_bundle=options.get("ca_bundle"),
        allow_insecure_http=bool(options.get("allow_insecure_http")),
        rate_limit_url=options.get("rate_limit_url"),
        rate_limit_password=options.get("rate_limit_password"),
        rate_limit_ca_bundle=options.get("rate_limit_ca_bundle"),
    )
    settings.update(overrides)
    return _client.CvmApi(credential, region, warn=warn, **settings)


def build_clients(options: Mapping[str, Any], regions: Sequence[str], warn: Callable[[str], None] | None = None) -> dict[str, _client.CvmApi]:
    """{region: CvmApi} for the connection options (see connection_argument_spec), one credential shared by every region.

    Every setting is checked for every region first (the client's own check_settings), then the credential is found (or the
    role assumed, see connect) once: an assumed role's keys are renewed once for all regions. Raises SettingsError, naming the
    bad value and the fix, before any request.
    """
    checked: Sequence[str | None] = regions or [None]  # none: check_settings says region is required
    for region in checked:
        _client.check_settings(
            region,
            options.get("endpoint"),
            _seconds(options, "request_timeout"),
            _seconds(options, "api_deadline"),
            options.get("ca_bundle"),
            options.get("rate_limit_url"),
            options.get("rate_limit_ca_bundle"),
        )
    credential = connect(options, regions[0], warn=warn)
    return {region: _new_client(options, region, credential, warn) for region in regions}
