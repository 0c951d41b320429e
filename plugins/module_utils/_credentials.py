# -*- coding: utf-8 -*-
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

Layer 4 (lookups and credentials). May import: _client.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import threading
import time

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

def resolve_credential(secret_id=None, secret_key=None, security_token=None, profile=None, warn=None):
    """The identity of the chain: explicit keys, a tccli profile, the SDK's profile file, the instance role, TKE OIDC."""
    if secret_id or secret_key:
        if profile:
            raise _client.SettingsError("Both secret_id/secret_key and profile %s are set: give one of them (unset TENCENTCLOUD_SECRET_ID and "
                                        "TENCENTCLOUD_SECRET_KEY to use the profile)." % _shown(profile))
        if not (secret_id and secret_key):
            missing = "secret_key (TENCENTCLOUD_SECRET_KEY)" if secret_id else "secret_id (TENCENTCLOUD_SECRET_ID)"
            raise _client.SettingsError("Only half of an API key was given: %s is missing. Set both, or neither to use a profile or the "
                                        "instance role." % missing)
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

    def get_credential(self):
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

    def __init__(self, name, warn=None, folder=TCCLI_FOLDER):
        if not isinstance(name, str) or not _PROFILE_NAME_RE.match(name):
            raise _client.SettingsError("profile %s is not a tccli profile name: use letters, digits, '.', '_' and '-', like default or prod."
                                        % _shown(name))
        self.name = name
        self.folder = os.path.expanduser(folder)
        self._warn = warn

    def path(self, kind):
        return os.path.join(self.folder, "%s.%s" % (self.name, kind))

    def _read(self, kind, required):
        path = self.path(kind)
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except FileNotFoundError:
            if required:
                raise _client.SettingsError("profile %r: %s does not exist. Write it with `tccli configure --profile %s`, or check profile "
                                            "(TENCENTCLOUD_PROFILE)." % (self.name, path, self.name)) from None
            return {}
        except (OSError, ValueError) as exc:
            # Neither the text nor the JSON error (which quotes the text) is shown: the file holds secrets.
            raise _client.SettingsError("profile %r: %s cannot be read as tccli's JSON (%s). Write it again with `tccli configure --profile %s`."
                                        % (self.name, path, type(exc).__name__, self.name)) from None
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
            self._warn("The tccli profile file %s can be read by other users (mode %04o, folder %04o): it holds a secret key. Make it "
                       "private: chmod 700 %s; chmod 600 %s." % (path, stat.S_IMODE(mode), stat.S_IMODE(folder_mode), os.path.dirname(path), path))

    def keys(self):
        """(secretId, secretKey, token or None) of the profile."""
        document = self._read("credential", required=True)
        if document.get("type") not in (None, "", "default"):
            kind = _shown(document.get("type"))
            raise _client.SettingsError("profile %r has credentials of type %s, which only tccli itself can renew: give the profile "
                                        "API keys (tccli configure --profile %s), or use secret_id/secret_key." % (self.name, kind, self.name))
        secret_id, secret_key = document.get("secretId"), document.get("secretKey")
        if not (isinstance(secret_id, str) and secret_id and isinstance(secret_key, str) and secret_key):
            raise _client.SettingsError("profile %r: %s has no secretId and secretKey. Set them with `tccli configure --profile %s`."
                                        % (self.name, self.path("credential"), self.name))
        token = document.get("token")
        return secret_id, secret_key, token if isinstance(token, str) and token else None

    def role(self):
        """(role-arn, role-session-name) the profile names for tccli's own role assumption, or (None, None)."""
        document = self._read("credential", required=True)
        arn, session = document.get("role-arn"), document.get("role-session-name")
        return (arn if isinstance(arn, str) and arn else None), (session if isinstance(session, str) and session else None)

    def region(self):
        """The region of <name>.configure, or None."""
        document = self._read("configure", required=False)
        system = document.get("_sys_param")
        region = system.get("region") if isinstance(system, dict) else document.get("region")  # older tccli: at the top
        return region if isinstance(region, str) and region else None


def profile_region(profile, warn=None):
    """The region a tccli profile names (for when region is not set), or None."""
    return TccliProfile(profile, warn).region() if profile else None


# -- assuming a role --------------------------------------------------------------------------------------------------

def sts_endpoint_for(endpoint, sts_endpoint=None):
    """STS's endpoint: sts_endpoint if given; else derived from the CVM endpoint (cvm.X -> sts.X; any other, like the
    emulator's, serves STS itself); else the public one."""
    if sts_endpoint:
        return sts_endpoint
    if not endpoint:
        return STS_DEFAULT_ENDPOINT
    text = endpoint.strip()
    scheme, sep, host = text.rpartition("://")
    if host.startswith("cvm."):
        return "%s%s%s" % (scheme, sep, "sts." + host[len("cvm."):])
    return text


