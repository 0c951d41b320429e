# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Local emulator of the Tencent Cloud CVM API (version 2017-03-12) for tests and benchmarks.

It speaks the signed JSON protocol (TC3-HMAC-SHA256) that the unmodified tencentcloud SDK and tccli use,
keeps instances and key pairs in memory, runs the asynchronous operations (LatestOperation*) on a lazy
clock, and can inject faults. An unsigned control API under /_emulator/ lets tests read and change state,
configuration and the request log. Standard library only; see docs/emulator.md for the user guide.

Run it with tests/emulator on PYTHONPATH: `python -m cvm_emulator --port 0` (see cli.py for the flags).
This package file only re-exports the names the modules define (the emulator was one module before, and
tests and scripts use `cvm_emulator.ACTIONS`, `cvm_emulator.DEFAULT_SECRET_ID`, ...). Its modules, each
importing only those before it:

  constants       API version, built-in credentials and regions, limits, ID patterns, fault names
  errors          ApiError (Tencent's Response.Error) and ControlError (control API status + message)
  params          parameter declarations in api.json's terms (INPUT_OBJECTS) and request validation
  helpers         small shared helpers: times, IDs, quoting, SSH public keys, tags
  resources       Instance and KeyPair records, instance defaults, loading a state document's parts
  state           the World (instances, key pairs, bindings) and its operations on a lazy clock
  seed            the default seed (the exact IDs docs/emulator.md documents)
  filters         Describe filters, pagination, batch ID checks
  actions_common  ApiRequest and CvmApiBase: look-ups, checks, operation timelines shared by the actions
  actions         CvmApi, the action handlers, and the action table ACTIONS
  sts             the emulated STS: AssumeRole, temporary keys with an expiry, the CAM-like role table
  runtime         Config (latency, readings, rate limits, faults), RateLimiter, RequestLog
  signing         TC3-HMAC-SHA256 signature verification
  service         ApiService: the signed API pipeline over one lock
  control         Emulator: ApiService plus the control API under /_emulator/
  server          HTTP request handler and threaded (optionally TLS) server
  cli             command-line flags, building the Emulator, main()
  __main__        `python -m cvm_emulator`
"""

from .constants import (API_VERSION, SERVICE, SIGNATURE_ALGORITHM, MAX_CLOCK_SKEW, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, DEFAULT_REGION,
                        DEFAULT_REGIONS, DEFAULT_OPERATION_LATENCY, MAX_BATCH, MAX_FILTERS, MAX_FILTER_VALUES, DEFAULT_LIMIT, MAX_LIMIT,
                        MAX_KEY_NAME_LENGTH, MAX_BODY_BYTES, REQUEST_LOG_SIZE, INSTANCE_ID_RE, KEY_ID_RE, KEY_NAME_RE, PUBLIC_KEY_TYPES,
                        CONTROL_PREFIX, FAULT_PROBABILITIES, KEY_BINDING_ACTIONS, BAD_GATEWAY_BODY)
from .errors import ApiError, ControlError
from .params import (Param, required, optional, INPUT_OBJECTS, SCALAR_TYPES, describe_type, json_type_name, scalar_matches, wrong_type,
                     validate_member, validate_value, validate_params)
from .helpers import iso_time, unique, quoted, camel_state, base36, ssh_public_key, parse_public_key, tag_list, is_windows
from .resources import (instance_defaults, Instance, KeyPair, StateError, KEY_PAIR_STATE_FIELDS, load_credentials, load_instance, load_key_pair,
                        check_instance_keys)
from .state import Operation, OperationClock, World
from .seed import SEED_VPC_ID, SEED_SUBNETS, seed_instance, default_state_document
from .filters import INSTANCE_FILTERS, KEY_PAIR_FILTERS, check_filters, matches_filters, paginate, check_ids
from .actions_common import ApiRequest, CvmApiBase
from .actions import (CvmApi, Action, DESCRIBE_INSTANCES_PARAMS, DESCRIBE_KEY_PAIRS_PARAMS, KEY_BINDING_PARAMS, STOP_INSTANCES_PARAMS,
                      CREATE_KEY_PAIR_PARAMS, IMPORT_KEY_PAIR_PARAMS, ACTIONS, WRITE_ACTIONS)
from .sts import STS_SERVICE, STS_VERSION, DEFAULT_ROLE_ARN, ASSUME_ROLE_PARAMS, TMP_SECRET_KEY_PREFIX, TMP_TOKEN_PREFIX, StsApi
from .runtime import Config, non_negative_number, boolean, RateLimiter, RequestLog
from .signing import hmac_sha256, tc3_signature, parse_authorization, string_to_sign
from .service import ApiReply, api_body, ApiService
from .control import Emulator, parse_json
from .server import RequestHandler, EmulatorServer
from .ssh_hosts import SshHosts, LOGIN_USER, run_keygen
from .cli import parse_rate_limit, probability, seconds, key_id, instance_id, build_parser, startup_credentials, build_emulator, tls_context, main

__all__ = [
    "API_VERSION", "SERVICE", "SIGNATURE_ALGORITHM", "MAX_CLOCK_SKEW", "DEFAULT_SECRET_ID", "DEFAULT_SECRET_KEY", "DEFAULT_REGION",
    "DEFAULT_REGIONS", "DEFAULT_OPERATION_LATENCY", "MAX_BATCH", "MAX_FILTERS", "MAX_FILTER_VALUES", "DEFAULT_LIMIT", "MAX_LIMIT",
    "MAX_KEY_NAME_LENGTH", "MAX_BODY_BYTES", "REQUEST_LOG_SIZE", "INSTANCE_ID_RE", "KEY_ID_RE", "KEY_NAME_RE", "PUBLIC_KEY_TYPES",
    "CONTROL_PREFIX", "FAULT_PROBABILITIES", "KEY_BINDING_ACTIONS", "BAD_GATEWAY_BODY", "ApiError", "ControlError", "Param", "required",
    "optional", "INPUT_OBJECTS", "SCALAR_TYPES", "describe_type", "json_type_name", "scalar_matches", "wrong_type", "validate_member",
    "validate_value", "validate_params", "iso_time", "unique", "quoted", "camel_state", "base36", "ssh_public_key", "parse_public_key",
    "tag_list", "is_windows", "instance_defaults", "Instance", "KeyPair", "StateError", "KEY_PAIR_STATE_FIELDS", "load_credentials",
    "load_instance", "load_key_pair", "check_instance_keys", "Operation", "OperationClock", "World", "SEED_VPC_ID", "SEED_SUBNETS",
    "seed_instance", "default_state_document", "INSTANCE_FILTERS", "KEY_PAIR_FILTERS", "check_filters", "matches_filters", "paginate",
    "check_ids", "ApiRequest", "CvmApiBase", "CvmApi", "Action", "DESCRIBE_INSTANCES_PARAMS", "DESCRIBE_KEY_PAIRS_PARAMS", "KEY_BINDING_PARAMS",
    "STOP_INSTANCES_PARAMS", "CREATE_KEY_PAIR_PARAMS", "IMPORT_KEY_PAIR_PARAMS", "ACTIONS", "WRITE_ACTIONS", "Config", "non_negative_number",
    "boolean", "RateLimiter", "RequestLog", "hmac_sha256", "tc3_signature", "parse_authorization", "string_to_sign", "ApiReply", "api_body",
    "ApiService", "Emulator", "parse_json", "RequestHandler", "EmulatorServer", "parse_rate_limit", "probability", "seconds", "key_id",
    "build_parser", "startup_credentials", "STS_SERVICE", "STS_VERSION", "DEFAULT_ROLE_ARN", "ASSUME_ROLE_PARAMS",
    "TMP_SECRET_KEY_PREFIX", "TMP_TOKEN_PREFIX", "StsApi", "build_emulator", "tls_context", "main", "SshHosts", "LOGIN_USER", "run_keygen", "instance_id"
]
