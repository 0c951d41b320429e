# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Local emulator of the Tencent Cloud CVM API (version 2017-03-12) for tests and benchmarks.

It speaks the signed JSON protocol (TC3-HMAC-SHA256) that the unmodified tencentcloud SDK and tccli use,
keeps instances and key pairs in memory, runs the asynchronous operations (LatestOperation*) on a lazy
clock, and can inject faults. An unsigned control API under /_emulator/ lets tests read and change state,
configuration and the request log. Standard library only; see docs/emulator.md for the user guide.
"""

import argparse
import base64
import collections
import copy
import datetime
import hashlib
import hmac
import http.server
import json
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

API_VERSION = "2017-03-12"
SERVICE = "cvm"
SIGNATURE_ALGORITHM = "TC3-HMAC-SHA256"
MAX_CLOCK_SKEW = 300  # seconds; Tencent rejects signatures whose timestamp is further off than this

DEFAULT_SECRET_ID = "AKIDEMULATOR000000000000000000000000"
DEFAULT_SECRET_KEY = "emulatorSecretKey0000000000000000"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_REGIONS = (
    "ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-hongkong",
    "ap-singapore", "ap-jakarta", "ap-seoul", "ap-tokyo", "ap-bangkok", "ap-mumbai",
    "na-siliconvalley", "na-ashburn", "sa-saopaulo", "eu-frankfurt",
)
DEFAULT_OPERATION_LATENCY = 0.5

MAX_BATCH = 100
MAX_FILTERS = 10
MAX_FILTER_VALUES = 5
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_KEY_NAME_LENGTH = 25
MAX_BODY_BYTES = 8 * 1024 * 1024
REQUEST_LOG_SIZE = 200000  # records kept by the request log (counts are never truncated)

INSTANCE_ID_RE = re.compile(r"^ins-[a-z0-9]{8}$")
KEY_ID_RE = re.compile(r"^skey-[a-z0-9]{8}$")
KEY_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
PUBLIC_KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")

CONTROL_PREFIX = "/_emulator/"
FAULT_PROBABILITIES = ("internal_error", "http_502", "drop", "lost_response", "throttle", "operation_failed")
KEY_BINDING_ACTIONS = ("AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs")
BAD_GATEWAY_BODY = b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>\n"


class ApiError(Exception):
    """An error answered in Tencent's format: HTTP 200 with Response.Error.{Code,Message}."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class ControlError(Exception):
    """A control API error: a plain HTTP status with {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------------------------------------------------------------
# Request parameters, declared in api.json's terms so that tests/emulator/test_contract.py can compare them.

Param = collections.namedtuple("Param", "type member required")


def required(type_, member):
    return Param(type_, member, True)


def optional(type_, member):
    return Param(type_, member, False)


INPUT_OBJECTS = {
    "Filter": {"Name": required("string", "string"), "Values": required("list", "string")},
    "Tag": {"Key": required("string", "string"), "Value": required("string", "string")},
    "TagSpecification": {"ResourceType": required("string", "string"), "Tags": required("list", "Tag")},
}

SCALAR_TYPES = {"string": "string", "int64": "int", "uint64": "int", "int": "int", "bool": "bool"}


def describe_type(type_, member):
    if type_ == "list":
        return "a list of %s" % ("strings" if member == "string" else member + " objects" if member in INPUT_OBJECTS else member)
    if type_ == "object":
        return "a %s object" % member
    return {"string": "a string", "int": "an integer", "bool": "a boolean"}[type_]


def json_type_name(value):
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object"}
    return names.get(type(value), type(value).__name__)


def scalar_matches(kind, value):
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a number here
    return isinstance(value, bool)


def wrong_type(path, type_, member, value):
    shown = json.dumps(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ApiError("InvalidParameter", "The value of parameter `%s` has the wrong type: expected %s, got %s `%s`."
                    % (path, describe_type(type_, member), json_type_name(value), shown))


def validate_member(value, member, path):
    """Check one list element or object value against its api.json member type."""
    if member in INPUT_OBJECTS:
        if not isinstance(value, dict):
            raise wrong_type(path, "object", member, value)
        return validate_params(value, INPUT_OBJECTS[member], path + ".")
    if not scalar_matches(SCALAR_TYPES[member], value):
        raise wrong_type(path, SCALAR_TYPES[member], member, value)
    return value


def validate_value(value, param, path):
    if param.type == "list":
        if not isinstance(value, list):
            raise wrong_type(path, "list", param.member, value)
        return [validate_member(item, param.member, "%s.%d" % (path, index)) for index, item in enumerate(value)]
    if param.type == "object":
        return validate_member(value, param.member, path)
    if not scalar_matches(param.type, value):
        raise wrong_type(path, param.type, param.member, value)
    return value


def validate_params(params, declared, prefix=""):
    """Check a request (or a nested object) against its declared parameters; return it without null members.

    An empty list counts as missing: in Tencent's wire format `InstanceIds.N` with no N is an absent parameter.
    """
    for name in params:
        if name not in declared:
            raise ApiError("UnknownParameter", "The parameter `%s%s` is not recognized." % (prefix, name))
    clean = {}
    for name, param in declared.items():
        value = params.get(name)
        if value is None or (param.required and value == []):
            if param.required:
                raise ApiError("MissingParameter", "The request is missing a required parameter `%s%s`." % (prefix, name))
            continue
        clean[name] = validate_value(value, param, prefix + name)
    return clean


# ---------------------------------------------------------------------------------------------------------------------
# Small helpers shared by the resources and the actions.

def iso_time(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unique(items):
    """The items without repeats, first occurrence kept (batch IDs are de-duplicated like the real API does)."""
    return list(dict.fromkeys(items))


def quoted(ids):
    return ", ".join("`%s`" % item for item in ids)


def camel_state(state):
    """RUNNING -> Running, ENTER_RESCUE_MODE -> EnterRescueMode (the suffix of UnsupportedOperation.InstanceState*)."""
    return "".join(part.capitalize() for part in state.split("_"))


def base36(number):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def ssh_public_key(key_type, blob_seed, comment):
    """An OpenSSH public key line whose blob is well formed (type name + 32 bytes); not derived from a real key."""
    name = key_type.encode()
    blob = len(name).to_bytes(4, "big") + name + (32).to_bytes(4, "big") + hashlib.sha256(blob_seed).digest()
    return "%s %s %s" % (key_type, base64.b64encode(blob).decode(), comment)


def parse_public_key(text):
    """Return (type, blob) of an OpenSSH public key line, or None when it is malformed."""
    parts = text.strip().split()
    if len(parts) < 2 or parts[0] not in PUBLIC_KEY_TYPES:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return None
    name = parts[0].encode()
    if blob[:4] != len(name).to_bytes(4, "big") or blob[4:4 + len(name)] != name:
        return None
    return parts[0], blob


def tag_list(tags):
    """Tags given as [{Key, Value}] or, in state files, as a {key: value} mapping."""
    if isinstance(tags, dict):
        return [{"Key": str(key), "Value": str(value)} for key, value in tags.items()]
    return [{"Key": tag["Key"], "Value": tag["Value"]} for tag in tags or []]


def is_windows(instance_data):
    return "windows" in (instance_data.get("OsName") or "").lower()


# ---------------------------------------------------------------------------------------------------------------------
# Resources.

def instance_defaults(instance_id, region, index):
    """Every Instance field that api.json declares and the emulator can fill cheaply, with realistic values."""
    suffix = instance_id[4:]
    private_ip = "10.%d.%d.%d" % (index // 62500 % 250, index // 250 % 250, index % 250 + 2)
    return {
        "Placement": {"Zone": region + "-3", "ProjectId": 0},
        "InstanceId": instance_id,
        "InstanceType": "S5.MEDIUM4",
        "CPU": 2,
        "Memory": 4,
        "RestrictState": "NORMAL",
        "InstanceName": instance_id,
        "InstanceChargeType": "POSTPAID_BY_HOUR",
        "SystemDisk": {"DiskType": "CLOUD_BSSD", "DiskId": "disk-" + suffix, "DiskSize": 50},
        "DataDisks": None,
        "PrivateIpAddresses": [private_ip],
        "PublicIpAddresses": None,
        "InternetAccessible": {"InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR", "InternetMaxBandwidthOut": 0, "PublicIpAssigned": False},
        "VirtualPrivateCloud": {"VpcId": "vpc-emu00001", "SubnetId": "subnet-emu00001", "AsVpcGateway": False,
                                "PrivateIpAddresses": [private_ip], "Ipv6AddressCount": 0},
        "ImageId": "img-emu00001",
        "RenewFlag": "NOTIFY_AND_MANUAL_RENEW",
        "CreatedTime": "2024-01-15T08:00:00Z",
        "ExpiredTime": None,
        "OsName": "TencentOS Server 3.1 (TK4)",
        "SecurityGroupIds": ["sg-emu00001"],
        "LoginSettings": {"KeyIds": None, "Password": None},
        "InstanceState": "STOPPED",
        "Tags": [],
        "StopChargingMode": "KEEP_CHARGING",
        "Uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "cvm-emulator/" + instance_id)),
        "LatestOperation": None,
        "LatestOperationState": None,
        "LatestOperationRequestId": None,
        "LatestOperationErrorMsg": None,
        "DisasterRecoverGroupId": "",
        "DisasterRecoverGroupIds": [],
        "IPv6Addresses": None,
        "CamRoleName": "",
        "HpcClusterId": "",
        "RdmaIpAddresses": None,
        "DedicatedClusterId": "",
        "IsolatedSource": "NOTISOLATED",
        "LicenseType": "TencentCloud",
        "DisableApiTermination": False,
        "HostName": "VM-%s-%s" % (private_ip.rsplit(".", 2)[1], private_ip.rsplit(".", 1)[1]),
        "DefaultLoginUser": "root",
        "DefaultLoginPort": 22,
    }


class Instance:
    """One CVM instance: its API representation plus where it lives and what it is doing."""

    __slots__ = ("data", "region", "operation", "operated", "operation_hidden")

    def __init__(self, data, region):
        self.data = data
        self.region = region
        self.operation = None
        self.operated = False  # an operation was accepted in this process (reading null_operation_fields)
        self.operation_hidden = False  # accepted, not shown yet (the start delay)

    @property
    def instance_id(self):
        return self.data["InstanceId"]

    @property
    def key_ids(self):
        return list(self.data["LoginSettings"].get("KeyIds") or [])


class KeyPair:
    """One key pair; AssociatedInstanceIds is not stored but derived from the instances."""

    __slots__ = ("data", "region")

    def __init__(self, data, region):
        self.data = data
        self.region = region


class Operation:
    """An accepted asynchronous operation: timed steps that run lazily, in order, from its start time."""

    __slots__ = ("started", "steps", "next_step")

    def __init__(self, started, steps):
        self.started = started
        self.steps = steps  # [(seconds after start, callable)], in time order
        self.next_step = 0

    def advance(self, now):
        while self.next_step < len(self.steps) and self.started + self.steps[self.next_step][0] <= now:
            self.steps[self.next_step][1]()
            self.next_step += 1
        return self.next_step == len(self.steps)


class OperationClock:
    """Monotonic time that stands still while operations are held (config hold_operations)."""

    def __init__(self):
        self.held_since = None
        self.held_total = 0.0

    def now(self):
        base = self.held_since if self.held_since is not None else time.monotonic()
        return base - self.held_total

    @property
    def held(self):
        return self.held_since is not None

    def hold(self, on):
        if on and self.held_since is None:
            self.held_since = time.monotonic()
        elif not on and self.held_since is not None:
            self.held_total += time.monotonic() - self.held_since
            self.held_since = None


class StateError(ValueError):
    """A state document (--state file or PUT /_emulator/state) that cannot be loaded."""


class World:
    """Credentials, regions, instances and key pairs, with the running operations. Callers hold the lock."""

    def __init__(self):
        self.credentials = {}  # secret_id -> {"secret_key", "token"}
        self.regions = []
        self.instances = {}  # instance_id -> Instance, in a stable (insertion) order
        self.key_pairs = {}  # key_id -> KeyPair
        self.bindings = {}  # key_id -> set of instance ids bound to it
        self.pending = set()  # ids of instances with an unfinished operation
        self.clock = OperationClock()
        self.lingering = {}  # key_id -> {instance_id: monotonic time until which the key still counts as in use}

    # -- loading and dumping -----------------------------------------------------------------------------------------

    def load(self, document, default_credentials, default_regions):
        """Replace everything by a state document (see docs/emulator.md); raises StateError and then changes nothing."""
        if not isinstance(document, dict):
            raise StateError("a state document is a JSON object")
        unknown = set(document) - {"credentials", "regions", "instances", "key_pairs"}
        if unknown:
            raise StateError("unknown state document keys: %s" % ", ".join(sorted(unknown)))
        credentials = load_credentials(document["credentials"]) if "credentials" in document else dict(default_credentials)
        regions = list(document.get("regions") or default_regions)
        key_pairs = {}
        for raw in document.get("key_pairs") or []:
            pair = load_key_pair(raw)
            if pair.data["KeyId"] in key_pairs:
                raise StateError("duplicate key pair %s" % pair.data["KeyId"])
            key_pairs[pair.data["KeyId"]] = pair
        instances = {}
        for raw in document.get("instances") or []:
            instance = load_instance(raw, len(instances))
            if instance.instance_id in instances:
                raise StateError("duplicate instance %s" % instance.instance_id)
            check_instance_keys(instance, key_pairs)
            instances[instance.instance_id] = instance
        for resource in list(instances.values()) + list(key_pairs.values()):
            if resource.region not in regions:
                regions.append(resource.region)
        self.credentials, self.regions, self.instances, self.key_pairs = credentials, regions, instances, key_pairs
        self.pending = set()
        self.bindings = {}
        self.lingering = {}
        for instance in instances.values():
            for key_id in instance.key_ids:
                self.bindings.setdefault(key_id, set()).add(instance.instance_id)

    def dump(self):
        """The state document of the current state (credentials are left out: they hold secrets)."""
        self.advance()
        return {
            "regions": list(self.regions),
            "instances": [dict(self.instance_view(instance), Region=instance.region) for instance in self.instances.values()],
            "key_pairs": [dict(self.key_pair_view(pair), Region=pair.region) for pair in self.key_pairs.values()],
        }

    def add_generated_instances(self, count, region=DEFAULT_REGION):
        """Add `count` STOPPED Linux instances with deterministic IDs (ins- + base36 counter) for scale tests."""
        if region not in self.regions:
            self.regions.append(region)
        zones = [region + "-3", region + "-4", region + "-6"]
        counter = 0
        for number in range(1, count + 1):
            counter += 1
            while "ins-" + base36(counter).rjust(8, "0") in self.instances:
                counter += 1
            instance_id = "ins-" + base36(counter).rjust(8, "0")
            data = instance_defaults(instance_id, region, len(self.instances))
            data["InstanceName"] = "gen-%05d" % number
            data["Placement"]["Zone"] = zones[number % len(zones)]
            data["Tags"] = [{"Key": "bench", "Value": "true"}]
            self.instances[instance_id] = Instance(data, region)

    # -- views -------------------------------------------------------------------------------------------------------

    def instance_view(self, instance):
        return copy.deepcopy(instance.data)

    def key_pair_view(self, pair):
        view = copy.deepcopy(pair.data)
        key_id = pair.data["KeyId"]
        view["AssociatedInstanceIds"] = sorted(set(self.bindings.get(key_id, ())) | set(self.lingering_instance_ids(key_id)))
        return view

    def lingering_instance_ids(self, key_id):
        """Instances a key was unbound from (or that were terminated) less than the key deletion lag ago."""
        now = time.monotonic()
        lingering = self.lingering.get(key_id) or {}
        for instance_id in [i for i, until in lingering.items() if until <= now]:
            del lingering[instance_id]
        return sorted(lingering)

    def linger(self, key_id, instance_id, seconds):
        if seconds > 0:
            self.lingering.setdefault(key_id, {})[instance_id] = time.monotonic() + seconds

    def terminate(self, instance_id, lag):
        """Remove an instance (as TerminateInstances would); its keys stay 'in use' for the deletion lag."""
        instance = self.instances.pop(instance_id)
        for key_id in instance.key_ids:
            self.bindings.get(key_id, set()).discard(instance_id)
            self.linger(key_id, instance_id, lag)
        self.pending.discard(instance_id)

    # -- operations --------------------------------------------------------------------------------------------------

    def advance(self):
        """Run every operation step that is due; cheap because only instances with an operation are visited."""
        if not self.pending:
            return
        now = self.clock.now()
        for instance_id in list(self.pending):
            instance = self.instances.get(instance_id)
            if instance is None or instance.operation is None or instance.operation.advance(now):
                if instance is not None:
                    instance.operation = None
                self.pending.discard(instance_id)

    def start_operation(self, instance, steps):
        instance.operation = Operation(self.clock.now(), steps)
        self.pending.add(instance.instance_id)
        if instance.operation.advance(self.clock.now()):  # steps due at once (zero latency) run now
            instance.operation = None
            self.pending.discard(instance.instance_id)

    def operating_instance_ids(self):
        """Instances with a running operation, plus any loaded from a state document as OPERATING (stuck for good)."""
        self.advance()
        stuck = {instance_id for instance_id, instance in self.instances.items() if instance.data.get("LatestOperationState") == "OPERATING"}
        return sorted(self.pending | stuck)

    # -- key bindings ------------------------------------------------------------------------------------------------

    def set_instance_keys(self, instance, key_ids, deletion_lag=0.0):
        """Set an instance's KeyIds (null when none, as the real API) and keep the key pairs' view consistent.

        A key that goes keeps counting as in use by the instance for `deletion_lag` seconds (reading key_deletion_lag).
        """
        key_ids = [key_id for key_id in unique(key_ids) if key_id in self.key_pairs]  # a key deleted meanwhile is gone
        for key_id in instance.key_ids:
            self.bindings.get(key_id, set()).discard(instance.instance_id)
            if key_id not in key_ids:
                self.linger(key_id, instance.instance_id, deletion_lag)
        for key_id in key_ids:
            self.bindings.setdefault(key_id, set()).add(instance.instance_id)
            self.lingering.get(key_id, {}).pop(instance.instance_id, None)
        instance.data["LoginSettings"]["KeyIds"] = key_ids or None

    def bound_instance_ids(self, key_id):
        return sorted(self.bindings.get(key_id, ()))


# AssociatedInstanceIds is accepted (a dumped state loads back) but ignored: it is derived from the instances' KeyIds.
KEY_PAIR_STATE_FIELDS = frozenset(("KeyId", "KeyName", "ProjectId", "Description", "PublicKey", "CreatedTime", "Tags",
                                   "AssociatedInstanceIds", "Region"))


def load_credentials(raw_list):
    credentials = {}
    for raw in raw_list or []:
        if not isinstance(raw, dict) or not raw.get("secret_id") or not raw.get("secret_key"):
            raise StateError("each credential needs a secret_id and a secret_key")
        credentials[raw["secret_id"]] = {"secret_key": raw["secret_key"], "token": raw.get("token") or None}
    if not credentials:
        raise StateError("at least one credential is needed")
    return credentials


def load_instance(raw, index):
    if not isinstance(raw, dict) or not INSTANCE_ID_RE.match(str(raw.get("InstanceId", ""))):
        raise StateError("each instance needs an InstanceId like ins-xxxxxxxx, got %r" % (raw.get("InstanceId") if isinstance(raw, dict) else raw))
    raw = copy.deepcopy(raw)
    region = raw.pop("Region", DEFAULT_REGION)
    data = instance_defaults(raw["InstanceId"], region, index)
    undeclared = set(raw) - set(data)
    if undeclared:  # only fields the emulator knows api.json declares, so responses stay within the contract
        raise StateError("instance %s has unsupported fields: %s" % (raw["InstanceId"], ", ".join(sorted(undeclared))))
    for nested in ("Placement", "LoginSettings", "SystemDisk", "InternetAccessible", "VirtualPrivateCloud"):
        if isinstance(raw.get(nested), dict):
            data[nested].update(raw.pop(nested))
    data.update(raw)
    data["Tags"] = tag_list(data.get("Tags"))
    data["LoginSettings"]["KeyIds"] = unique(data["LoginSettings"].get("KeyIds") or []) or None
    if "StopChargingMode" not in raw and data["InstanceState"] != "STOPPED":
        data["StopChargingMode"] = "NOT_APPLICABLE"
    if is_windows(data) and "DefaultLoginUser" not in raw:
        data["DefaultLoginUser"], data["DefaultLoginPort"] = "Administrator", 3389
    return Instance(data, region)


def load_key_pair(raw):
    if not isinstance(raw, dict) or not KEY_ID_RE.match(str(raw.get("KeyId", ""))):
        raise StateError("each key pair needs a KeyId like skey-xxxxxxxx, got %r" % (raw.get("KeyId") if isinstance(raw, dict) else raw))
    key_id = raw["KeyId"]
    undeclared = set(raw) - KEY_PAIR_STATE_FIELDS
    if undeclared:
        raise StateError("key pair %s has unsupported fields: %s" % (key_id, ", ".join(sorted(undeclared))))
    data = {
        "KeyId": key_id,
        "KeyName": raw.get("KeyName", key_id.replace("-", "_")),
        "ProjectId": raw.get("ProjectId", 0),
        "Description": raw.get("Description", ""),
        "PublicKey": raw.get("PublicKey") or ssh_public_key("ssh-ed25519", key_id.encode(), key_id.replace("-", "_")),
        "CreatedTime": raw.get("CreatedTime", "2024-01-10T08:00:00Z"),
        "Tags": tag_list(raw.get("Tags")),
    }
    return KeyPair(data, raw.get("Region", DEFAULT_REGION))


def check_instance_keys(instance, key_pairs):
    for key_id in instance.key_ids:
        pair = key_pairs.get(key_id)
        if pair is None or pair.region != instance.region:
            raise StateError("instance %s is bound to key %s, which is not a key pair of region %s"
                             % (instance.instance_id, key_id, instance.region))


# ---------------------------------------------------------------------------------------------------------------------
# The default seed (documented in docs/emulator.md; other tests rely on these exact IDs).

# Each zone of the seed has its own subnet in one VPC, as a real account's default network would.
SEED_VPC_ID = "vpc-a1b2c3d4"
SEED_SUBNETS = {"ap-guangzhou-3": "subnet-g3000001", "ap-guangzhou-4": "subnet-g4000001", "ap-guangzhou-6": "subnet-g6000001"}


def seed_instance(instance_id, name, state, zone, tags, key_ids, os_name, public_ip=None, private_ip=None, instance_type="S5.MEDIUM4"):
    instance = {
        "InstanceId": instance_id, "InstanceName": name, "InstanceState": state, "OsName": os_name, "InstanceType": instance_type,
        "Placement": {"Zone": zone, "ProjectId": 0}, "Tags": tags, "LoginSettings": {"KeyIds": key_ids or None, "Password": None},
        "PublicIpAddresses": [public_ip] if public_ip else None,
        "LatestOperation": "StartInstances" if state == "RUNNING" else "StopInstances",
        "LatestOperationState": "SUCCESS",
        "LatestOperationRequestId": str(uuid.uuid5(uuid.NAMESPACE_URL, "cvm-emulator/seed/" + instance_id)),
        "LatestOperationErrorMsg": "",
        "Region": DEFAULT_REGION,
    }
    if private_ip:
        instance["PrivateIpAddresses"] = [private_ip]
        instance["VirtualPrivateCloud"] = {"VpcId": SEED_VPC_ID, "SubnetId": SEED_SUBNETS[zone], "PrivateIpAddresses": [private_ip]}
        instance["HostName"] = "VM-%s-%s" % tuple(private_ip.rsplit(".", 2)[1:])
    if public_ip:
        instance["InternetAccessible"] = {"InternetMaxBandwidthOut": 5, "PublicIpAssigned": True}
    return instance


def default_state_document():
    prod_web = {"env": "prod", "role": "web"}
    instances = [
        seed_instance("ins-a1000001", "web-1", "RUNNING", "ap-guangzhou-3", prod_web, ["skey-k1000001"],
                      "TencentOS Server 3.1 (TK4)", "203.0.113.11", "10.0.3.11", "S5.MEDIUM4"),
        seed_instance("ins-a1000002", "web-2", "RUNNING", "ap-guangzhou-4", prod_web, [], "Ubuntu Server 22.04 LTS 64bit", "203.0.113.12",
                      "10.0.4.12", "S5.MEDIUM4"),
        seed_instance("ins-a1000003", "db-1", "STOPPED", "ap-guangzhou-3", {"env": "prod", "role": "db"}, ["skey-k1000001"],
                      "CentOS 7.9 64bit", None, "10.0.3.13", "M5.LARGE16"),
        seed_instance("ins-a1000004", "batch-1", "STOPPED", "ap-guangzhou-6", {"env": "dev"}, [], "Debian 12.0 64bit", None,
                      "10.0.6.14", "SA2.MEDIUM2"),
        seed_instance("ins-a1000005", "batch-2", "STOPPED", "ap-guangzhou-6", {"env": "dev"}, ["skey-k1000002"], "Debian 12.0 64bit", None,
                      "10.0.6.15", "SA2.MEDIUM2"),
        seed_instance("ins-a1000006", "win-1", "STOPPED", "ap-guangzhou-4", {"env": "dev"}, [],
                      "Windows Server 2022 Datacenter 64bit English", None, "10.0.4.16", "S5.LARGE8"),
    ]
    key_pairs = [
        {"KeyId": "skey-k1000001", "KeyName": "ops-team", "Description": "operations team", "Region": DEFAULT_REGION},
        {"KeyId": "skey-k1000002", "KeyName": "deploy", "Description": "CI deploy key", "Region": DEFAULT_REGION},
        {"KeyId": "skey-k1000003", "KeyName": "alice", "Description": "", "Region": DEFAULT_REGION},
        {"KeyId": "skey-k1000004", "KeyName": "bob", "Description": "", "Region": DEFAULT_REGION},
    ]
    return {"instances": instances, "key_pairs": key_pairs}


# ---------------------------------------------------------------------------------------------------------------------
# Filters of the Describe actions: filter name -> the values of a resource that the filter's Values are matched against.

INSTANCE_FILTERS = {
    "instance-id": lambda data: [data["InstanceId"]],
    "instance-name": lambda data: [data["InstanceName"]],
    "instance-state": lambda data: [data["InstanceState"]],
    "instance-charge-type": lambda data: [data.get("InstanceChargeType")],
    "zone": lambda data: [data["Placement"]["Zone"]],
    "project-id": lambda data: [str(data["Placement"].get("ProjectId", 0))],
    "uuid": lambda data: [data.get("Uuid")],
    "private-ip-address": lambda data: data.get("PrivateIpAddresses") or [],
    "public-ip-address": lambda data: data.get("PublicIpAddresses") or [],
    "vpc-id": lambda data: [(data.get("VirtualPrivateCloud") or {}).get("VpcId")],
    "subnet-id": lambda data: [(data.get("VirtualPrivateCloud") or {}).get("SubnetId")],
    "security-group-id": lambda data: data.get("SecurityGroupIds") or [],
    "tag-key": lambda data: [tag["Key"] for tag in data.get("Tags") or []],
    "tag-value": lambda data: [tag["Value"] for tag in data.get("Tags") or []],
}

KEY_PAIR_FILTERS = {
    "key-id": lambda data: [data["KeyId"]],
    "key-name": lambda data: [data["KeyName"]],
    "project-id": lambda data: [str(data.get("ProjectId", 0))],
    "tag-key": lambda data: [tag["Key"] for tag in data.get("Tags") or []],
    "tag-value": lambda data: [tag["Value"] for tag in data.get("Tags") or []],
}


def check_filters(filters, table):
    if len(filters) > MAX_FILTERS:
        raise ApiError("InvalidParameterValue.LimitExceeded", "At most %d `Filters` are allowed, got %d." % (MAX_FILTERS, len(filters)))
    for index, item in enumerate(filters):
        name = item["Name"]
        if name not in table and not (name.startswith("tag:") and len(name) > 4):
            raise ApiError("InvalidFilter", "The filter `%s` (Filters.%d.Name) is not supported; supported: %s, tag:<key>."
                           % (name, index, ", ".join(sorted(table))))
        if len(item["Values"]) > MAX_FILTER_VALUES:
            raise ApiError("InvalidFilterValue.LimitExceeded", "The filter `%s` has %d values; at most %d are allowed."
                           % (name, len(item["Values"]), MAX_FILTER_VALUES))


def matches_filters(data, filters, table):
    """Values of one filter are ORed, filters are ANDed (Tencent's semantics)."""
    for item in filters:
        name = item["Name"]
        if name.startswith("tag:"):
            values = [tag["Value"] for tag in data.get("Tags") or [] if tag["Key"] == name[4:]]
        else:
            values = table[name](data)
        if not set(values) & set(item["Values"]):
            return False
    return True


def paginate(items, params):
    offset = params.get("Offset", 0)
    limit = params.get("Limit", DEFAULT_LIMIT)
    if offset < 0:
        raise ApiError("InvalidParameterValue.Range", "The value `%d` of parameter `Offset` must not be negative." % offset)
    if limit > MAX_LIMIT:
        raise ApiError("InvalidParameterValue.LimitExceeded", "The value `%d` of parameter `Limit` exceeds the maximum of %d." % (limit, MAX_LIMIT))
    if limit < 1:
        raise ApiError("InvalidParameterValue.Range", "The value `%d` of parameter `Limit` must be between 1 and %d." % (limit, MAX_LIMIT))
    return items[offset:offset + limit]


def check_ids(name, ids, pattern, malformed_code, kind, example):
    """Batch size and ID shape checks, in the order the real API reports them; returns the IDs de-duplicated."""
    if len(ids) > MAX_BATCH:
        raise ApiError("InvalidParameterValue.LimitExceeded", "The number of `%s` (%d) exceeds the limit of %d per request."
                       % (name, len(ids), MAX_BATCH))
    malformed = [item for item in ids if not pattern.match(item)]
    if malformed:
        raise ApiError(malformed_code, "The %s ID(s) %s in `%s` are malformed: expected the form `%s`."
                       % (kind, quoted(malformed), name, example))
    return unique(ids)


# ---------------------------------------------------------------------------------------------------------------------
# The actions. Each handler gets (api, request, params) and returns the Response members other than RequestId.

ApiRequest = collections.namedtuple("ApiRequest", "region request_id")


class CvmApi:
    """The CVM actions over a World, with the runtime configuration they depend on."""

    def __init__(self, world, config, rng):
        self.world = world
        self.config = config
        self.rng = rng
        self.id_rng = random.Random(rng.random())

    # -- lookups -----------------------------------------------------------------------------------------------------

    def instances_in(self, region, instance_ids):
        """The instances of a write, all of which must exist in the region."""
        missing = [item for item in instance_ids if item not in self.world.instances or self.world.instances[item].region != region]
        if missing:
            raise ApiError("InvalidInstanceId.NotFound", "The instance ID(s) %s do not exist in region `%s`." % (quoted(missing), region))
        return [self.world.instances[item] for item in instance_ids]

    def key_pairs_in(self, region, key_ids):
        missing = [item for item in key_ids if item not in self.world.key_pairs or self.world.key_pairs[item].region != region]
        if missing:
            raise ApiError("InvalidKeyPairId.NotFound", "The key pair ID(s) %s do not exist in region `%s`." % (quoted(missing), region))
        return [self.world.key_pairs[item] for item in key_ids]

    # -- checks shared by the instance operations --------------------------------------------------------------------

    @staticmethod
    def reject_windows(instances):
        windows = [instance for instance in instances if is_windows(instance.data)]
        if windows:
            raise ApiError("UnsupportedOperation.InstanceOsWindows", "The request does not support Windows instances: %s (%s)."
                           % (quoted(instance.instance_id for instance in windows), windows[0].data.get("OsName")))

    @staticmethod
    def reject_stop_charging(instances):
        stopped = [i.instance_id for i in instances if i.data["InstanceState"] == "STOPPED" and i.data.get("StopChargingMode") == "STOP_CHARGING"]
        if stopped:
            raise ApiError("UnsupportedOperation.StoppedModeStopCharging",
                           "The request does not support instances shut down in STOP_CHARGING mode: %s." % quoted(stopped))

    @staticmethod
    def reject_states(instances, allowed_states, hint):
        """Fail the whole batch on the first state group that may not be operated on, naming its instances."""
        by_state = collections.OrderedDict()
        for instance in instances:
            if instance.data["InstanceState"] not in allowed_states:
                by_state.setdefault(instance.data["InstanceState"], []).append(instance.instance_id)
        for state, ids in by_state.items():
            raise ApiError("UnsupportedOperation.InstanceState" + camel_state(state),
                           "The request does not support instances in state `%s`: %s.%s" % (state, quoted(ids), hint))

    @staticmethod
    def reject_busy(instances):
        busy = [instance.instance_id for instance in instances
                if instance.operation is not None or instance.data.get("LatestOperationState") == "OPERATING"]
        if busy:
            raise ApiError("OperationDenied.InstanceOperationInProgress",
                           "An operation is still in progress on instance(s) %s; retry when it has finished." % quoted(busy))

    def failure_for(self, instance, action):
        """The error message an operation will end with (FAILED), or None when it succeeds."""
        message = self.config.operation_failures.get(instance.instance_id)
        if message:
            return message
        probability = self.config.faults["operation_failed"]
        if action in KEY_BINDING_ACTIONS and probability and self.rng.random() < probability:
            return "%s failed on instance %s: internal task error (injected fault), please retry." % (action, instance.instance_id)
        return None

    # -- operation timelines -----------------------------------------------------------------------------------------

    def schedule(self, instance, action, request_id, timeline, failure, restart_after=None):
        """Start an operation: show it as OPERATING, run the timeline [(fraction of latency, callable)], then finish it.

        restart_after: (fraction, timeline) of a StartInstances operation of its own (reading restart_as_own_operation):
        the first operation finishes at `fraction` of the latency, then the restart shows with a new RequestId.
        """
        latency = self.config.operation_latency
        delay = self.config.operation_start_delay
        data = instance.data
        instance.operated = True
        instance.operation_hidden = True

        def show():
            instance.operation_hidden = False
            data.update(LatestOperation=action, LatestOperationState="OPERATING", LatestOperationRequestId=request_id,
                        LatestOperationErrorMsg="")

        def finish():
            data.update(LatestOperationState="FAILED" if failure else "SUCCESS", LatestOperationErrorMsg=failure or "")

        steps = [(delay, show)] + [(delay + fraction * latency, step) for fraction, step in timeline]
        if restart_after is None:
            steps.append((delay + latency, finish))
        else:
            finished_at, restart_timeline = restart_after
            restart_id = str(uuid.uuid4())

            def show_restart():
                data.update(LatestOperation="StartInstances", LatestOperationState="OPERATING", LatestOperationRequestId=restart_id,
                            LatestOperationErrorMsg="")

            def finish_restart():
                data.update(LatestOperationState="SUCCESS", LatestOperationErrorMsg="")

            steps.append((delay + finished_at * latency, finish))
            steps.append((delay + restart_timeline[0][0] * latency, show_restart))
            steps += [(delay + fraction * latency, step) for fraction, step in restart_timeline]
            steps.append((delay + latency, finish_restart))
        steps.sort(key=lambda step: step[0])  # stable: steps due at the same time keep their order
        self.world.start_operation(instance, steps)

    @staticmethod
    def set_state(instance, state, stop_charging_mode=None):
        def step():
            instance.data["InstanceState"] = state
            if stop_charging_mode:
                instance.data["StopChargingMode"] = stop_charging_mode
        return step

    def key_change_timeline(self, instance, change, force_stop):
        """Stopped: change keys at the end. Running with ForceStop: STOPPING, STOPPED, keys, STARTING, RUNNING.

        Returns (timeline, restart_after) for schedule(); with restart_as_own_operation the restart of a RUNNING
        instance is a StartInstances operation of its own, after the key change has finished (SUCCESS or FAILED).
        """
        if instance.data["InstanceState"] == "RUNNING" and force_stop:
            if self.config.restart_as_own_operation:
                stop = [(0.0, self.set_state(instance, "STOPPING")), (0.25, self.set_state(instance, "STOPPED")), (0.5, change)]
                restart = [(0.7, self.set_state(instance, "STARTING")), (1.0, self.set_state(instance, "RUNNING"))]
                return stop, (0.6, restart)
            return [(0.0, self.set_state(instance, "STOPPING")), (1 / 3, self.set_state(instance, "STOPPED")),
                    (2 / 3, change), (2 / 3, self.set_state(instance, "STARTING")), (1.0, self.set_state(instance, "RUNNING"))], None
        return [(1.0, change)], None

    def api_instance_view(self, instance):
        """What DescribeInstances shows; with null_operation_fields, LatestOperation* are null on an instance never operated
        and while an accepted operation is not shown yet (the start delay)."""
        view = self.world.instance_view(instance)
        if self.config.null_operation_fields and (not instance.operated or instance.operation_hidden):
            view.update(LatestOperation=None, LatestOperationState=None, LatestOperationRequestId=None, LatestOperationErrorMsg=None)
        return view

    def reject_duplicates(self, instances, key_ids, binding):
        """Reading strict_duplicates (the codes of the sibling Lighthouse API): the whole call fails, nothing changes."""
        if not self.config.strict_duplicates:
            return
        if binding:
            if self.config.bind_replaces_keys:
                return  # a bind sets the list: nothing in it is a duplicate
            clashes = ["%s (%s)" % (i.instance_id, ", ".join(k for k in key_ids if k in i.key_ids)) for i in instances
                       if set(key_ids) & set(i.key_ids)]
            if clashes:
                raise ApiError("UnsupportedOperation.KeyPairBindDuplicate",
                               "The key pair(s) are already bound to instance(s): %s." % "; ".join(clashes))
            return
        missing = ["%s (%s)" % (i.instance_id, ", ".join(k for k in key_ids if k not in i.key_ids)) for i in instances
                   if set(key_ids) - set(i.key_ids)]
        if missing:
            raise ApiError("UnsupportedOperation.KeyPairNotBoundToInstance",
                           "The key pair(s) are not bound to instance(s): %s." % "; ".join(missing))

    # -- actions -----------------------------------------------------------------------------------------------------

    def describe_instances(self, request, params):
        instance_ids = params.get("InstanceIds") or []
        filters = params.get("Filters") or []
        if instance_ids and filters:
            raise ApiError("InvalidParameterCombination", "The parameters `InstanceIds` and `Filters` cannot be specified at the same time.")
        check_filters(filters, INSTANCE_FILTERS)
        if instance_ids:
            instance_ids = check_ids("InstanceIds", instance_ids, INSTANCE_ID_RE, "InvalidInstanceId.Malformed", "instance", "ins-xxxxxxxx")
            found = [self.world.instances.get(item) for item in instance_ids]  # dict look-ups: fast with 10,000 instances
            found = [instance for instance in found if instance is not None and instance.region == request.region]
        else:
            found = [instance for instance in self.world.instances.values()
                     if instance.region == request.region and matches_filters(instance.data, filters, INSTANCE_FILTERS)]
        page = paginate(found, params)
        return {"TotalCount": len(found), "InstanceSet": [self.api_instance_view(instance) for instance in page]}

    def describe_key_pairs(self, request, params):
        key_ids = params.get("KeyIds") or []
        filters = params.get("Filters") or []
        if key_ids and filters:
            raise ApiError("InvalidParameterCombination", "The parameters `KeyIds` and `Filters` cannot be specified at the same time.")
        check_filters(filters, KEY_PAIR_FILTERS)
        if key_ids:
            key_ids = check_ids("KeyIds", key_ids, KEY_ID_RE, "InvalidKeyPairId.Malformed", "key pair", "skey-xxxxxxxx")
            found = [self.world.key_pairs.get(item) for item in key_ids]
            found = [pair for pair in found if pair is not None and pair.region == request.region]
        else:
            found = [pair for pair in self.world.key_pairs.values()
                     if pair.region == request.region and matches_filters(pair.data, filters, KEY_PAIR_FILTERS)]
        page = paginate(found, params)
        return {"TotalCount": len(found), "KeyPairSet": [self.world.key_pair_view(pair) for pair in page]}

    def key_binding_batch(self, request, params):
        """Validate an Associate/Disassociate batch completely before anything changes."""
        instance_ids = check_ids("InstanceIds", params["InstanceIds"], INSTANCE_ID_RE, "InvalidInstanceId.Malformed", "instance", "ins-xxxxxxxx")
        key_ids = check_ids("KeyIds", params["KeyIds"], KEY_ID_RE, "InvalidKeyPairId.Malformed", "key pair", "skey-xxxxxxxx")
        instances = self.instances_in(request.region, instance_ids)
        self.key_pairs_in(request.region, key_ids)
        force_stop = params.get("ForceStop", False)
        self.reject_windows(instances)
        self.reject_stop_charging(instances)
        allowed = {"STOPPED", "RUNNING"} if force_stop else {"STOPPED"}
        self.reject_states(instances, allowed, "" if force_stop else " Shut them down first, or set `ForceStop` to true.")
        self.reject_busy(instances)
        return instances, key_ids, force_stop

    def associate_instances_key_pairs(self, request, params):
        instances, key_ids, force_stop = self.key_binding_batch(request, params)
        self.reject_duplicates(instances, key_ids, binding=True)
        replace = self.config.bind_replaces_keys  # decided when the call is accepted
        lag = self.config.key_deletion_lag
        for instance in instances:
            failure = self.failure_for(instance, "AssociateInstancesKeyPairs")

            def bind(instance=instance, failure=failure):
                if not failure:
                    self.world.set_instance_keys(instance, key_ids if replace else instance.key_ids + key_ids, lag)
            timeline, restart_after = self.key_change_timeline(instance, bind, force_stop)
            self.schedule(instance, "AssociateInstancesKeyPairs", request.request_id, timeline, failure, restart_after)
        return {}

    def disassociate_instances_key_pairs(self, request, params):
        instances, key_ids, force_stop = self.key_binding_batch(request, params)
        self.reject_duplicates(instances, key_ids, binding=False)
        lag = self.config.key_deletion_lag
        for instance in instances:
            failure = self.failure_for(instance, "DisassociateInstancesKeyPairs")

            def unbind(instance=instance, failure=failure):
                if not failure:  # unbinding a key that is not bound is a successful no-op (unless strict_duplicates)
                    self.world.set_instance_keys(instance, [key_id for key_id in instance.key_ids if key_id not in key_ids], lag)
            timeline, restart_after = self.key_change_timeline(instance, unbind, force_stop)
            self.schedule(instance, "DisassociateInstancesKeyPairs", request.request_id, timeline, failure, restart_after)
        return {}

    def start_instances(self, request, params):
        instance_ids = check_ids("InstanceIds", params["InstanceIds"], INSTANCE_ID_RE, "InvalidInstanceId.Malformed", "instance", "ins-xxxxxxxx")
        instances = self.instances_in(request.region, instance_ids)
        self.reject_states(instances, {"STOPPED"}, "")
        self.reject_busy(instances)
        for instance in instances:
            failure = self.failure_for(instance, "StartInstances")
            end = self.set_state(instance, "STOPPED") if failure else self.set_state(instance, "RUNNING", "NOT_APPLICABLE")
            self.schedule(instance, "StartInstances", request.request_id, [(0.0, self.set_state(instance, "STARTING")), (1.0, end)], failure)
        return {}

    def stop_instances(self, request, params):
        instance_ids = check_ids("InstanceIds", params["InstanceIds"], INSTANCE_ID_RE, "InvalidInstanceId.Malformed", "instance", "ins-xxxxxxxx")
        if "ForceStop" in params and "StopType" in params:
            raise ApiError("InvalidParameterCombination", "The parameters `ForceStop` and `StopType` cannot be specified at the same time.")
        if params.get("StopType", "SOFT") not in ("SOFT", "HARD", "SOFT_FIRST"):
            raise ApiError("InvalidParameterValue", "The value `%s` of parameter `StopType` is invalid; use SOFT, HARD or SOFT_FIRST." % params["StopType"])
        stopped_mode = params.get("StoppedMode", "KEEP_CHARGING")
        if stopped_mode not in ("KEEP_CHARGING", "STOP_CHARGING"):
            raise ApiError("InvalidParameterValue", "The value `%s` of parameter `StoppedMode` is invalid; use KEEP_CHARGING or STOP_CHARGING." % stopped_mode)
        instances = self.instances_in(request.region, instance_ids)
        self.reject_states(instances, {"RUNNING"}, "")
        self.reject_busy(instances)
        for instance in instances:
            failure = self.failure_for(instance, "StopInstances")
            mode = stopped_mode if instance.data.get("InstanceChargeType") == "POSTPAID_BY_HOUR" else "NOT_APPLICABLE"
            end = self.set_state(instance, "RUNNING") if failure else self.set_state(instance, "STOPPED", mode)
            self.schedule(instance, "StopInstances", request.request_id, [(0.0, self.set_state(instance, "STOPPING")), (1.0, end)], failure)
        return {}

    # -- key pair lifecycle ------------------------------------------------------------------------------------------

    def check_new_key_pair(self, request, params):
        """Name rules from api.json (letters, digits, underscore; at most 25) and uniqueness within the region."""
        name = params["KeyName"]
        if not name:
            raise ApiError("InvalidKeyPairNameEmpty", "The key pair name must not be empty.")
        if len(name) > MAX_KEY_NAME_LENGTH:
            raise ApiError("InvalidKeyPairNameTooLong", "The key pair name `%s` is longer than %d characters." % (name, MAX_KEY_NAME_LENGTH))
        if not KEY_NAME_RE.match(name):
            raise ApiError("InvalidKeyPairNameIncludeIllegalChar",
                           "The key pair name `%s` contains illegal characters; use only letters, digits and underscores." % name)
        if any(pair.region == request.region and pair.data["KeyName"] == name for pair in self.world.key_pairs.values()):
            raise ApiError("InvalidKeyPairName.Duplicate", "A key pair named `%s` already exists in region `%s`." % (name, request.region))
        if params["ProjectId"] < 0:
            raise ApiError("InvalidProjectId.NotFound", "The project ID `%d` does not exist." % params["ProjectId"])
        tags = []
        for index, spec in enumerate(params.get("TagSpecification") or []):
            if spec["ResourceType"] != "keypair":
                raise ApiError("InvalidParameterValue", "The value `%s` of `TagSpecification.%d.ResourceType` is invalid here; use `keypair`."
                               % (spec["ResourceType"], index))
            tags.extend(spec["Tags"])
        return tags

    def new_key_id(self):
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        while True:
            key_id = "skey-" + "".join(self.id_rng.choice(alphabet) for position in range(8))
            if key_id not in self.world.key_pairs:
                return key_id

    def add_key_pair(self, request, params, tags, public_key):
        key_id = self.new_key_id()
        data = {"KeyId": key_id, "KeyName": params["KeyName"], "ProjectId": params["ProjectId"], "Description": "",
                "PublicKey": public_key, "CreatedTime": iso_time(time.time()), "Tags": tag_list(tags)}
        self.world.key_pairs[key_id] = KeyPair(data, request.region)
        return self.world.key_pairs[key_id]

    def create_key_pair(self, request, params):
        tags = self.check_new_key_pair(request, params)
        secret = bytes(self.id_rng.getrandbits(8) for position in range(32))
        pair = self.add_key_pair(request, params, tags, ssh_public_key("ssh-ed25519", secret, params["KeyName"]))
        view = self.world.key_pair_view(pair)
        # Shown once and never stored, like the real API. It is a placeholder, not a usable private key.
        body = base64.encodebytes(b"openssh-key-v1\0emulator placeholder\0" + secret).decode()
        view["PrivateKey"] = "-----BEGIN OPENSSH PRIVATE KEY-----\n%s-----END OPENSSH PRIVATE KEY-----\n" % body
        return {"KeyPair": view}

    def import_key_pair(self, request, params):
        tags = self.check_new_key_pair(request, params)
        parsed = parse_public_key(params["PublicKey"])
        if parsed is None:
            raise ApiError("InvalidPublicKey.Malformed", "The public key is not a valid OpenSSH public key (`<type> <base64 blob> [comment]`).")
        for pair in self.world.key_pairs.values():
            if pair.region == request.region and parse_public_key(pair.data["PublicKey"]) == parsed:
                raise ApiError("InvalidPublicKey.Duplicate", "The public key is already imported as key pair `%s`." % pair.data["KeyId"])
        pair = self.add_key_pair(request, params, tags, params["PublicKey"].strip())
        return {"KeyId": pair.data["KeyId"]}

    def delete_key_pairs(self, request, params):
        key_ids = check_ids("KeyIds", params["KeyIds"], KEY_ID_RE, "InvalidKeyPairId.Malformed", "key pair", "skey-xxxxxxxx")
        self.key_pairs_in(request.region, key_ids)
        for key_id in key_ids:
            if key_id in self.config.image_key_ids:
                raise ApiError("InvalidKeyPair.NotSupported", "The key pair `%s` is used by a custom image and cannot be deleted." % key_id)
            bound = self.world.bound_instance_ids(key_id)
            if bound:
                raise ApiError("InvalidParameterValue.KeyPairNotSupported", "The key pair `%s` is bound to instance(s) %s; unbind it first."
                               % (key_id, quoted(bound)))
            lingering = self.world.lingering_instance_ids(key_id)
            if lingering:  # reading key_deletion_lag: the unbinding (or termination) has not reached every part of the service yet
                raise ApiError("InvalidParameterValue.KeyPairNotSupported", "The key pair `%s` is still in use by instance(s) %s; retry later."
                               % (key_id, quoted(lingering)))
        for key_id in key_ids:
            del self.world.key_pairs[key_id]
            self.world.bindings.pop(key_id, None)
            self.world.lingering.pop(key_id, None)
        return {}


# The action table: declared parameters (as in api.json), handler, whether it writes, default requests/second.
Action = collections.namedtuple("Action", "params handler write rate_limit")

DESCRIBE_INSTANCES_PARAMS = {"InstanceIds": optional("list", "string"), "Filters": optional("list", "Filter"),
                             "Offset": optional("int", "int64"), "Limit": optional("int", "int64")}
DESCRIBE_KEY_PAIRS_PARAMS = {"KeyIds": optional("list", "string"), "Filters": optional("list", "Filter"),
                             "Offset": optional("int", "int64"), "Limit": optional("int", "int64")}
KEY_BINDING_PARAMS = {"InstanceIds": required("list", "string"), "KeyIds": required("list", "string"), "ForceStop": optional("bool", "bool")}
STOP_INSTANCES_PARAMS = {"InstanceIds": required("list", "string"), "ForceStop": optional("bool", "bool"),
                         "StopType": optional("string", "string"), "StoppedMode": optional("string", "string")}
CREATE_KEY_PAIR_PARAMS = {"KeyName": required("string", "string"), "ProjectId": required("int", "int64"),
                          "TagSpecification": optional("list", "TagSpecification")}
IMPORT_KEY_PAIR_PARAMS = dict(CREATE_KEY_PAIR_PARAMS, PublicKey=required("string", "string"))

ACTIONS = {
    "DescribeInstances": Action(DESCRIBE_INSTANCES_PARAMS, CvmApi.describe_instances, False, 40),
    "DescribeKeyPairs": Action(DESCRIBE_KEY_PAIRS_PARAMS, CvmApi.describe_key_pairs, False, 10),
    "AssociateInstancesKeyPairs": Action(KEY_BINDING_PARAMS, CvmApi.associate_instances_key_pairs, True, 10),
    "DisassociateInstancesKeyPairs": Action(KEY_BINDING_PARAMS, CvmApi.disassociate_instances_key_pairs, True, 10),
    "StartInstances": Action({"InstanceIds": required("list", "string")}, CvmApi.start_instances, True, 10),
    "StopInstances": Action(STOP_INSTANCES_PARAMS, CvmApi.stop_instances, True, 10),
    "CreateKeyPair": Action(CREATE_KEY_PAIR_PARAMS, CvmApi.create_key_pair, True, 10),
    "ImportKeyPair": Action(IMPORT_KEY_PAIR_PARAMS, CvmApi.import_key_pair, True, 10),
    "DeleteKeyPairs": Action({"KeyIds": required("list", "string")}, CvmApi.delete_key_pairs, True, 10),
}
WRITE_ACTIONS = frozenset(name for name, action in ACTIONS.items() if action.write)


# ---------------------------------------------------------------------------------------------------------------------
# Runtime configuration, rate limiting and the request log.

class Config:
    """Everything GET/PATCH /_emulator/config shows and changes."""

    def __init__(self, operation_latency=DEFAULT_OPERATION_LATENCY, operation_start_delay=0.0, bind_replaces_keys=False,
                 rate_limits=None, faults=None, seed=None, readings=None):
        self.operation_latency = operation_latency
        self.operation_start_delay = operation_start_delay
        self.bind_replaces_keys = bind_replaces_keys
        # Readings of what the API leaves open (docs/emulator.md, "Readings of the API"); the defaults are the lenient ones.
        self.strict_duplicates = False
        self.restart_as_own_operation = False
        self.null_operation_fields = False
        self.key_deletion_lag = 0.0
        self.image_key_ids = []
        for name, value in (readings or {}).items():
            getattr(self, "_patch_" + name)(value)
        self.rate_limits = {name: action.rate_limit for name, action in ACTIONS.items()}
        self.rate_limits.update(rate_limits or {})
        self.faults = dict.fromkeys(FAULT_PROBABILITIES, 0.0)
        self.faults["response_latency_ms"] = 0
        self.faults.update(faults or {})
        self.operation_failures = {}
        self.hold_operations = False
        self.seed = seed

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
            "rate_limits": dict(self.rate_limits),
            "faults": dict(self.faults),
            "operation_failures": dict(self.operation_failures),
            "hold_operations": self.hold_operations,
            "seed": self.seed,
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


class RateLimiter:
    """Sliding window per action: refuse when `limit` requests were accepted in the previous second."""

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


# ---------------------------------------------------------------------------------------------------------------------
# Signature verification (TC3-HMAC-SHA256, as the SDK computes it).

def hmac_sha256(key, message):
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key, date, service, string_to_sign):
    signing_key = hmac_sha256(hmac_sha256(hmac_sha256(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_authorization(value):
    """Split `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=..., Signature=...`; None if malformed."""
    algorithm, _sep, rest = (value or "").partition(" ")
    if algorithm != SIGNATURE_ALGORITHM:
        return None
    fields = {}
    for part in rest.split(","):
        name, sep, field = part.strip().partition("=")
        if not sep:
            return None
        fields[name] = field
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or not fields.get("SignedHeaders") or not fields.get("Signature"):
        return None
    return {"secret_id": scope[0], "date": scope[1], "service": scope[2],
            "signed_headers": fields["SignedHeaders"].split(";"), "signature": fields["Signature"]}


def string_to_sign(method, path, headers, body, auth, timestamp):
    """Canonical request over the signed headers' values exactly as sent (tccli's `Host: http://...` included)."""
    split = urlsplit(path)
    canonical_headers = "".join("%s:%s\n" % (name, headers.get(name, "")) for name in auth["signed_headers"])
    payload = b"UNSIGNED-PAYLOAD" if headers.get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" else body
    canonical_request = "\n".join([method, split.path or "/", split.query, canonical_headers, ";".join(auth["signed_headers"]),
                                   hashlib.sha256(payload).hexdigest()])
    scope = "%s/%s/tc3_request" % (auth["date"], auth["service"])
    return "\n".join([SIGNATURE_ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])


# ---------------------------------------------------------------------------------------------------------------------
# The emulator: the signed API pipeline and the control API over one lock.

class ApiReply:
    """What the HTTP layer sends back: a response, or nothing at all (the connection is closed)."""

    def __init__(self, status=200, body=b"", content_type="application/json", close_silently=False):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.close_silently = close_silently


def api_body(response):
    return json.dumps({"Response": response}, ensure_ascii=False).encode("utf-8")


class Emulator:
    """The whole emulated service. Every public method takes the lock; HTTP threads call them concurrently."""

    def __init__(self, initial_state, credentials, regions, config, generate_instances=0, verbose=False):
        self.lock = threading.RLock()
        self.default_credentials = credentials
        self.default_regions = list(regions)
        self.config = config
        self.initial_config = copy.deepcopy(config)
        self.rng = random.Random(config.seed)
        self.world = World()
        self.world.load(initial_state, credentials, regions)
        if generate_instances:
            self.world.add_generated_instances(generate_instances)
        self.initial_world = self.snapshot()
        self.api = CvmApi(self.world, config, self.rng)
        self.limiter = RateLimiter()
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
            network_fault = self.draw_fault("drop") or self.draw_fault("http_502")
        record = self.new_record(headers, body)
        if network_fault:  # a gateway-level failure: the request never reaches the service
            reply = ApiReply(close_silently=True) if network_fault == "drop" else ApiReply(502, BAD_GATEWAY_BODY, "text/html")
            self.finish(record, "dropped" if network_fault == "drop" else "http_502", None, started)
        else:
            try:
                response = self.process(method, path, headers, body, record)
                outcome, code = "ok", None
            except ApiError as error:
                response = {"Error": {"Code": error.code, "Message": error.message}}
                outcome, code = "error", error.code
            response["RequestId"] = record["request_id"]
            reply = ApiReply(body=api_body(response))
            with self.lock:
                lost = self.draw_fault("lost_response")
            if lost:  # applied, but the client never hears about it
                reply, outcome = ApiReply(close_silently=True), "lost_response"
            self.finish(record, outcome, code, started)
        if latency_ms:
            time.sleep(latency_ms / 1000.0)
        return reply

    def draw_fault(self, name):
        probability = self.config.faults[name]
        return name if probability and self.rng.random() < probability else None

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

    def process(self, method, path, headers, body, record):
        """Version, action, signature, region, rate limit, injected API faults, parameters, then the action itself."""
        version = headers.get("X-TC-Version")
        if version != API_VERSION:
            raise ApiError("NoSuchVersion", "The requested version `%s` of service `%s` does not exist; use `%s`." % (version, SERVICE, API_VERSION))
        action_name = record["action"]
        action = ACTIONS.get(action_name)
        if action is None:
            raise ApiError("InvalidAction", "The requested action `%s` does not exist for service `%s` version `%s`." % (action_name, SERVICE, API_VERSION))
        with self.lock:
            self.authenticate(method, path, headers, body, record)
            region = headers.get("X-TC-Region")
            if not region:
                raise ApiError("MissingParameter", "The request is missing the required `X-TC-Region` header.")
            if region not in self.world.regions:
                raise ApiError("UnsupportedRegion", "The region `%s` is not supported by service `%s`." % (region, SERVICE))
            if self.draw_fault("throttle") or not self.limiter.allow(action_name, self.config.rate_limits.get(action_name)):
                raise ApiError("RequestLimitExceeded", "Your current request rate of `%s` exceeds the limit of %s requests per second; retry later."
                               % (action_name, self.config.rate_limits.get(action_name) or "the"))
            if self.draw_fault("internal_error"):
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

    def authenticate(self, method, path, headers, body, record):
        auth = parse_authorization(headers.get("Authorization"))
        if auth is None:
            raise ApiError("AuthFailure.SignatureFailure", "The Authorization header is missing or malformed; expected "
                           "`TC3-HMAC-SHA256 Credential=<SecretId>/<date>/cvm/tc3_request, SignedHeaders=..., Signature=...`.")
        record["secret_id"] = auth["secret_id"]
        credential = self.world.credentials.get(auth["secret_id"])
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
        if auth["service"] != SERVICE or auth["date"] != date_of_timestamp or not hmac.compare_digest(expected, auth["signature"]):
            raise ApiError("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.")
        token = headers.get("X-TC-Token") or None
        if token != credential["token"]:
            if credential["token"] is None:
                raise ApiError("AuthFailure.TokenFailure", "A security token was sent for a credential that has none.")
            raise ApiError("AuthFailure.TokenFailure", "The security token is missing or invalid for SecretId `%s`." % auth["secret_id"])

    def sync_hold(self):
        self.world.clock.hold(self.config.hold_operations)

    # -- the control API ---------------------------------------------------------------------------------------------

    def handle_control_request(self, method, path, query, body):
        """Return (HTTP status, JSON document) for /_emulator/... requests."""
        route = path[len(CONTROL_PREFIX):].strip("/")
        with self.lock:
            self.sync_hold()
            self.world.advance()
            handler = self.control_route(method, route)
            return handler(route, query, body)

    def control_route(self, method, route):
        head = route.split("/", 1)[0]
        routes = {
            ("GET", "health"): lambda *_: (200, {"ok": True}),
            ("GET", "state"): lambda *_: (200, self.world.dump()),
            ("PUT", "state"): self.control_put_state,
            ("POST", "reset"): self.control_reset,
            ("GET", "instances"): self.control_get_instance,
            ("DELETE", "instances"): self.control_terminate_instance,
            ("GET", "key_pairs"): self.control_get_key_pair,
            ("GET", "operations"): lambda *_: (200, {"operating": self.world.operating_instance_ids(), "held": self.world.clock.held}),
            ("GET", "requests"): self.control_get_requests,
            ("DELETE", "requests"): self.control_clear_requests,
            ("GET", "config"): lambda *_: (200, self.config.to_dict()),
            ("PATCH", "config"): self.control_patch_config,
        }
        handler = routes.get((method, head))
        if handler is None:
            known = any(path_name == head for _method, path_name in routes)
            raise ControlError(405 if known else 404, "no control endpoint %s %s%s" % (method, CONTROL_PREFIX, route))
        return handler

    def control_put_state(self, _route, _query, body):
        try:
            self.world.load(parse_json(body), self.world.credentials, self.default_regions)
        except StateError as error:
            raise ControlError(400, "invalid state document: %s" % error) from error
        return 200, self.world.dump()

    def control_reset(self, _route, query, _body):
        """Back to the state the process started with; ?all=1 also resets config, rate windows and the request log."""
        self.world.load(copy.deepcopy(self.initial_world), self.default_credentials, self.default_regions)
        if query.get("all", ["0"])[0] in ("1", "true", "yes"):
            self.config.__dict__.update(copy.deepcopy(self.initial_config).__dict__)
            self.reseed()
            self.sync_hold()
            self.limiter.clear()
            self.log.clear()
        return 200, self.world.dump()

    def control_get_instance(self, route, _query, _body):
        instance = self.world.instances.get(route.partition("/")[2])
        if instance is None:
            raise ControlError(404, "no instance %s" % route.partition("/")[2])
        return 200, dict(self.world.instance_view(instance), Region=instance.region)

    def control_terminate_instance(self, route, _query, _body):
        """Remove an instance as a termination would; its keys keep counting as in use for key_deletion_lag seconds."""
        instance_id = route.partition("/")[2]
        if instance_id not in self.world.instances:
            raise ControlError(404, "no instance %s" % instance_id)
        self.world.terminate(instance_id, self.config.key_deletion_lag)
        return 200, {"terminated": instance_id}

    def control_get_key_pair(self, route, _query, _body):
        pair = self.world.key_pairs.get(route.partition("/")[2])
        if pair is None:
            raise ControlError(404, "no key pair %s" % route.partition("/")[2])
        return 200, dict(self.world.key_pair_view(pair), Region=pair.region)

    def control_get_requests(self, _route, query, _body):
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError as error:
            raise ControlError(400, "since must be an integer") from error
        return 200, copy.deepcopy(self.log.document(since))

    def reseed(self):
        """Restart the fault and key ID random sequences from the configured seed (random when it is null)."""
        self.rng.seed(self.config.seed)
        self.api.id_rng.seed(self.rng.random())

    def control_clear_requests(self, *_):
        self.log.clear()
        return 200, {"cleared": True}

    def control_patch_config(self, _route, _query, body):
        changes = parse_json(body)
        self.config.patch(changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.reseed()
        self.sync_hold()
        return 200, self.config.to_dict()


def parse_json(body):
    try:
        return json.loads(body or b"null")
    except ValueError as error:
        raise ControlError(400, "the body is not valid JSON: %s" % error) from error


# ---------------------------------------------------------------------------------------------------------------------
# HTTP.

class RequestHandler(http.server.BaseHTTPRequestHandler):
    """One connection per request (HTTP/1.0), which makes dropped and lost responses simple and faithful."""

    server_version = "CvmEmulator/1.0"
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: --verbose logging is done per API request by the Emulator."""

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def dispatch(self, method):
        try:
            body = self.read_body()
        except ValueError:
            self.send(413, b'{"error": "request body too large"}', "application/json")
            return
        split = urlsplit(self.path)
        if split.path.startswith(CONTROL_PREFIX):
            self.handle_control(method, split, body)
        else:
            self.handle_api(method, body)

    def handle_api(self, method, body):
        # self.headers looks names up case-insensitively and keeps values exactly as sent (needed by the signature)
        reply = self.server.emulator.handle_api_request(method, self.path, self.headers, body)
        if reply.close_silently:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(reply.status, reply.body, reply.content_type)

    def handle_control(self, method, split, body):
        try:
            status, document = self.server.emulator.handle_control_request(method, split.path, parse_qs(split.query), body)
        except ControlError as error:
            status, document = error.status, {"error": error.message}
        self.send(status, json.dumps(document).encode("utf-8"), "application/json")

    def send(self, status, body, content_type):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)  # exactly application/json: the SDK compares it verbatim
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch("GET")

    def do_POST(self):  # pylint: disable=invalid-name
        self.dispatch("POST")

    def do_PUT(self):  # pylint: disable=invalid-name
        self.dispatch("PUT")

    def do_PATCH(self):  # pylint: disable=invalid-name
        self.dispatch("PATCH")

    def do_DELETE(self):  # pylint: disable=invalid-name
        self.dispatch("DELETE")


class EmulatorServer(http.server.ThreadingHTTPServer):
    """Threaded server; with TLS the handshake runs in the connection's own thread, never in the accept loop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, emulator, tls_context=None):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self.tls_context = tls_context
        super().__init__(address, RequestHandler)

    def finish_request(self, request, client_address):
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(30)
        try:
            tls_request = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that refuses the self-signed certificate
        try:
            super().finish_request(tls_request, client_address)
        finally:
            self.shutdown_request(tls_request)

    def handle_error(self, request, client_address):
        """Client disconnects are routine here (fault tests); do not print tracebacks for them."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)


# ---------------------------------------------------------------------------------------------------------------------
# Command line.

def parse_rate_limit(text):
    action, sep, number = text.partition("=")
    if not sep or action not in ACTIONS or not number.isdigit():
        raise argparse.ArgumentTypeError("expected ACTION=N with a known action and N >= 0 (0 = unlimited), got %r" % text)
    return action, int(number)


def probability(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a probability is between 0 and 1, got %s" % text)
    return value


def seconds(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a number of seconds is not negative, got %s" % text)
    return value


def key_id(text):
    if not KEY_ID_RE.match(text):
        raise argparse.ArgumentTypeError("expected a key pair ID like skey-xxxxxxxx, got %r" % text)
    return text


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cvm_emulator.py",
        description="Local emulator of the Tencent Cloud CVM API 2017-03-12 (key pairs, instances, start/stop). "
                    "Prints the URL it listens on as the first line of stdout. See docs/emulator.md.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free port (default: 0)")
    parser.add_argument("--state", metavar="FILE", help="JSON state document to start from instead of the default seed")
    parser.add_argument("--secret-id", metavar="ID", help="SecretId accepted instead of the default %s" % DEFAULT_SECRET_ID)
    parser.add_argument("--secret-key", metavar="KEY", help="SecretKey of --secret-id (never printed or logged)")
    parser.add_argument("--token", metavar="TOKEN", help="security token that --secret-id requires (X-TC-Token)")
    parser.add_argument("--region", action="append", metavar="REGION",
                        help="a known region (repeatable); default: %s" % ", ".join(DEFAULT_REGIONS))
    parser.add_argument("--operation-latency", type=float, default=DEFAULT_OPERATION_LATENCY, metavar="SECONDS",
                        help="how long Associate/Disassociate/Start/Stop operations stay OPERATING (default: %(default)s)")
    parser.add_argument("--operation-start-delay", type=float, default=0.0, metavar="SECONDS",
                        help="for this long after a write is accepted, DescribeInstances still shows the previous "
                             "LatestOperation* (the instance already counts as busy) (default: 0)")
    parser.add_argument("--bind-replaces-keys", action="store_true",
                        help="AssociateInstancesKeyPairs replaces the instance's keys instead of adding to them "
                             "(the same as --bind-semantics replace)")
    parser.add_argument("--bind-semantics", choices=("add", "replace"),
                        help="reading: whether AssociateInstancesKeyPairs adds the keys (default) or replaces the instance's keys")
    parser.add_argument("--strict-duplicates", action="store_true",
                        help="reading: binding a key an instance has (add semantics) or unbinding one it lacks fails the whole call "
                             "with UnsupportedOperation.KeyPairBindDuplicate / KeyPairNotBoundToInstance")
    parser.add_argument("--restart-as-own-operation", action="store_true",
                        help="reading: after a ForceStop key change on a RUNNING instance, the restart shows as a StartInstances "
                             "operation of its own, with a new RequestId (also after a FAILED change)")
    parser.add_argument("--null-operation-fields", action="store_true",
                        help="reading: LatestOperation* are null on instances never operated (since start) and during "
                             "--operation-start-delay")
    parser.add_argument("--key-deletion-lag", type=seconds, default=0.0, metavar="SECONDS",
                        help="reading: for this long after a key is unbound from an instance (or the instance is terminated), "
                             "DeleteKeyPairs of the key fails with InvalidParameterValue.KeyPairNotSupported and "
                             "AssociatedInstanceIds still lists the instance (default: 0)")
    parser.add_argument("--image-key", action="append", type=key_id, default=[], metavar="KEY_ID",
                        help="reading: this key pair is used by a custom image, so DeleteKeyPairs fails with "
                             "InvalidKeyPair.NotSupported (repeatable)")
    parser.add_argument("--rate-limit", action="append", type=parse_rate_limit, default=[], metavar="ACTION=N",
                        help="requests per second accepted for ACTION (repeatable; 0 = unlimited): a request is refused with "
                             "RequestLimitExceeded when N requests of ACTION were accepted in the previous 1.0 s. Defaults: 40 for "
                             "DescribeInstances, 10 for every other action")
    parser.add_argument("--no-rate-limit", action="store_true", help="disable all rate limits")
    parser.add_argument("--seed", type=int, help="seed of the random generator used for faults and new key IDs")
    for name, text in (("internal-error", "answer InternalError (HTTP 200), nothing applied"),
                       ("http-502", "answer HTTP 502 with a small non-JSON body, nothing applied"),
                       ("drop", "close the connection without a response, nothing applied"),
                       ("lost-response", "apply the request, then close the connection without a response"),
                       ("throttle", "answer RequestLimitExceeded"),
                       ("operation-failed", "an accepted Associate/Disassociate operation ends FAILED, keys unchanged")):
        parser.add_argument("--fault-" + name, type=probability, default=0.0, metavar="P",
                            help="probability (0..1, per request) to %s (default: 0)" % text)
    parser.add_argument("--response-latency", type=float, default=0.0, metavar="MS", help="delay added to every API response (default: 0)")
    parser.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM); needs --tls-key")
    parser.add_argument("--tls-key", metavar="FILE", help="private key (PEM) of --tls-cert")
    parser.add_argument("--generate-instances", type=int, default=0, metavar="N",
                        help="add N STOPPED Linux instances (ins-<base36 counter>, gen-00001..., tag bench=true) to the seed")
    parser.add_argument("--verbose", action="store_true", help="one line per API request on stderr (secrets never shown)")
    return parser


def startup_credentials(args, state_document):
    """The command-line credential (or the default one when neither flags nor the state file give any)."""
    if bool(args.secret_id) != bool(args.secret_key):
        raise SystemExit("--secret-id and --secret-key go together")
    credentials = {}
    if args.secret_id:
        credentials[args.secret_id] = {"secret_key": args.secret_key, "token": args.token or None}
    elif "credentials" not in state_document:
        credentials[DEFAULT_SECRET_ID] = {"secret_key": DEFAULT_SECRET_KEY, "token": args.token or None}
    if "credentials" in state_document:
        credentials.update(load_credentials(state_document["credentials"]))
    return credentials


def build_emulator(args):
    if args.state:
        with open(args.state, encoding="utf-8") as handle:
            state_document = json.load(handle)
    else:
        state_document = default_state_document()
    credentials = startup_credentials(args, state_document)
    state_document = dict(state_document, credentials=[dict(secret_id=key, **value) for key, value in credentials.items()])
    rate_limits = {name: None for name in ACTIONS} if args.no_rate_limit else {}
    rate_limits.update({action: limit or None for action, limit in args.rate_limit})
    faults = {name: getattr(args, "fault_" + name) for name in FAULT_PROBABILITIES}
    faults["response_latency_ms"] = args.response_latency
    readings = {"strict_duplicates": args.strict_duplicates, "restart_as_own_operation": args.restart_as_own_operation,
                "null_operation_fields": args.null_operation_fields, "key_deletion_lag": args.key_deletion_lag,
                "image_key_ids": args.image_key}
    if args.bind_semantics:
        readings["bind_semantics"] = args.bind_semantics
    config = Config(args.operation_latency, args.operation_start_delay, args.bind_replaces_keys, rate_limits, faults, args.seed, readings)
    return Emulator(state_document, credentials, args.region or DEFAULT_REGIONS, config, args.generate_instances, args.verbose)


def tls_context(args):
    if not args.tls_cert and not args.tls_key:
        return None
    if not (args.tls_cert and args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    return context


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        emulator = build_emulator(args)
    except (OSError, ValueError) as error:
        sys.stderr.write("cvm_emulator: cannot load the state: %s\n" % error)
        return 2
    stop = threading.Event()  # handlers go in before the URL is printed: a caller may signal right after reading it
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    context = tls_context(args)
    server = EmulatorServer((args.host, args.port), emulator, context)
    host = "[%s]" % args.host if ":" in args.host else args.host
    sys.stdout.write("%s://%s:%d\n" % ("https" if context else "http", host, server.server_address[1]))
    sys.stdout.flush()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
