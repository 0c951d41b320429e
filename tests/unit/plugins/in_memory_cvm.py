# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one in-memory CVM API of the narrow unit tests (the end-to-end tests use the real SDK and the emulator).

It stands where _client.CvmApi stands: call(action, params, resend_safe) returns the Response dict or raises CvmApiError.
Reads (DescribeInstances, DescribeKeyPairs) take IDs or filters and page by Offset/Limit as the API does; writes
(AssociateInstancesKeyPairs, DisassociateInstancesKeyPairs, CreateKeyPair, ImportKeyPair, DeleteKeyPairs) change the
state, and their operations finish at once. Every call is recorded. A read must say resend_safe=True and a write
resend_safe=False, or the call fails the test: nothing in the collection may resend a write blindly.

Instances and key pairs are given as the API shows them (instance() and key_pair() build them); a key pair's
AssociatedInstanceIds are those of its instances here that hold it, plus any listed that this API does not hold.
"""

from __future__ import annotations

import base64
import hashlib
import itertools

from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError

BINDING_WRITES = ("AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs")
KEY_PAIR_WRITES = ("CreateKeyPair", "ImportKeyPair", "DeleteKeyPairs")
READS = ("DescribeInstances", "DescribeKeyPairs")
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nUNIT-TEST-PRIVATE-KEY-0123456789\n-----END OPENSSH PRIVATE KEY-----\n"
INSTANCE_FIELDS = {"instance-name": "InstanceName", "zone": "Zone", "instance-state": "InstanceState"}


def public_key(seed, comment="user@host", key_type="ssh-ed25519"):
    """A well-formed OpenSSH public key line, the same for the same seed."""
    name = key_type.encode()
    blob = len(name).to_bytes(4, "big") + name + (32).to_bytes(4, "big") + hashlib.sha256(seed.encode()).digest()
    return "%s %s %s" % (key_type, base64.b64encode(blob).decode(), comment)


def instance(instance_id, keys=(), state="STOPPED", **fields):
    """An instance as DescribeInstances shows it; fields add or replace API fields (InstanceName, Tags, LatestOperation...)."""
    data = {"InstanceId": instance_id, "InstanceState": state, "OsName": "TencentOS", "LoginSettings": {"KeyIds": sorted(keys) or None}}
    data.update(fields)
    return data


def key_pair(key_id, name, public=None, bound=(), **fields):
    """A key pair as DescribeKeyPairs shows it."""
    data = {
        "KeyId": key_id,
        "KeyName": name,
        "ProjectId": 0,
        "Description": "",
        "PublicKey": public or public_key(key_id, name),
        "AssociatedInstanceIds": list(bound),
        "CreatedTime": "2026-01-10T08:00:00Z",
        "Tags": [],
    }
    data.update(fields)
    return data


class InMemoryCvm:  # pylint: disable=too-many-instance-attributes  # one attribute per API behaviour a test sets
    """Answers like the API, in memory. Records every call as (action, params).

    Readings of what the API leaves open: replace (a bind sets the key list), strict (duplicate binds and unbinds of keys
    not bound fail the call), op_ids (an operation shows under its own id, not the call's RequestId). faults: per binding
    write, in order: "lost" applies it and loses the answer, "internal" fails it without applying it, None sends it normally.
    page_cap: the most entries a page holds whatever Limit says; loose_names: the key-name filter matches substrings.
    fail_on: {action (or "*" for every action): CvmApiError to raise}.
    """

    def __init__(  # pylint: disable=unknown-option-value,too-many-arguments,too-many-positional-arguments  # each optional: the readings a test picks
        self,
        instances=(),
        key_pairs=(),
        region="ap-guangzhou",
        replace=False,
        strict=False,
        op_ids=False,
        faults=(),
        page_cap=100,
        loose_names=False,
        fail_on=None,
    ):
        self.instances = {i["InstanceId"]: dict(i) for i in instances}
        self.key_pairs = {k["KeyId"]: dict(k) for k in key_pairs}
        self.region = region
        self.endpoint_url = "https://cvm.tencentcloudapi.com"
        self.replace, self.strict, self.op_ids = replace, strict, op_ids
        self.faults = list(faults)
        self.page_cap = page_cap
        self.loose_names = loose_names
        self.fail_on = fail_on or {}
        self.calls = []
        self.request_ids = ("req-%d" % n for n in itertools.count(1))
        self.new_key_ids = ("skey-new%05d" % n for n in itertools.count(1))

    # -- what the tests look at ---------------------------------------------------------------------------------------
    def keys_of(self, instance_id):
        return set(self.instances[instance_id]["LoginSettings"]["KeyIds"] or ())

    def set_keys(self, instance_id, keys):
        self.instances[instance_id]["LoginSettings"] = {"KeyIds": sorted(keys) or None}

    def writes(self):
        """The binding writes sent, as (action, InstanceIds, KeyIds)."""
        return [(action, params["InstanceIds"], params["KeyIds"]) for action, params in self.calls if action in BINDING_WRITES]

    def key_pair_writes(self):
        """Every write sent, as (action, params)."""
        return [(action, params) for action, params in self.calls if action not in READS]

    def count(self, *actions):
        return sum(1 for action, _params in self.calls if action in actions)

    # -- the API -----------------------------------------------------------------------------------------------------
    def call(self, action, params, resend_safe=False):
        self.calls.append((action, params))
        assert resend_safe is (action in READS), "%s sent with resend_safe=%r: reads say True, writes False" % (action, resend_safe)
        request_id = next(self.request_ids)
        failure = self.fail_on.get(action) or self.fail_on.get("*")
        if failure is not None:
            raise failure
        assert len(params.get("InstanceIds", ())) <= 100 and len(params.get("KeyIds", ())) <= 100 and params.get("Limit", 20) <= 100
        assert len(params.get("Filters", ())) <= 10 and all(len(f["Values"]) <= 5 for f in params.get("Filters", ()))
        result = getattr(self, "_" + action)(params, request_id)
        result["RequestId"] = request_id
        return result

    def _DescribeInstances(self, params, _request_id):  # pylint: disable=invalid-name
        found = self._select(self.instances, params.get("InstanceIds"), params.get("Filters"), self._instance_matches)
        return self._page(found, params, "InstanceSet")

    def _DescribeKeyPairs(self, params, _request_id):  # pylint: disable=invalid-name
        found = self._select(self.key_pairs, params.get("KeyIds"), params.get("Filters"), self._key_pair_matches)
        return self._page([self._key_pair_view(k) for k in found], params, "KeyPairSet")

    @staticmethod
    def _select(items, ids, filters, matches):
        assert not (ids and filters), "the API refuses IDs and Filters together"
        if ids:
            return [dict(item) for key, item in items.items() if key in ids]
        return [dict(item) for item in items.values() if all(matches(item, f) for f in filters or ())]

    @staticmethod
    def _instance_matches(item, flt):
        name = flt["Name"]
        if name.startswith("tag:"):
            return any(t["Key"] == name[4:] and t["Value"] in flt["Values"] for t in item.get("Tags", ()))
        field = INSTANCE_FIELDS[name]
        value = item.get(field, (item.get("Placement") or {}).get(field))  # DescribeInstances nests Zone in Placement
        return value in flt["Values"]

    def _key_pair_matches(self, item, flt):
        assert flt["Name"] == "key-name"
        if self.loose_names:
            return any(v in item["KeyName"] for v in flt["Values"])
        return item["KeyName"] in flt["Values"]

    def _key_pair_view(self, data):
        holders = {i for i in self.instances if data["KeyId"] in self.keys_of(i)}
        listed = {i for i in data.get("AssociatedInstanceIds", ()) if i not in self.instances}
        return dict(data, AssociatedInstanceIds=sorted(holders | listed))

    def _page(self, items, params, set_name):
        offset, limit = params.get("Offset", 0), min(params.get("Limit", 20), self.page_cap)
        return {"TotalCount": len(items), set_name: items[slice(offset, offset + limit)]}

    def _AssociateInstancesKeyPairs(self, params, request_id):  # pylint: disable=invalid-name
        return self._change_keys("AssociateInstancesKeyPairs", params, request_id)

    def _DisassociateInstancesKeyPairs(self, params, request_id):  # pylint: disable=invalid-name
        return self._change_keys("DisassociateInstancesKeyPairs", params, request_id)

    def _change_keys(self, action, params, request_id):
        fault = self.faults.pop(0) if self.faults else None
        if fault == "internal":
            raise CvmApiError(action, "InternalError", "boom", request_id)
        wanted = set(params["KeyIds"])
        for instance_id in params["InstanceIds"]:
            have = self.keys_of(instance_id)
            if self.instances[instance_id]["InstanceState"] != "STOPPED" and not params.get("ForceStop"):
                raise CvmApiError(action, "UnsupportedOperation.InstanceStateRunning", "%s is not stopped" % instance_id, request_id)
            if self.strict and action == BINDING_WRITES[0] and not self.replace and have & wanted:
                raise CvmApiError(action, "UnsupportedOperation.KeyPairBindDuplicate", "already bound", request_id)
            if self.strict and action == BINDING_WRITES[1] and wanted - have:
                raise CvmApiError(action, "UnsupportedOperation.KeyPairNotBoundToInstance", "not bound", request_id)
        for instance_id in params["InstanceIds"]:
            have = self.keys_of(instance_id)
            if action == BINDING_WRITES[0]:
                self.set_keys(instance_id, wanted if self.replace else have | wanted)
            else:
                self.set_keys(instance_id, have - wanted)
            self.instances[instance_id].update(
                LatestOperation=action, LatestOperationState="SUCCESS", LatestOperationRequestId="op-" + request_id if self.op_ids else request_id
            )
        if fault == "lost":
            raise CvmApiError(action, "ClientNetworkError", "connection reset", None)
        return {}

    def _CreateKeyPair(self, params, _request_id):  # pylint: disable=invalid-name
        key_id = next(self.new_key_ids)
        self.key_pairs[key_id] = key_pair(key_id, params["KeyName"], public_key(key_id, params["KeyName"]), ProjectId=params["ProjectId"])
        return {"KeyPair": dict(self._key_pair_view(self.key_pairs[key_id]), PrivateKey=PRIVATE_KEY)}

    def _ImportKeyPair(self, params, _request_id):  # pylint: disable=invalid-name
        key_id = next(self.new_key_ids)
        self.key_pairs[key_id] = key_pair(key_id, params["KeyName"], params["PublicKey"], ProjectId=params["ProjectId"])
        return {"KeyId": key_id}

    def _DeleteKeyPairs(self, params, request_id):  # pylint: disable=invalid-name
        for key_id in params["KeyIds"]:
            if key_id not in self.key_pairs:
                raise CvmApiError("DeleteKeyPairs", "InvalidKeyPairId.NotFound", "%s not found" % key_id, request_id)
            if any(key_id in self.keys_of(i) for i in self.instances):
                raise CvmApiError("DeleteKeyPairs", "InvalidParameterValue.KeyPairNotSupported", "bound", request_id)
        for key_id in params["KeyIds"]:
            del self.key_pairs[key_id]
        return {}
