# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulated STS (service sts, version 2018-08-13): AssumeRole mints temporary keys with a token and an expiry,
and a CAM-like table of roles says who may assume each role and in which regions the role may act.
May import: constants, errors, params, helpers.
"""

import re
import secrets
import time

from .constants import DEFAULT_REGION
from .errors import ApiError
from .helpers import iso_time
from .params import optional, required

STS_SERVICE = "sts"
STS_VERSION = "2018-08-13"
DEFAULT_ACCOUNT = "100000000001"
DEFAULT_ROLE_ARN = "qcs::cam::uin/%s:roleName/cvm-emulator-ops" % DEFAULT_ACCOUNT
DEFAULT_DURATION = 7200
TMP_SECRET_KEY_PREFIX = "emuTmpKey"
TMP_TOKEN_PREFIX = "emuTmpToken"
MAX_DURATION = 43200

# AssumeRole's parameters in api.json's terms (tests/emulator_tests/test_contract.py compares them); Tag is params.INPUT_OBJECTS'.
ASSUME_ROLE_PARAMS = {
    "RoleArn": required("string", "string"),
    "RoleSessionName": required("string", "string"),
    "DurationSeconds": optional("int", "uint64"),
    "Policy": optional("string", "string"),
    "ExternalId": optional("string", "string"),
    "Tags": optional("list", "Tag"),
    "SourceIdentity": optional("string", "string"),
    "SerialNumber": optional("string", "string"),
    "TokenCode": optional("string", "string"),
}

_ROLE_ARN_RE = re.compile(r"qcs::cam::uin/([0-9]+):role(?:Name)?/(\S+)\Z")
_SESSION_NAME_RE = re.compile(r"[\w+=,.@-]{2,128}\Z", re.ASCII)


def default_roles():
    """One role that any known key may assume, acting in every region, for up to the API's 12 hours."""
    return {DEFAULT_ROLE_ARN: {"principals": ["*"], "regions": ["*"], "max_session_seconds": MAX_DURATION, "external_id": None}}


def check_roles(value):
    """The roles table of PATCH /_emulator/config: {arn: {principals, regions, max_session_seconds, external_id}}; a message or None."""
    if not isinstance(value, dict):
        return "roles must be an object {role_arn: {principals, regions, max_session_seconds, external_id}}"
    for arn, role in value.items():
        if not _ROLE_ARN_RE.match(arn):
            return "role %r is not a role ARN like %s" % (arn, DEFAULT_ROLE_ARN)
        if not isinstance(role, dict) or set(role) - {"principals", "regions", "max_session_seconds", "external_id"}:
            return "role %s: give principals, regions, max_session_seconds and external_id only" % arn
        for name in ("principals", "regions"):
            if not isinstance(role.get(name, ["*"]), list) or not all(isinstance(item, str) for item in role.get(name, ["*"])):
                return "role %s: %s must be a list of strings (\"*\" for any)" % (arn, name)
        seconds = role.get("max_session_seconds", MAX_DURATION)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 < seconds <= MAX_DURATION:
            return "role %s: max_session_seconds must be a whole number from 1 to %d" % (arn, MAX_DURATION)
        if role.get("external_id") is not None and not isinstance(role["external_id"], str):
            return "role %s: external_id must be a string or null" % arn
    return None


class StsApi:
    """AssumeRole over the World's credentials: temporary keys are added to them with their token, role and expiry."""

    def __init__(self, world, config):
        self.world = world
        self.config = config

    def assume_role(self, caller_id, params):
        arn = params["RoleArn"]
        if not _ROLE_ARN_RE.match(arn):
            raise ApiError("InvalidParameter.ResouceError", "The RoleArn `%s` is not a valid six-segment role resource description." % arn)
        role = self.config.roles.get(arn)
        if role is None:
            raise ApiError("ResourceNotFound.RoleNotFound", "The role `%s` does not exist." % arn)
        if not _SESSION_NAME_RE.match(params["RoleSessionName"]):
            raise ApiError("InvalidParameter.ParamError", "RoleSessionName must be 2 to 128 characters of [\\w+=,.@-].")
        caller = self.world.credentials[caller_id]
        principals = role.get("principals", ["*"])
        if "*" not in principals and caller_id not in principals and caller.get("role") not in principals:
            raise ApiError("UnauthorizedOperation", "You are not authorized to perform operation (sts:AssumeRole) on resource (%s)." % arn)
        if role.get("external_id") is not None and params.get("ExternalId") != role["external_id"]:
            raise ApiError("UnauthorizedOperation", "You are not authorized to perform operation (sts:AssumeRole) on resource (%s): the "
                           "ExternalId does not match the role's trust policy." % arn)
        duration = params.get("DurationSeconds", DEFAULT_DURATION)
        if not 0 < duration <= role.get("max_session_seconds", MAX_DURATION):
            raise ApiError("InvalidParameter.OverTimeError", "DurationSeconds %d exceeds the role's maximum session duration of %d seconds."
                           % (duration, role.get("max_session_seconds", MAX_DURATION)))
        expired_time = int(time.time()) + duration
        # Fixed prefixes let tests search any output for a leaked temporary secret key or token.
        secret_id = "AKIDTMP" + secrets.token_hex(14).upper()
        secret_key = TMP_SECRET_KEY_PREFIX + secrets.token_hex(16)
        token = TMP_TOKEN_PREFIX + secrets.token_hex(32)
        self.world.credentials[secret_id] = {"secret_key": secret_key, "token": token, "expires": expired_time, "role": arn}
        response = {"Credentials": {"Token": token, "TmpSecretId": secret_id, "TmpSecretKey": secret_key},
                    "ExpiredTime": expired_time, "Expiration": iso_time(expired_time)}
        return response, {"secret_id": secret_id, "expires": expired_time, "role": arn}

    def check_role_region(self, credential, action, region):
        """A temporary key acts for its role: refused in a region the role may not act in."""
        role = self.config.roles.get(credential.get("role")) if credential.get("role") else None
        if credential.get("role") and (role is None or ("*" not in role.get("regions", ["*"]) and region not in role.get("regions", ["*"]))):
            resource = "qcs::cvm:%s:uin/%s:instance/*" % (region or DEFAULT_REGION, DEFAULT_ACCOUNT)
            raise ApiError("UnauthorizedOperation", "You are not authorized to perform operation (cvm:%s); resource (%s) has no "
                           "permission for role %s." % (action, resource, credential.get("role")))
