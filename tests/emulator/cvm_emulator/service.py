# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The signed API pipeline: ApiService holds the world, configuration, rate limiter and request log under one
lock and answers signed requests (faults, latency, version, signature, region, rate limit, parameters, action).
control.Emulator adds the control API.
May import: constants, errors, params, state, actions_common, actions, sts, faults, runtime, signing.
"""

import copy
import datetime
import hmac
import json
import random
import secrets
import sys
import threading
import time
import uuid

from .actions import ACTIONS, EmulatedCvm
from .actions_common import ApiRequest
from .constants import API_VERSION, BAD_GATEWAY_BODY, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, MAX_CLOCK_SKEW, SERVICE
from .errors import ApiError
from .faults import FaultDraws
from .params import validate_params
from .runtime import EmulatorRateLimiter, RequestLog
from .signing import parse_authorization, string_to_sign, tc3_signature
from .state import World
from .sts import ASSUME_ROLE_PARAMS, STS_SERVICE, STS_VERSION, StsApi


class ApiReply:
    """What the HTTP layer sends back: a response, or nothing at all (the connection is closed)."""

    def __init__(self, status=200, body=b"", content_type="application/json", close_silently=False):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.close_silently = close_silently


def api_body(response):
    return json.dumps({"Response": response}, ensure_ascii=False).encode("utf-8")


class ApiService:
    """The emulated service's state and signed API. Every public method takes the lock; HTTP threads call them concurrently."""

    def __init__(self, initial_state, credentials, regions, config, generate_instances=0, verbose=False, ssh=None, control_token=None):
        self.lock = threading.RLock()
        # The control API's secret (control.Emulator checks it); never printed, logged or shown by the control API itself.
        self.control_token = control_token or secrets.token_urlsafe(32)
        self.default_credentials = credentials
        self.default_regions = list(regions)
        self.config = config
        self.initial_config = copy.deepcopy(config)
        self.rng = random.Random(config.seed)
        self.world = World()
        self.ssh = ssh  # SSH mode (ssh_hosts.SshHosts) or None
        if ssh is not None:
            ssh.config = config
            ssh.ticker = self.tick
            self.world.observer = ssh
        self.world.load(initial_state, credentials, regions)
        if generate_instances:
            self.world.add_generated_instances(generate_instances)
        self.initial_world = self.snapshot()
        self.draws = FaultDraws(config.seed)
        self.api = EmulatedCvm(self.world, config, self.rng, self.draws)
        self.sts = StsApi(self.world, config)
        if ssh is not None:
            self.api.key_maker = ssh.make_key_pair
        self.limiter = EmulatorRateLimiter()
        self.log = RequestLog()
        self.verbose = verbose

    def snapshot(self):
        return {"credentials": [dict(secret_id=secret_id, **secret) for secret_id, secret in self.world.credentials.items()],
                **self.world.dump()}

    # -- the signed API ----------------------------------------------------------------------------------------------

    def handle_api_request(self, method, path, headers, body):
        started = time.monotonic()
        with self.lock:
            latency_ms = self.config.faults["response_latency_ms"]
            key = self.draws.arrive(headers.get("X-TC-Action") or "", body)
            network_fault = self.draw_fault("drop", key) or self.draw_fault("http_502", key)
        record = self.new_record(headers, body)
        if network_fault:  # a gateway-level failure: the request never reaches the service
            reply = ApiReply(close_silently=True) if network_fault == "drop" else ApiReply(502, BAD_GATEWAY_BODY, "text/html")
            self.finish(record, "dropped" if network_fault == "drop" else "http_502", None, started)
        else:
            try:
                response = self.process(method, path, headers, body, record, key)
                outcome, code = "ok", None
            except ApiError as error:
                response = {"Error": {"Code": error.code, "Message": error.message}}
                outcome, code = "error", error.code
            response["RequestId"] = record["request_id"]
            reply = ApiReply(body=api_body(response))
            with self.lock:
                lost = self.draw_fault("lost_response", key)
            if lost:  # applied, but the client never hears about it
                reply, outcome = ApiReply(close_silently=True), "lost_response"
            self.finish(record, outcome, code, started)
        if latency_ms:
            time.sleep(latency_ms / 1000.0)
        return reply

    def draw_fault(self, name, key):
        """The fault `name` when it strikes this request (faults.FaultDraws: by the request, not by arrival order)."""
        return name if self.draws.hits(name, self.config.faults[name], key, self.config.fault_plan) else None

    @staticmethod
    def new_record(headers, body):
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = None
        return {"time": time.time(), "action": headers.get("X-TC-Action") or "", "region": headers.get("X-TC-Region"),
                "params": params, "outcome": None, "error_code": None, "request_id": str(uuid.uuid4()),
                "secret_id": None, "has_token": bool(headers.get("X-TC-Token"))}

    def finish(self, record, outcome, error_code, started):
        record["outcome"], record["error_code"] = outcome, error_code
        with self.lock:
            self.log.add(record)
        if self.verbose:
            sys.stderr.write("seq=%d action=%s region=%s outcome=%s error=%s secret_id=%s has_token=%s ms=%.1f\n" % (
                record["seq"], record["action"] or "-", record["region"] or "-", outcome, error_code or "-",
                record["secret_id"] or "-", str(record["has_token"]).lower(), (time.monotonic() - started) * 1000))
            sys.stderr.flush()

    def process(self, method, path, headers, body, record, key):
        """Version, action, signature, region, rate limit, injected API faults, parameters, then the action itself."""
        version = headers.get("X-TC-Version")
        if version == STS_VERSION or str(headers.get("Host") or "").startswith("sts."):
            return self.process_sts(method, path, headers, body, record)
        if version != API_VERSION:
            raise ApiError("NoSuchVersion", "The requested version `%s` of service `%s` does not exist; use `%s`." % (version, SERVICE, API_VERSION))
        action_name = record["action"]
        action = ACTIONS.get(action_name)
        if action is None:
            raise ApiError("InvalidAction", "The requested action `%s` does not exist for service `%s` version `%s`." % (action_name, SERVICE, API_VERSION))
        with self.lock:
            credential = self.authenticate(method, path, headers, body, record)
            region = headers.get("X-TC-Region")
            if not region:
                raise ApiError("MissingParameter", "The request is missing the required `X-TC-Region` header.")
            if region not in self.world.regions:
                raise ApiError("UnsupportedRegion", "The region `%s` is not supported by service `%s`." % (region, SERVICE))
            self.sts.check_role_region(credential, action_name, region)
            if self.draw_fault("throttle", key) or (not self.limiter.allow(action_name, self.config.rate_limits.get(action_name))
                                                    and self.draws.note("rate_limit")):
                raise ApiError("RequestLimitExceeded", "Your current request rate of `%s` exceeds the limit of %s requests per second; retry later."
                               % (action_name, self.config.rate_limits.get(action_name) or "the"))
            if self.draw_fault("internal_error", key):
                raise ApiError("InternalError", "An internal error has occurred (injected fault). Retry your request.")
        if method != "POST":
            raise ApiError("InvalidParameter", "This emulator only accepts POST requests with a JSON body.")
        if not isinstance(record["params"], dict):
            raise ApiError("InvalidParameter", "The request body is not a JSON object.")
        params = validate_params(record["params"], action.params)
        with self.lock:
            self.sync_hold()
            self.world.advance()
            return action.handler(self.api, ApiRequest(region, record["request_id"]), params)

    def process_sts(self, method, path, headers, body, record):
        """STS: version, action, signature (service sts), region, parameters, then AssumeRole."""
        if headers.get("X-TC-Version") != STS_VERSION:
            raise ApiError("NoSuchVersion", "The requested version `%s` of service `%s` does not exist; use `%s`."
                           % (headers.get("X-TC-Version"), STS_SERVICE, STS_VERSION))
        if record["action"] != "AssumeRole":
            raise ApiError("InvalidAction", "The requested action `%s` does not exist for service `%s` version `%s`."
                           % (record["action"], STS_SERVICE, STS_VERSION))
        if method != "POST" or not isinstance(record["params"], dict):
            raise ApiError("InvalidParameter", "This emulator only accepts POST requests with a JSON object body.")
        with self.lock:
            self.authenticate(method, path, headers, body, record, service=STS_SERVICE)
            if not headers.get("X-TC-Region"):
                raise ApiError("MissingParameter", "The request is missing the required `X-TC-Region` header.")
        params = validate_params(record["params"], ASSUME_ROLE_PARAMS)
        with self.lock:
            response, issued = self.sts.assume_role(record["secret_id"], params)
        record["issued"] = issued  # the new key's id and expiry, never its secret or token
        return response

    def authenticate(self, method, path, headers, body, record, service=SERVICE):
        """Check the signature (its scope names `service`) and the token; return the signing credential."""
        auth = parse_authorization(headers.get("Authorization"))
        if auth is None:
            raise ApiError("AuthFailure.SignatureFailure", "The Authorization header is missing or malformed; expected "
                           "`TC3-HMAC-SHA256 Credential=<SecretId>/<date>/cvm/tc3_request, SignedHeaders=..., Signature=...`.")
        record["secret_id"] = auth["secret_id"]
        credential = self.world.credentials.get(auth["secret_id"])
        if credential is not None and self.ssh is not None and self.published_credential_in(
                [dict(secret_id=auth["secret_id"], **credential)]):
            raise ApiError("AuthFailure.InvalidSecretId", "The SecretId `%s` is the emulator's published default credential, which "
                           "SSH mode refuses: use the credential the emulator was started with." % auth["secret_id"])
        if credential is None:
            raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId `%s` is not found, please ensure that your SecretId is correct." % auth["secret_id"])
        timestamp = headers.get("X-TC-Timestamp") or ""
        if not timestamp.isdigit():
            raise ApiError("AuthFailure.SignatureFailure", "The `X-TC-Timestamp` header `%s` is missing or not a Unix time in seconds." % timestamp)
        server_time = int(time.time())
        if abs(int(timestamp) - server_time) > MAX_CLOCK_SKEW:
            raise ApiError("AuthFailure.SignatureExpire", "Signature expired. Timestamp is %s, server time is %d (more than %d seconds apart)."
                           % (timestamp, server_time, MAX_CLOCK_SKEW))
        expected = tc3_signature(credential["secret_key"], auth["date"], auth["service"],
                                 string_to_sign(method, path, headers, body, auth, timestamp))
        date_of_timestamp = datetime.datetime.fromtimestamp(int(timestamp), datetime.timezone.utc).strftime("%Y-%m-%d")
        if auth["service"] != service or auth["date"] != date_of_timestamp or not hmac.compare_digest(expected, auth["signature"]):
            raise ApiError("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.")
        token = headers.get("X-TC-Token") or None
        if token != credential["token"]:
            if credential["token"] is None:
                raise ApiError("AuthFailure.TokenFailure", "A security token was sent for a credential that has none.")
            raise ApiError("AuthFailure.TokenFailure", "The security token is missing or invalid for SecretId `%s`." % auth["secret_id"])
        if credential.get("expires") is not None:
            record["token_expires"] = credential["expires"]
            if time.time() >= credential["expires"]:
                raise ApiError("AuthFailure.TokenFailure", "The security token of SecretId `%s` has expired." % auth["secret_id"])
        return credential

    @staticmethod
    def published_credential_in(credentials):
        """Whether a list of credentials ({secret_id, secret_key}) holds the published default SecretId or SecretKey."""
        return any(isinstance(item, dict) and (item.get("secret_id") == DEFAULT_SECRET_ID or item.get("secret_key") == DEFAULT_SECRET_KEY)
                   for item in credentials or [])

    def tick(self):
        """Run the operation steps that are due (SSH mode: instances start and stop listening on time)."""
        with self.lock:
            self.sync_hold()
            self.world.advance()

    def close(self):
        if self.ssh is not None:
            self.ssh.close()

    def sync_hold(self):
        self.world.clock.hold(self.config.hold_operations)
