# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the one table of Tencent Cloud error codes.

Every SDK error a module can meet is looked up here once: whether it is worth
retrying, and what the user should do about it. Nothing here imports the SDK.

Layer 2 (errors and rate limit). May import: _ids (and the standard library).
"""

from __future__ import annotations

# Retry classes. THROTTLED: the request was refused for rate; TRANSIENT: the
# service or the network failed and may not next time; BUSY: the instance is
# in the middle of something and will settle.
THROTTLED = "throttled"
TRANSIENT = "transient"
BUSY = "busy"

_CHECK_CREDENTIALS = "Check secret_id/secret_key (or TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY): they must be one API key pair from the CAM console."

# The modules' region settings; the inventory plugin names its own (regions) instead.
CHECK_REGION = "check region (TENCENTCLOUD_REGION)"

# code -> (retry class or None, what to do about it)
ERROR_TABLE = {
    # Signing and identity: never retried.
    "AuthFailure.SignatureFailure": (None, "The request signature did not verify. " + _CHECK_CREDENTIALS),
    "AuthFailure.SecretIdNotFound": (None, "The secret_id is not known to Tencent Cloud (deleted or mistyped). " + _CHECK_CREDENTIALS),
    "AuthFailure.InvalidSecretId": (None, "The secret_id is malformed. " + _CHECK_CREDENTIALS),
    "AuthFailure.SignatureExpire": (None, "The request timestamp is more than 5 minutes away from Tencent Cloud's clock: synchronise this host's clock (NTP)."),
    "AuthFailure.TokenFailure": (
        None,
        "The security token is invalid, expired or does not belong to secret_id: refresh security_token "
        "(TENCENTCLOUD_SECURITY_TOKEN) together with the temporary secret_id/secret_key, or unset it for a permanent key.",
    ),
    "AuthFailure.UnauthorizedOperation": (None, "The CAM policy of this API key does not allow this action on these resources: grant it in the CAM console."),
    "AuthFailure.MFAFailure": (None, "This API key requires MFA: use a key without MFA enforcement for automation."),
    "UnauthorizedOperation": (None, "The CAM policy of this API key does not allow this action on these resources: grant it in the CAM console."),
    "UnauthorizedOperation.MFAExpired": (None, "The MFA session of this API key expired: renew it, or use a key without MFA enforcement."),
    "UnauthorizedOperation.MFANotFound": (None, "This action requires MFA for this API key: use a key without MFA enforcement for automation."),
    # Request shape: the module validates first, so these mean a bug or an API change.
    "InvalidAction": (None, "The endpoint does not know this action: check endpoint points at the CVM API."),
    "NoSuchVersion": (None, "The endpoint does not serve CVM API version 2017-03-12: check endpoint."),
    "UnsupportedRegion": (None, "CVM is not available in region {region}: " + CHECK_REGION + ", e.g. ap-guangzhou."),
    "InvalidRegion": (None, "Region {region} is not valid: " + CHECK_REGION + ", e.g. ap-guangzhou."),
    "MissingParameter": (None, "A required parameter was missing: please report this as a bug of the collection."),
    "UnknownParameter": (None, "A parameter was not recognised: please report this as a bug of the collection."),
    "InvalidParameter": (None, "A parameter had the wrong type or format: check the values given to the module."),
    "InvalidParameterValue": (None, "A parameter value is not valid: check the values given to the module."),
    "InvalidParameterValue.LimitExceeded": (None, "Too many values in one request: at most 100 instance IDs and 100 key IDs."),
    "InvalidParameterValue.InstanceIdMalformed": (None, "An instance ID is malformed: IDs look like ins-1e4r6y8i."),
    "InvalidParameterValue.KeyPairNotSupported": (
        None,
        "The API refuses this key pair here. When binding: it cannot be bound to these instances. When deleting: it is still in use; "
        "right after an unbind or a termination the API lags, and cvm_keypair retries the deletion for up to wait_timeout seconds.",
    ),
    "InvalidInstanceId.Malformed": (None, "An instance ID is malformed: IDs look like ins-1e4r6y8i."),
    "InvalidInstanceId.NotFound": (None, "An instance ID does not exist in this region: check instance_ids and region."),
    "InvalidKeyPairId.Malformed": (None, "A key pair ID is malformed: IDs look like skey-4e5ty7i8."),
    "InvalidKeyPairId.NotFound": (None, "A key pair ID does not exist in this region: check key_ids and region."),
    "InvalidInstance.NotSupported": (None, "These instances do not support key pairs."),
    # Instance state: running ones need force_stop; transitional ones settle.
    "UnsupportedOperation.InstanceStateRunning": (
        None,
        "Binding or unbinding keys needs STOPPED instances: set force_stop: true, or stop the instances first.",
    ),
    "UnsupportedOperation.InstanceStateStarting": (BUSY, "The instance is starting: retry when it is RUNNING (with force_stop) or STOPPED."),
    "UnsupportedOperation.InstanceStateStopping": (BUSY, "The instance is stopping: retry when it is STOPPED."),
    "UnsupportedOperation.InstanceStateRebooting": (BUSY, "The instance is rebooting: retry when it has settled."),
    "UnsupportedOperation.InstanceStatePending": (BUSY, "The instance is still being created: retry when it has settled."),
    "UnsupportedOperation.InstanceStateShutdown": (None, "The instance is shut down (isolated, awaiting destruction): it cannot be changed."),
    "UnsupportedOperation.InstanceStateTerminating": (None, "The instance is being terminated: leave it out of instance_ids."),
    "UnsupportedOperation.InstanceStateFreezing": (None, "The instance is frozen (billing): it cannot be changed until it is unfrozen."),
    "UnsupportedOperation.InstanceStateIsolating": (None, "The instance is being isolated: it cannot be changed."),
    "UnsupportedOperation.InstanceStateBanning": (None, "The instance is banned: contact Tencent Cloud support."),
    "UnsupportedOperation.InstanceStateRescueMode": (None, "The instance is in rescue mode: exit rescue mode first."),
    "UnsupportedOperation.InstanceStateExitRescueMode": (BUSY, "The instance is leaving rescue mode: retry when it has settled."),
    "UnsupportedOperation.InstanceStateEnterRescueMode": (BUSY, "The instance is entering rescue mode: retry when it has settled."),
    "UnsupportedOperation.InstanceStateEnterServiceLiveMigrate": (BUSY, "The instance is being live-migrated: retry when it has settled."),
    "UnsupportedOperation.InstanceOsWindows": (None, "Windows instances do not support SSH key pairs: leave them out of instance_ids."),
    "UnsupportedOperation.StoppedModeStopCharging": (
        None,
        "The instance was stopped in no-charge mode (STOP_CHARGING), which the API does not change: start it, stop it again in "
        "charging mode (KEEP_CHARGING), then run again.",
    ),
    # Duplicates: the sibling Lighthouse API refuses them with these codes; CVM may too. The module settles them by reading.
    "UnsupportedOperation.KeyPairBindDuplicate": (
        None,
        "A key pair is already bound to an instance of the call: the module re-reads the instances and sends only what is missing; "
        "seen in a failure, another client changed the keys meanwhile: run again.",
    ),
    "UnsupportedOperation.KeyPairNotBoundToInstance": (
        None,
        "A key pair is not bound to an instance of the call: the module re-reads the instances and sends only what is still bound; "
        "seen in a failure, another client changed the keys meanwhile: run again.",
    ),
    "FailedOperation.DisassociateKeyPairFailed": (None, "Tencent Cloud could not unbind the key pair: see the message and retry later."),
    # Service health and rate: retried with backoff.
    "RequestLimitExceeded": (THROTTLED, "Too many requests per second: the module retries these; lower forks or concurrency if it persists."),
    "RequestLimitExceeded.UinLimitExceeded": (THROTTLED, "Too many requests per second for this account: lower forks or concurrency."),
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": (THROTTLED, "Too many requests per second for this account in all regions: lower concurrency."),
    "InternalError": (TRANSIENT, "Tencent Cloud had an internal error: retry later; quote the request_id to support if it persists."),
    "InternalServerError": (TRANSIENT, "Tencent Cloud had an internal error: retry later; quote the request_id to support if it persists."),
    "ResourceInUse": (BUSY, "The resource is in use by another operation: retry later."),
    "ResourceBusy": (BUSY, "The resource is busy: retry later."),
    "ResourceUnavailable": (TRANSIENT, "The resource is temporarily unavailable: retry later."),
    "OperationDenied.InstanceOperationInProgress": (
        BUSY,
        "Another operation is running on the instance (another job, a console action or a force_stop restart) and outlasted the "
        "module's retries: run again once it has finished.",
    ),
    "MutexOperation.TaskRunning": (
        BUSY,
        "Another task is running on the resource (another job or a console action) and outlasted the module's retries: run again once it has finished.",
    ),
    # Raised by the SDK itself, not by the API.
    "ServerNetworkError": (TRANSIENT, "The endpoint answered with an HTTP error: retry later; check endpoint if it persists."),
    "ClientNetworkError": (TRANSIENT, "Could not reach the endpoint: check endpoint, network and proxy settings."),
    # Named by this collection from the SDK's ClientNetworkError: nobody answering there is rarely fixed by ten more tries.
    "ClientNetworkError.Timeout": (
        TRANSIENT,
        "The endpoint did not answer in time: check endpoint, firewall and proxy settings; raise request_timeout and api_deadline on a slow link.",
    ),
    "ClientNetworkError.ConnectionRefused": (TRANSIENT, "The endpoint refused the connection: check the host and port of endpoint, and the proxy settings."),
    "ClientNetworkError.HostNotFound": (TRANSIENT, "The endpoint's host name does not resolve: check endpoint and the DNS settings."),
    # Named by this collection: a server that answers a TLS handshake in plain HTTP will do so again.
    "ClientNetworkError.NotTls": (
        None,
        "The endpoint does not speak TLS: if it really serves plain HTTP (like the collection's local emulator), write it as "
        "http://host:port; otherwise check the port of endpoint and any proxy in between.",
    ),
    # Named by this collection: the request went out and the connection closed before any answer (a lost answer).
    "ClientNetworkError.ConnectionDropped": (
        TRANSIENT,
        "The connection dropped after the request was sent, so it may have taken effect: the module sent reads again and "
        "settled writes by re-reading what the API now has, never resending them blindly. If drops persist, check the "
        "endpoint, proxy and network; running again is safe.",
    ),
    # Named by this collection: a certificate that does not verify will not verify on the next try either.
    "ClientNetworkError.CertificateVerifyFailed": (
        None,
        "The endpoint's HTTPS certificate did not verify: for a private or self-signed endpoint, give its CA file as ca_bundle (TENCENTCLOUD_CA_BUNDLE).",
    ),
    "InvalidResponse": (None, "The endpoint did not answer like the CVM API: check endpoint (a proxy or web page may be answering)."),
    # ---- Key pair lifecycle and lookups (cvm_keypair, cvm_keypair_association_info, _lookup); none is retried. ----
    "InvalidKeyPairName.Duplicate": (
        None,
        "A key pair with this name already exists in the region (created meanwhile?): run again to use it, or choose another name.",
    ),
    "InvalidKeyPairNameEmpty": (None, "The key pair name is empty: give a name of letters, digits and underscores."),
    "InvalidKeyPairNameTooLong": (None, "The key pair name is too long: at most 25 letters, digits and underscores."),
    "InvalidKeyPairNameIncludeIllegalChar": (None, "The key pair name may contain only letters, digits and underscores."),
    "InvalidPublicKey.Duplicate": (None, "This public key is already imported as another key pair in the region: use that key pair, or delete it first."),
    "InvalidPublicKey.Malformed": (None, "The public key is not accepted: give one OpenSSH public key line, like the contents of ~/.ssh/id_ed25519.pub."),
    "InvalidKeyPair.NotSupported": (
        None,
        "The key pair is used by a custom image, and Tencent Cloud does not delete key pairs that images use: delete the custom "
        "images created with it first, or keep the key pair.",
    ),
    "InvalidKeyPair.LimitExceeded": (None, "The account's key pair quota in this region is reached: delete unused key pairs or raise the quota (not retried)."),
    "InvalidProjectId.NotFound": (None, "The project does not exist: check project_id (0 is the default project)."),
    "InvalidParameterValue.KeyPairNotFound": (None, "A key pair does not exist in this region: check the key pair IDs or names and the region."),
    "ResourceNotFound.KeyPairNotFound": (None, "A key pair does not exist in this region: check the key pair IDs or names and the region."),
    "InvalidFilter": (None, "A filter name is not supported by the API: check instance_filters (like zone, instance-name, tag:env)."),
    "InvalidFilterValue.LimitExceeded": (None, "A filter has too many values: at most 5 per filter."),
    "InvalidParameterCombination": (None, "Two parameters cannot be combined (like instance IDs and filters): please report this as a bug of the collection."),
}

# How many attempts each retry class gets, in all (first try included).
# With the backoff of _client.BACKOFF, the longest a single call can sleep between attempts is
# THROTTLED 0.5+1+2+4+8*7 = 63.5 s, TRANSIENT 0.25+0.5+1+2+4*5 = 23.75 s, BUSY 1+2+4+8*6 = 55 s (docs/reliability.md).
# TRANSIENT retries, and the time spent waiting for answers, also end at the call's api_deadline.
MAX_ATTEMPTS = {THROTTLED: 12, TRANSIENT: 10, BUSY: 10}

# Codes retried fewer times than their class: at most this many failures with the code in one call.
# An endpoint that does not answer, refuses or does not resolve will most likely do the same again;
# three tries ride out a blip, and the per-call api_deadline bounds the time (see _client.CvmApi.call).
MAX_FAILURES_BY_CODE = {"ClientNetworkError.Timeout": 3, "ClientNetworkError.ConnectionRefused": 3, "ClientNetworkError.HostNotFound": 3}

# STS (AssumeRole, for role_arn): codes listed for AssumeRole by the SDK (tencentcloud/sts/v20180813/errorcodes.py).
# Looked up before ERROR_TABLE for a failed AssumeRole, where a shared code (UnauthorizedOperation) means another thing.
_CHECK_ROLE_ARN = "check role_arn (TENCENTCLOUD_ROLE_ARN): it looks like qcs::cam::uin/<account>:roleName/<name>, from the role's page in the CAM console."
STS_ERROR_TABLE = {
    "UnauthorizedOperation": (
        None,
        "The identity that signs the request may not assume role_arn: add it to the role's trust policy (role entity) and grant it "
        "sts:AssumeRole in the CAM console, or check role_external_id when the role requires one.",
    ),
    "ResourceNotFound.RoleNotFound": (None, "No such role in that account: " + _CHECK_ROLE_ARN),
    "InvalidParameter.ResouceError": (None, "role_arn is not a valid role resource description: " + _CHECK_ROLE_ARN),
    "InvalidParameter.OverTimeError": (
        None,
        "role_duration is longer than the role allows: lower role_duration (TENCENTCLOUD_ROLE_DURATION) to at most the role's "
        "maximum session duration (CAM console).",
    ),
    "InvalidParameter.AccountNotAvaliable": (None, "The account of role_arn does not exist or is unavailable: " + _CHECK_ROLE_ARN),
    "InvalidParameter.ParamError": (None, "STS refused a parameter: check role_arn, role_session_name and role_external_id."),
    "InvalidParameter.OverLimit": (THROTTLED, "Too many AssumeRole requests: the module retries these; lower forks or concurrency if it persists."),
    "InternalError.GetRoleError": (TRANSIENT, "STS could not read the role: retry later; quote the request_id to support if it persists."),
    "InternalError.SystemError": (TRANSIENT, "STS had an internal error: retry later; quote the request_id to support if it persists."),
    "AuthFailure.TokenFailure": (
        None,
        "The security token of the identity that assumes the role is invalid or expired: refresh security_token together with "
        "secret_id/secret_key (or the tccli profile), or unset it for a permanent key.",
    ),
}
STS_ACTIONS = ("AssumeRole",)

_FAMILY_HINTS = {
    "AuthFailure": (None, _CHECK_CREDENTIALS),
    "UnauthorizedOperation": (None, "The CAM policy of this API key does not allow this action: grant it in the CAM console."),
    "RequestLimitExceeded": (THROTTLED, "Too many requests per second: lower forks or concurrency."),
    "UnsupportedOperation.InstanceState": (None, "The instance is in a state that does not allow this change."),
    "LimitExceeded": (None, "A quota of the account was reached: raise it in the console or free resources (not retried)."),
    "InvalidParameter": (None, "A parameter value is not valid: check the values given to the module."),
}


def lookup(code: str, action: str | None = None) -> tuple[str | None, str]:
    """Return (retry class or None, hint) for an error code of `action`, falling back to its family."""
    if action in STS_ACTIONS and code in STS_ERROR_TABLE:
        return STS_ERROR_TABLE[code]
    if code in ERROR_TABLE:
        return ERROR_TABLE[code]
    for family, info in _FAMILY_HINTS.items():
        if code.startswith(family):
            return info
    return None, "See the Tencent Cloud error code reference, and quote the request_id to support if it persists."


def retry_class(code: str, action: str | None = None) -> str | None:
    """THROTTLED, TRANSIENT, BUSY, or None when the code is not retried."""
    return lookup(code, action)[0]


def max_attempts(code: str, action: str | None = None) -> int:
    """How many attempts a call makes at most when every one fails with this code (1 when it is not retried)."""
    retry = retry_class(code, action)
    if retry is None:
        return 1
    return min(MAX_ATTEMPTS[retry], MAX_FAILURES_BY_CODE.get(code, MAX_ATTEMPTS[retry]))


def hint(code: str, action: str | None = None, **context: str) -> str:
    """The advice for a code; {region} and {endpoint} in it are filled from `context` (the connection settings)."""
    text = lookup(code, action)[1]
    return text.format(**context) if context else text
