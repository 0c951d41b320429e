# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runtime configuration (Config: latency, readings, rate limits, faults), the rate limiter and the request log.
May import: constants, errors, helpers, actions, sts.
"""

import collections
import copy
import time

from .actions import ACTIONS, WRITE_ACTIONS
from .constants import DEFAULT_OPERATION_LATENCY, FAULT_PROBABILITIES, INSTANCE_ID_RE, KEY_ID_RE, PLANNED_FAULTS, REQUEST_LOG_SIZE
from .errors import ControlError
from .helpers import unique
from .sts import check_roles, default_roles


class Config:
    """Everything GET/PATCH /_emulator/config shows and changes."""

    def __init__(self, operation_latency=DEFAULT_OPERATION_LATENCY, operation_start_delay=0.0, bind_replaces_keys=False,
                 rate_limits=None, faults=None, seed=None, readings=None, fault_plan=None):
        self.operation_latency = operation_latency
        self.operation_start_delay = operation_start_delay
        self.bind_replaces_keys = bind_replaces_keys
        # Readings of what the API leaves open (docs/emulator.md, "Readings of the API"); the defaults are the lenient ones.
        self.strict_duplicates = False
        self.restart_as_own_operation = False
        self.null_operation_fields = False
        self.key_deletion_lag = 0.0
        self.image_key_ids = []
        self.key_injection_failures = []  # SSH mode: instances whose guest agent never writes the keys bound to them
        for name, value in (readings or {}).items():
            getattr(self, "_patch_" + name)(value)
        self.rate_limits = {name: action.rate_limit for name, action in ACTIONS.items()}
        self.rate_limits.update(rate_limits or {})
        self.faults = dict.fromkeys(FAULT_PROBABILITIES, 0.0)
        self.faults["response_latency_ms"] = 0
        self.faults.update(faults or {})
        self.fault_plan = {}  # {action: {occurrence: fault}}: faults named outright (faults.FaultDraws)
        if fault_plan:
            self._patch_fault_plan(fault_plan)
        self.operation_failures = {}
        self.hold_operations = False
        self.seed = seed
        self.roles = default_roles()  # STS: {role_arn: {principals, regions, max_session_seconds, external_id}}

    def to_dict(self):
        return {
            "operation_latency": self.operation_latency,
            "operation_start_delay": self.operation_start_delay,
            "bind_replaces_keys": self.bind_replaces_keys,
            "bind_semantics": "replace" if self.bind_replaces_keys else "add",
            "strict_duplicates": self.strict_duplicates,
            "restart_as_own_operation": self.restart_as_own_operation,
            "null_operation_fields": self.null_operation_fields,
            "key_deletion_lag": self.key_deletion_lag,
            "image_key_ids": list(self.image_key_ids),
            "key_injection_failures": list(self.key_injection_failures),
            "rate_limits": dict(self.rate_limits),
            "faults": dict(self.faults),
            "fault_plan": {action: {str(n): fault for n, fault in sorted(plan.items())} for action, plan in self.fault_plan.items()},
            "operation_failures": dict(self.operation_failures),
            "hold_operations": self.hold_operations,
            "seed": self.seed,
            "roles": {arn: dict(role) for arn, role in self.roles.items()},
        }

    def patch(self, changes):
        """Apply a PATCH document after validating all of it (a bad document changes nothing)."""
        if not isinstance(changes, dict):
            raise ControlError(400, "the config patch must be a JSON object")
        staged = copy.deepcopy(self)
        for name, value in changes.items():
            setter = getattr(staged, "_patch_" + name, None)
            if setter is None:
                raise ControlError(400, "unknown config key %r" % name)
            setter(value)
        self.__dict__.update(staged.__dict__)

    def _patch_operation_latency(self, value):
        self.operation_latency = non_negative_number("operation_latency", value)

    def _patch_operation_start_delay(self, value):
        self.operation_start_delay = non_negative_number("operation_start_delay", value)

    def _patch_bind_replaces_keys(self, value):
        self.bind_replaces_keys = boolean("bind_replaces_keys", value)

    def _patch_bind_semantics(self, value):
        if value not in ("add", "replace"):
            raise ControlError(400, "bind_semantics must be \"add\" or \"replace\"")
        self.bind_replaces_keys = value == "replace"

    def _patch_strict_duplicates(self, value):
        self.strict_duplicates = boolean("strict_duplicates", value)

    def _patch_restart_as_own_operation(self, value):
        self.restart_as_own_operation = boolean("restart_as_own_operation", value)

    def _patch_null_operation_fields(self, value):
        self.null_operation_fields = boolean("null_operation_fields", value)

    def _patch_key_deletion_lag(self, value):
        self.key_deletion_lag = non_negative_number("key_deletion_lag", value)

    def _patch_image_key_ids(self, value):
        if not isinstance(value, list) or not all(isinstance(item, str) and KEY_ID_RE.match(item) for item in value):
            raise ControlError(400, "image_key_ids must be a list of key pair IDs like skey-xxxxxxxx")
        self.image_key_ids = unique(value)

    def _patch_key_injection_failures(self, value):
        if not isinstance(value, list) or not all(isinstance(item, str) and INSTANCE_ID_RE.match(item) for item in value):
            raise ControlError(400, "key_injection_failures must be a list of instance IDs like ins-xxxxxxxx")
        self.key_injection_failures = unique(value)

    def _patch_hold_operations(self, value):
        self.hold_operations = boolean("hold_operations", value)

    def _patch_rate_limits(self, value):
        if not isinstance(value, dict):
            raise ControlError(400, "rate_limits must be an object {action: requests per second or null}")
        for action, limit in value.items():
            if action not in ACTIONS:
                raise ControlError(400, "unknown action %r in rate_limits" % action)
            if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
                raise ControlError(400, "the rate limit of %s must be a non-negative integer or null" % action)
            self.rate_limits[action] = limit or None  # null and 0 both mean unlimited

    def _patch_faults(self, value):
        if not isinstance(value, dict):
            raise ControlError(400, "faults must be an object")
        for name, probability in value.items():
            if name == "response_latency_ms":
                self.faults[name] = non_negative_number(name, probability)
            elif name in FAULT_PROBABILITIES:
                if non_negative_number(name, probability) > 1:
                    raise ControlError(400, "the fault probability %s must be between 0 and 1" % name)
                self.faults[name] = probability
            else:
                raise ControlError(400, "unknown fault %r" % name)

    def _patch_fault_plan(self, value):
        """{action: {occurrence: fault}}: each action given gets this plan ({} clears it); occurrence 1 is a request's first arrival."""
        if not isinstance(value, dict):
            raise ControlError(400, "fault_plan must be an object {action: {occurrence: fault}}")
        for action, plan in value.items():
            if action not in ACTIONS:
                raise ControlError(400, "unknown action %r in fault_plan" % action)
            if not isinstance(plan, dict):
                raise ControlError(400, "the fault plan of %s must be an object {occurrence: fault}" % action)
            parsed = {}
            for occurrence, fault in plan.items():
                if not str(occurrence).isdigit() or int(occurrence) < 1:
                    raise ControlError(400, "fault_plan occurrences are whole numbers from 1 (got %r for %s)" % (occurrence, action))
                if fault not in PLANNED_FAULTS:
                    raise ControlError(400, "fault_plan faults are %s (got %r)" % (", ".join(PLANNED_FAULTS), fault))
                parsed[int(occurrence)] = fault
            if parsed:
                self.fault_plan[action] = parsed
            else:
                self.fault_plan.pop(action, None)

    def _patch_operation_failures(self, value):
        if not isinstance(value, dict):
            raise ControlError(400, "operation_failures must be an object {instance_id: message or null}")
        for instance_id, message in value.items():
            if message is None:
                self.operation_failures.pop(instance_id, None)
            elif isinstance(message, str) and message:
                self.operation_failures[instance_id] = message
            else:
                raise ControlError(400, "the failure message of %s must be a non-empty string or null" % instance_id)

    def _patch_roles(self, value):
        """The whole STS role table, replaced (the default role is kept only if given again)."""
        problem = check_roles(value)
        if problem:
            raise ControlError(400, problem)
        self.roles = {arn: dict(role) for arn, role in value.items()}

    def _patch_seed(self, value):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ControlError(400, "seed must be an integer or null")
        self.seed = value


