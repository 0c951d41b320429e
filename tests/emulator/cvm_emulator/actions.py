# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The actions. Each handler gets (api, request, params) and returns the Response members other than
RequestId; ACTIONS is the action table (declared parameters as in api.json, handler, whether it writes,
default requests/second).
May import: constants, errors, helpers, params, resources, filters, actions_common.
"""

import base64
import collections
import time

from .actions_common import EmulatedCvmBase
from .constants import INSTANCE_ID_RE, KEY_ID_RE, KEY_NAME_RE, MAX_KEY_NAME_LENGTH
from .errors import ApiError
from .filters import INSTANCE_FILTERS, KEY_PAIR_FILTERS, check_filters, check_ids, matches_filters, paginate
from .helpers import iso_time, parse_public_key, quoted, ssh_public_key, tag_list
from .params import optional, required
from .resources import KeyPairRecord


class EmulatedCvm(EmulatedCvmBase):
    """The emulated CVM service's actions over a World, with the runtime configuration they depend on (the server
    side; the collection's client is plugins/module_utils' CvmApi)."""

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
            timeline, restart_after, down = self.key_change_timeline(instance, bind, force_stop)
            self.schedule(instance, "AssociateInstancesKeyPairs", request.request_id, timeline, failure, restart_after, down)
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
            timeline, restart_after, down = self.key_change_timeline(instance, unbind, force_stop)
            self.schedule(instance, "DisassociateInstancesKeyPairs", request.request_id, timeline, failure, restart_after, down)
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
        self.world.key_pairs[key_id] = KeyPairRecord(data, request.region)
        return self.world.key_pairs[key_id]

    def create_key_pair(self, request, params):
        tags = self.check_new_key_pair(request, params)
        secret = bytes(self.id_rng.getrandbits(8) for position in range(32))
        if self.key_maker is not None:  # SSH mode: a real key pair, whose private key logs in to the instances it is bound to
            public_key, private_key = self.key_maker(params["KeyName"])
        else:  # a placeholder, not a usable private key
            public_key = ssh_public_key("ssh-ed25519", secret, params["KeyName"])
            body = base64.encodebytes(b"openssh-key-v1\0emulator placeholder\0" + secret).decode()
            private_key = "-----BEGIN OPENSSH PRIVATE KEY-----\n%s-----END OPENSSH PRIVATE KEY-----\n" % body
        pair = self.add_key_pair(request, params, tags, public_key)
        view = self.world.key_pair_view(pair)
        view["PrivateKey"] = private_key  # shown once and never stored, like the real API
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
    "DescribeInstances": Action(DESCRIBE_INSTANCES_PARAMS, EmulatedCvm.describe_instances, False, 40),
    "DescribeKeyPairs": Action(DESCRIBE_KEY_PAIRS_PARAMS, EmulatedCvm.describe_key_pairs, False, 10),
    "AssociateInstancesKeyPairs": Action(KEY_BINDING_PARAMS, EmulatedCvm.associate_instances_key_pairs, True, 10),
    "DisassociateInstancesKeyPairs": Action(KEY_BINDING_PARAMS, EmulatedCvm.disassociate_instances_key_pairs, True, 10),
    "StartInstances": Action({"InstanceIds": required("list", "string")}, EmulatedCvm.start_instances, True, 10),
    "StopInstances": Action(STOP_INSTANCES_PARAMS, EmulatedCvm.stop_instances, True, 10),
    "CreateKeyPair": Action(CREATE_KEY_PAIR_PARAMS, EmulatedCvm.create_key_pair, True, 10),
    "ImportKeyPair": Action(IMPORT_KEY_PAIR_PARAMS, EmulatedCvm.import_key_pair, True, 10),
    "DeleteKeyPairs": Action({"KeyIds": required("list", "string")}, EmulatedCvm.delete_key_pairs, True, 10),
}
WRITE_ACTIONS = frozenset(name for name, action in ACTIONS.items() if action.write)
