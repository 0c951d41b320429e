# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The control API under /_emulator/ (unsigned, but every request needs the control token) and the harness that wraps it."""

import copy
import json
import urllib.error
import urllib.request

import pytest

from .sdk_calls import call, error_of

BIND = "AssociateInstancesKeyPairs"


def raw_control(emu, method, path, body=None, token=True):
    """One control request by hand; token: True (the emulator's), None (no header) or a string to send instead."""
    headers = {} if token is None else {"X-Emulator-Token": emu.control_token if token is True else token}
    request = urllib.request.Request(emu.url + path, data=body, method=method, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


def test_state_document_shape(emu):
    state = emu.state()
    assert set(state) == {"regions", "instances", "key_pairs"}
    assert "ap-guangzhou" in state["regions"] and "eu-frankfurt" in state["regions"]
    assert [item["InstanceId"] for item in state["instances"]] == ["ins-a100000%d" % n for n in range(1, 7)]
    assert {item["Region"] for item in state["instances"] + state["key_pairs"]} == {"ap-guangzhou"}
    assert [(pair["KeyId"], pair["KeyName"]) for pair in state["key_pairs"]] == [
        ("skey-k1000001", "ops-team"), ("skey-k1000002", "deploy"), ("skey-k1000003", "alice"), ("skey-k1000004", "bob")]
    assert "secret" not in json.dumps(state).lower()


def test_one_instance_and_unknown_paths(emu):
    assert emu.instance("ins-a1000003")["InstanceName"] == "db-1"
    assert raw_control(emu, "GET", "/_emulator/instances/ins-nothere0")[0] == 404
    assert raw_control(emu, "GET", "/_emulator/nothing")[0] == 404
    status, content_type, body = raw_control(emu, "POST", "/_emulator/state", b"{}")
    assert (status, content_type, "error" in body) == (405, "application/json", True)


def test_put_state_replaces_and_reset_restores(emu, client):
    document = copy.deepcopy(emu.state())
    document["instances"] = [item for item in document["instances"] if item["InstanceId"] != "ins-a1000006"]
    document["instances"].append({"InstanceId": "ins-b2000001", "InstanceName": "sh-1", "InstanceState": "RUNNING",
                                  "Region": "ap-shanghai", "Tags": {"env": "stage"}})
    emu.load_state(document)
    assert call(client, "DescribeInstances")["TotalCount"] == 5
    remote = emu.instance("ins-b2000001")
    assert (remote["Region"], remote["Tags"], remote["StopChargingMode"], remote["LoginSettings"]) == (
        "ap-shanghai", [{"Key": "env", "Value": "stage"}], "NOT_APPLICABLE", {"KeyIds": None, "Password": None})
    emu.reset()
    assert call(client, "DescribeInstances")["TotalCount"] == 6


def test_bad_state_documents_change_nothing(emu):
    for document in ({"instances": [{"InstanceId": "ins-1122"}]},
                     {"instances": [{"InstanceId": "ins-c3000001", "LoginSettings": {"KeyIds": ["skey-nothere0"]}}]},
                     {"instances": [], "colour": "red"}):
        with pytest.raises(Exception, match="HTTP 400"):
            emu.load_state(document)
    assert len(emu.state()["instances"]) == 6


def test_stuck_operation_from_a_state_document(emu, client):
    """An instance loaded as OPERATING has no running operation: it stays busy (a handy 'stuck' fixture)."""
    document = emu.state()
    document["instances"][3].update(LatestOperation="ResetInstance", LatestOperationState="OPERATING")
    emu.load_state(document)
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "OperationDenied.InstanceOperationInProgress"


def test_request_log_counts_and_since(emu, client):
    call(client, "DescribeInstances")
    first_seq = emu.requests()["requests"][-1]["seq"]
    call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    error_of(client, BIND, {"InstanceIds": ["ins-a1000001"], "KeyIds": ["skey-k1000003"]})
    log = emu.requests(since=first_seq)
    assert [record["action"] for record in log["requests"]] == [BIND, BIND]
    record = log["requests"][1]
    assert set(record) == {"seq", "time", "action", "region", "params", "outcome", "error_code", "request_id", "secret_id", "has_token"}
    assert (record["outcome"], record["error_code"], record["region"]) == ("error", "UnsupportedOperation.InstanceStateRunning", "ap-guangzhou")
    assert record["params"] == {"InstanceIds": ["ins-a1000001"], "KeyIds": ["skey-k1000003"]}
    assert emu.counts() == {"DescribeInstances": 1, BIND: 2}
    assert log["ok_counts"] == {"DescribeInstances": 1, BIND: 1}
    assert emu.write_count() == 2
    emu.clear_requests()
    assert emu.requests() == {"requests": [], "counts": {}, "ok_counts": {}, "write_count": 0}
    call(client, "DescribeKeyPairs")
    assert emu.requests()["requests"][0]["seq"] > record["seq"]  # sequence numbers never restart


def test_config_document_and_patch(emu):
    config = emu.config()
    assert config["operation_latency"] == 0.2 and config["bind_replaces_keys"] is False and config["hold_operations"] is False
    assert config["rate_limits"] == {"DescribeInstances": 40, "DescribeKeyPairs": 10, "AssociateInstancesKeyPairs": 10,
                                     "DisassociateInstancesKeyPairs": 10, "StartInstances": 10, "StopInstances": 10,
                                     "CreateKeyPair": 10, "ImportKeyPair": 10, "DeleteKeyPairs": 10}
    assert config["faults"] == {"internal_error": 0.0, "http_502": 0.0, "drop": 0.0, "lost_response": 0.0, "throttle": 0.0,
                                "operation_failed": 0.0, "response_latency_ms": 0}
    changed = emu.configure(operation_latency=1.5, rate_limits={"StartInstances": 0}, faults={"drop": 0.25})
    assert (changed["operation_latency"], changed["rate_limits"]["StartInstances"], changed["faults"]["drop"]) == (1.5, None, 0.25)
    for bad in ({"operation_latency": -1}, {"rate_limits": {"Nope": 1}}, {"bind_replaces_keys": "yes"}, {"colour": 1}):
        with pytest.raises(Exception, match="HTTP 400"):
            emu.configure(**bad)
    emu.reset(everything=True)
    assert emu.config() == config


def test_harness_env(emu):
    assert emu.env() == {"TENCENTCLOUD_SECRET_ID": "AKIDEMULATOR000000000000000000000000",
                         "TENCENTCLOUD_SECRET_KEY": "emulatorSecretKey0000000000000000",
                         "TENCENTCLOUD_REGION": "ap-guangzhou", "TENCENTCLOUD_ENDPOINT": emu.url,
                         "TC_EMULATOR_TOKEN": emu.control_token}
    assert len(emu.control_token) >= 32
    assert emu.endpoint == emu.url and emu.url.startswith("http://127.0.0.1:")


def test_add_instance_appears_to_the_api(emu, client):
    added = emu.add_instance({"InstanceId": "ins-b3000001", "InstanceName": "new-1", "InstanceState": "STOPPED",
                              "Tags": {"env": "prod"}, "LoginSettings": {"KeyIds": ["skey-k1000002"]}})
    assert (added["Region"], added["LoginSettings"]["KeyIds"]) == ("ap-guangzhou", ["skey-k1000002"])
    found = call(client, "DescribeInstances", {"InstanceIds": ["ins-b3000001"]})["InstanceSet"]
    assert [(i["InstanceName"], i["Tags"]) for i in found] == [("new-1", [{"Key": "env", "Value": "prod"}])]
    assert emu.key_pair("skey-k1000002")["AssociatedInstanceIds"] == ["ins-a1000005", "ins-b3000001"]
    assert call(client, "DescribeInstances")["TotalCount"] == 7


def test_bad_added_instances_change_nothing(emu):
    for document in ({"InstanceId": "ins-a1000001"},                                            # exists
                     {"InstanceId": "ins-1122"},                                                # malformed
                     {"InstanceId": "ins-b3000002", "LoginSettings": {"KeyIds": ["skey-nothere0"]}},
                     {"InstanceId": "ins-b3000003", "Region": "xx-nowhere"},
                     {"InstanceId": "ins-b3000004", "Colour": "red"}):
        with pytest.raises(Exception, match="HTTP 400"):
            emu.add_instance(document)
    assert len(emu.state()["instances"]) == 6


def test_set_instance_keys_outside_the_api(emu, client):
    emu.clear_requests()
    changed = emu.set_instance_keys("ins-a1000003", ["skey-k1000001", "skey-k1000004"])
    assert changed["LoginSettings"]["KeyIds"] == ["skey-k1000001", "skey-k1000004"]
    assert emu.key_pair("skey-k1000004")["AssociatedInstanceIds"] == ["ins-a1000003"]
    assert emu.operating() == [] and emu.requests()["requests"] == []
    emu.set_instance_keys("ins-a1000003", [])
    assert call(client, "DescribeInstances", {"InstanceIds": ["ins-a1000003"]})["InstanceSet"][0]["LoginSettings"]["KeyIds"] is None
    for path, body in (("ins-nothere0", {"KeyIds": []}), ("ins-a1000003", {"KeyIds": ["skey-nothere0"]}),
                       ("ins-a1000003", {"KeyIds": "skey-k1000001"}), ("ins-a1000003", {"Keys": []})):
        with pytest.raises(Exception, match="HTTP (400|404)"):
            emu.control("PATCH", "instances/" + path, body)
    assert emu.instance("ins-a1000003")["LoginSettings"]["KeyIds"] is None


@pytest.mark.parametrize("token", [None, "", "not-the-token", "x" * 43])
@pytest.mark.parametrize("method, path, body", [("GET", "/_emulator/state", None), ("GET", "/_emulator/health", None),
                                                ("PUT", "/_emulator/state", b'{"instances": [], "key_pairs": []}'),
                                                ("PATCH", "/_emulator/instances/ins-a1000004", b'{"KeyIds": ["skey-k1000003"]}'),
                                                ("PATCH", "/_emulator/config", b'{"hold_operations": true}'),
                                                ("POST", "/_emulator/reset?all=1", None), ("DELETE", "/_emulator/requests", None)])
def test_control_requests_without_the_token_are_refused_and_change_nothing(emu, client, token, method, path, body):
    call(client, "DescribeKeyPairs")  # one logged request, which a refused DELETE /_emulator/requests must leave
    before = (emu.state(), emu.config(), emu.requests()["requests"])
    status, content_type, answer = raw_control(emu, method, path, body, token=token)
    assert (status, content_type) == (401, "application/json")
    assert "X-Emulator-Token" in answer["error"] and emu.control_token not in json.dumps(answer)
    assert (emu.state(), emu.config(), emu.requests()["requests"]) == before


def test_the_right_token_in_the_header_is_what_opens_the_control_api(emu):
    assert raw_control(emu, "GET", "/_emulator/health") == (200, "application/json", {"ok": True})
    assert raw_control(emu, "GET", "/_emulator/health", token=emu.control_token + "x")[0] == 401
    assert raw_control(emu, "GET", "/_emulator/health", token=emu.control_token[:-1])[0] == 401