def non_negative_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ControlError(400, "%s must be a non-negative number" % name)
    return value


def boolean(name, value):
    if not isinstance(value, bool):
        raise ControlError(400, "%s must be true or false" % name)
    return value


class EmulatorRateLimiter:
    """The emulator's server-side limit, a sliding window per action: refuse when `limit` requests were accepted in the
    previous second. (The collection's client-side limiter is plugins/module_utils' RateLimiter.)"""

    def __init__(self):
        self.accepted = collections.defaultdict(collections.deque)

    def allow(self, action, limit):
        if not limit:
            return True
        now = time.monotonic()
        window = self.accepted[action]
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True

    def clear(self):
        self.accepted.clear()


class RequestLog:
    """What the signed API received, for tests that count calls (GET /_emulator/requests)."""

    def __init__(self):
        self.records = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self.sequence = 0
        self.counts = collections.Counter()
        self.ok_counts = collections.Counter()
        self.write_count = 0

    def add(self, record):
        self.sequence += 1
        record["seq"] = self.sequence
        self.records.append(record)
        self.counts[record["action"]] += 1
        if record["outcome"] == "ok":
            self.ok_counts[record["action"]] += 1
        if record["action"] in WRITE_ACTIONS:
            self.write_count += 1
        return record

    def document(self, since=0):
        return {
            "requests": [record for record in self.records if record["seq"] > since],
            "counts": dict(self.counts),
            "ok_counts": dict(self.ok_counts),
            "write_count": self.write_count,
        }

    def clear(self):
        """Forget records and counts; sequence numbers keep increasing so `since` stays meaningful."""
        self.records.clear()
        self.counts.clear()
        self.ok_counts.clear()
        self.write_count = 0
