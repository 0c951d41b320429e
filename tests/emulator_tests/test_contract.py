# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator against the official API description (api.json of the pinned tccli wheel, fetched with pip):
every implemented action accepts exactly the declared parameters, and every returned field is declared;
for CVM (cvm/v20170312) and for STS's AssumeRole (sts/v20180813)."""

import base64
import json
import zipfile

import pytest

import cvm_emulator  # pylint: disable=import-error
from cvm_emulator import sts as emulated_sts  # pylint: disable=import-error

from .sdk_calls import call
from .test_sts import sts_client

SCALAR_CHECKS = {
    "string": lambda value: isinstance(value, str),
    "int": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "bool": lambda value: isinstance(value, bool),
    "float": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
}


def members(api_json, object_name):
    return {member["name"]: member for member in api_json["objects"][object_name]["members"]}


def declared_params(api_json, object_name):
    return {name: (member["type"], member["member"], bool(member.get("required"))) for name, member in members(api_json, object_name).items()}


@pytest.mark.parametrize("action_name", sorted(cvm_emulator.ACTIONS))
def test_accepted_parameters_are_exactly_the_declared_ones(api_json, action_name):
    declared = api_json["actions"].get(action_name)
    assert declared is not None and declared["status"] == "online", action_name
    ours = {name: tuple(param) for name, param in cvm_emulator.ACTIONS[action_name].params.items()}
    assert ours == declared_params(api_json, declared["input"])


@pytest.mark.parametrize("object_name", sorted(cvm_emulator.INPUT_OBJECTS))
def test_nested_input_objects_are_declared(api_json, object_name):
    ours = {name: tuple(param) for name, param in cvm_emulator.INPUT_OBJECTS[object_name].items()}
    assert ours == declared_params(api_json, object_name)


def check_object(api_json, value, object_name, path, problems):
    """Collect every returned field that api.json does not declare or whose value has another type.

    null is accepted for any field: the real API returns null for many members not flagged value_allowed_null
    (e.g. LoginSettings.Password, ExpiredTime of pay-as-you-go instances)."""
    declared = members(api_json, object_name)
    if not isinstance(value, dict):
        problems.append("%s: expected a %s object, got %r" % (path, object_name, value))
        return
    for name, field in value.items():
        if name not in declared:
            problems.append("%s.%s is not a member of %s" % (path, name, object_name))
        elif field is not None:
            check_value(api_json, field, declared[name], "%s.%s" % (path, name), problems)
    output_only = api_json["objects"][object_name].get("usage") == "out"  # output_required is meaningless on shared objects
    for name, member in declared.items():
        if output_only and member.get("output_required") and name not in value:
            problems.append("%s.%s is required in %s output but missing" % (path, name, object_name))


def check_value(api_json, value, member, path, problems):
    if member["type"] == "list":
        if not isinstance(value, list):
            problems.append("%s: expected a list, got %r" % (path, value))
            return
        for index, item in enumerate(value):
            check_value(api_json, item, dict(member, type="object" if member["member"] in api_json["objects"] else member["member"]),
                        "%s[%d]" % (path, index), problems)
    elif member["type"] == "object":
        check_object(api_json, value, member["member"], path, problems)
    else:
        kind = {"int64": "int", "uint64": "int", "datetime_iso": "string", "datetime": "string"}.get(member["type"], member["type"])
        if not SCALAR_CHECKS.get(kind, lambda _: False)(value):
            problems.append("%s: %r is not a %s" % (path, value, member["type"]))


def exercise_every_action(emu, client):
    """Call every implemented action (successfully) and return {action: [responses]}, covering operation states."""
    responses = {name: [] for name in cvm_emulator.ACTIONS}

    def record(action, params=None):
        response = call(client, action, params)
        responses[action].append(response)
        return response

    emu.configure(operation_failures={"ins-a1000005": "simulated failure"})
    record("AssociateInstancesKeyPairs", {"InstanceIds": ["ins-a1000004", "ins-a1000005"], "KeyIds": ["skey-k1000003"]})
    record("StopInstances", {"InstanceIds": ["ins-a1000001"], "StoppedMode": "STOP_CHARGING"})
    record("StartInstances", {"InstanceIds": ["ins-a1000006"]})
    record("DescribeInstances", {"Limit": 100})  # OPERATING, STOPPING, STARTING
    emu.wait_idle()
    record("DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-a1000003"], "KeyIds": ["skey-k1000001"], "ForceStop": True})
    emu.wait_idle()
    record("DescribeInstances", {"Limit": 100})  # SUCCESS, FAILED, null KeyIds
    created = record("CreateKeyPair", {"KeyName": "contract", "ProjectId": 0,
                                       "TagSpecification": [{"ResourceType": "keypair", "Tags": [{"Key": "k", "Value": "v"}]}]})
    blob = b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + bytes(32)
    record("ImportKeyPair", {"KeyName": "imported", "ProjectId": 0, "PublicKey": "ssh-ed25519 " + base64.b64encode(blob).decode()})
    record("DescribeKeyPairs", {"Limit": 100})
    record("DeleteKeyPairs", {"KeyIds": [created["KeyPair"]["KeyId"]]})
    return responses


def test_every_returned_field_is_declared(api_json, emu, client):
    problems = []
    for action_name, responses in exercise_every_action(emu, client).items():
        assert responses, "no successful call of %s was exercised" % action_name
        for response in responses:
            check_object(api_json, response, api_json["actions"][action_name]["output"], action_name, problems)
    assert problems == []


def test_state_documents_use_the_declared_fields(api_json, emu):
    """The control API shows instances and key pairs in the API's format (plus their Region)."""
    problems = []
    state = emu.state()
    for item in state["instances"]:
        check_object(api_json, {k: v for k, v in item.items() if k != "Region"}, "Instance", "state.instances", problems)
    for item in state["key_pairs"]:
        check_object(api_json, {k: v for k, v in item.items() if k != "Region"}, "KeyPair", "state.key_pairs", problems)
    assert problems == []


# ---- STS (AssumeRole, for role_arn): the same checks against the wheel's sts/v20180813/api.json. ----

@pytest.fixture(scope="module")
def sts_api_json(tccli_wheel):
    """tccli/services/sts/v20180813/api.json of the pinned wheel."""
    with zipfile.ZipFile(tccli_wheel) as wheel:
        return json.loads(wheel.read("tccli/services/sts/v20180813/api.json"))


def test_assume_role_accepts_exactly_the_declared_parameters(sts_api_json):
    declared = sts_api_json["actions"]["AssumeRole"]
    assert declared["status"] == "online"
    assert {name: tuple(param) for name, param in emulated_sts.ASSUME_ROLE_PARAMS.items()} == declared_params(sts_api_json, declared["input"])
    # Its Tags are the emulator's shared Tag object: STS declares the same members.
    assert {name: tuple(param) for name, param in cvm_emulator.INPUT_OBJECTS["Tag"].items()} == declared_params(sts_api_json, "Tag")


def test_assume_role_returns_only_declared_fields(sts_api_json, emu):
    client = sts_client(emu)
    response = client.call_json("AssumeRole", {"RoleArn": emulated_sts.DEFAULT_ROLE_ARN, "RoleSessionName": "contract",
                                               "DurationSeconds": 900, "Tags": [{"Key": "team", "Value": "ops"}]})["Response"]
    problems = []
    check_object(sts_api_json, response, sts_api_json["actions"]["AssumeRole"]["output"], "AssumeRole", problems)
    assert problems == []