def check_role_settings(role_arn, session_name, duration, external_id):
    """Raise SettingsError naming the bad value and the fix; nothing is sent before these pass."""
    if not isinstance(role_arn, str) or not _ROLE_ARN_RE.match(role_arn):
        raise _client.SettingsError("role_arn %s is not a CAM role ARN: it looks like qcs::cam::uin/100000000001:roleName/ops (the role's "
                                    "page in the CAM console shows it)." % _shown(role_arn))
    if not isinstance(session_name, str) or not _SESSION_NAME_RE.match(session_name):
        raise _client.SettingsError("role_session_name %s is not valid: 2 to 128 letters, digits and =,.@_- (for example %s)."
                                    % (_shown(session_name), DEFAULT_SESSION_NAME))
    if isinstance(duration, bool) or not isinstance(duration, int) or not 0 < duration <= MAX_ROLE_DURATION:
        raise _client.SettingsError("role_duration must be a whole number of seconds from 1 to %d (12 hours, the API's maximum), got %s."
                                    % (MAX_ROLE_DURATION, _shown(duration)))
    if external_id and (not isinstance(external_id, str) or not _EXTERNAL_ID_RE.match(external_id)):  # '' (AWX's empty input) is unset
        # Not a secret in CAM's model, but shown only by its length: it is often handled like one.
        raise _client.SettingsError("role_external_id (%d characters) is not valid: 2 to 128 letters, digits and =,.@:/-."
                                    % len(str(external_id)))


class AssumedRoleCredential:
    """Temporary keys of a CAM role, from STS AssumeRole through `sts_api` (a CvmApi for STS), renewed before they expire.

    The renewal follows the expiry the answer states (ExpiredTime): keys are renewed once less than
    min(MAX_REFRESH_MARGIN, half their lifetime) is left. Safe to share between threads: one renews, the others wait.
    """

    def __init__(self, sts_api, role_arn, session_name=DEFAULT_SESSION_NAME, duration=DEFAULT_ROLE_DURATION, external_id=None,
                 clock=time.monotonic, wall_clock=time.time):
        self._sts = sts_api
        self.role_arn = role_arn
        self._params = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": duration}
        if external_id:
            self._params["ExternalId"] = external_id
        self._duration = duration
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.RLock()
        self._keys = None  # (TmpSecretId, TmpSecretKey, Token)
        self._renew_at = 0.0
        self.generation = 0  # counts renewals, so a refused token renews once however many threads saw it refused
        self.renewals = 0

    @property
    def rate_limit_identity(self):
        """What the shared rate limit is keyed by: the role, which outlives each of its temporary keys."""
        return self.role_arn

    @property
    def secret_id(self):
        return self.get_credential_info()[0]

    def get_credential_info(self):
        """(secret id, secret key, token), as the SDK signs with. Renewal is ensure_fresh's, called by the client
        before each attempt, outside the SDK (a failure to renew must not pass for the attempt's own)."""
        with self._lock:
            if self._keys is None:
                self._renew()
            return self._keys

    def ensure_fresh(self):
        """Renew the keys when they are due; return their generation (for renew_after_token_failure)."""
        with self._lock:
            if self._keys is None or self._clock() >= self._renew_at:
                self._renew()
            return self.generation

    def renew_after_token_failure(self, generation):
        """The keys of `generation` were refused as expired: renew them, unless another thread already did."""
        with self._lock:
            if generation == self.generation:
                self._renew()

    def _renew(self):
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
            raise _client.CvmApiError("AssumeRole", "InvalidResponse", "the STS endpoint %s answered AssumeRole without Credentials and "
                                      "ExpiredTime" % self._sts.endpoint_url, answer.get("RequestId")) from None
        now = self._clock()
        # Seconds left as the answer states them, by this host's clock; never more than was asked for (a slow clock).
        lifetime = min(max(expired_time - self._wall_clock(), 0.0), float(self._duration))
        self._keys = fresh
        self._renew_at = now + lifetime - min(MAX_REFRESH_MARGIN, lifetime / 2.0)
        self.generation += 1
        self.renewals += 1


def connect(options, region, warn=None):
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
    sts_api = _client.CvmApi(base, region, endpoint=sts_endpoint_for(options.get("endpoint"), options.get("sts_endpoint")),
                             request_timeout=options.get("request_timeout") or _client.DEFAULT_REQUEST_TIMEOUT,
                             ca_bundle=options.get("ca_bundle"), api_deadline=options.get("api_deadline") or _client.DEFAULT_API_DEADLINE,
                             warn=warn, allow_insecure_http=bool(options.get("allow_insecure_http")),
                             service=STS_SERVICE, version=STS_VERSION)
    return AssumedRoleCredential(sts_api, role_arn, session_name, duration, options.get("role_external_id"))
