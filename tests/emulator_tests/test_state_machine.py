# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The asynchronous state machine: key binding operations, ForceStop, start/stop, failures, held operations."""

import base64
import time

import pytest

from .sdk_calls import FAST_LATENCY, call, error_of, instance, wait_for

BIND = "AssociateInstancesKeyPairs"
UNBIND = "DisassociateInstancesKeyPairs"


def bound_instances(emu, key_id):
    return emu.key_pair(key_id)["AssociatedInstanceIds"]


def observe_states(emu, instance_id, until_state, timeout=5.0):
    """Poll the control API (not rate limited) and return the distinct (InstanceState, LatestOperationState) pairs seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = emu.instance(instance_id)
        pair = (current["InstanceState"], current["LatestOperationState"])
        if not seen or seen[-1] != pair:
            seen.append(pair)
        if pair == until_state:
            return seen
        time.sleep(0.01)
    raise AssertionError("never reached %s; saw %s" % (until_state, seen))


def test_running_instance_without_force_stop_fails_the_whole_batch(emu, client):
    before = emu.state()
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004", "ins-a1000001", "ins-a1000002"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "UnsupportedOperation.InstanceStateRunning"
    assert "`ins-a1000001`, `ins-a1000002`" in error.message and "ins-a1000004" not in error.message
    assert emu.operating() == []
    assert emu.state() == before


def test_bind_is_asynchronous_and_matches_the_request_id(emu, client):
    response = call(client, BIND, {"InstanceIds": ["ins-a1000004", "ins-a1000005"], "KeyIds": ["skey-k1000003"]})
    request_id = response["RequestId"]
    now = instance(client, "ins-a1000004")
    assert (now["LatestOperation"], now["LatestOperationState"], now["LatestOperationRequestId"]) == (BIND, "OPERATING", request_id)
    assert now["LoginSettings"]["KeyIds"] is None  # applied only when the operation completes
    assert sorted(emu.operating()) == ["ins-a1000004", "ins-a1000005"]
    emu.wait_idle()
    done = instance(client, "ins-a1000004")
    assert (done["LatestOperationState"], done["LatestOperationRequestId"], done["LatestOperationErrorMsg"]) == ("SUCCESS", request_id, "")
    assert done["LoginSettings"]["KeyIds"] == ["skey-k1000003"]
    assert emu.key_ids("ins-a1000005") == ["skey-k1000002", "skey-k1000003"]  # binding adds by default
    assert bound_instances(emu, "skey-k1000003") == ["ins-a1000004", "ins-a1000005"]
    assert done["InstanceState"] == "STOPPED"


@pytest.mark.nondeterministic
def test_operation_takes_about_the_configured_latency(emu, client):
    started = time.monotonic()
    call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    wait_for(lambda: instance(client, "ins-a1000004")["LatestOperationState"] == "SUCCESS", interval=0.05)
    assert FAST_LATENCY * 0.9 <= time.monotonic() - started < FAST_LATENCY + 1.0


@pytest.mark.nondeterministic
def test_force_stop_on_a_running_instance_cycles_and_ends_running(emu, client):
    emu.configure(operation_latency=0.9)  # 0.3 s per phase: easy to observe even on a busy machine
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000002"], "KeyIds": ["skey-k1000004"], "ForceStop": True})["RequestId"]
    seen = observe_states(emu, "ins-a1000002", ("RUNNING", "SUCCESS"))
    states = [state for state, operation in seen]
    assert states[:4] == ["STOPPING", "STOPPED", "STARTING", "RUNNING"], seen
    assert all(operation == "OPERATING" for state, operation in seen[:-1])
    final = instance(client, "ins-a1000002")
    assert final["LoginSettings"]["KeyIds"] == ["skey-k1000004"] and final["LatestOperationRequestId"] == request_id


def test_force_stop_on_a_stopped_instance_just_changes_keys(emu, client):
    call(client, UNBIND, {"InstanceIds": ["ins-a1000003"], "KeyIds": ["skey-k1000001"], "ForceStop": True})
    seen = observe_states(emu, "ins-a1000003", ("STOPPED", "SUCCESS"))
    assert {state for state, operation in seen} == {"STOPPED"}
    assert emu.key_ids("ins-a1000003") == []
    assert bound_instances(emu, "skey-k1000001") == ["ins-a1000001"]


def test_busy_instance_is_denied(emu, client):
    call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    error = error_of(client, UNBIND, {"InstanceIds": ["ins-a1000005", "ins-a1000004"], "KeyIds": ["skey-k1000002"]})
    assert error.code == "OperationDenied.InstanceOperationInProgress"
    assert "`ins-a1000004`" in error.message and "ins-a1000005" not in error.message
    assert emu.operating() == ["ins-a1000004"]


def test_windows_is_refused(emu, client):
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004", "ins-a1000006"], "KeyIds": ["skey-k1000003"], "ForceStop": True})
    assert error.code == "UnsupportedOperation.InstanceOsWindows"
    assert "`ins-a1000006`" in error.message
    assert emu.operating() == []


def test_bind_replaces_keys_when_configured(emu, client):
    emu.configure(bind_replaces_keys=True)
    call(client, BIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000003", "skey-k1000004"]})
    emu.wait_idle()
    assert emu.key_ids("ins-a1000005") == ["skey-k1000003", "skey-k1000004"]
    assert bound_instances(emu, "skey-k1000002") == []
    assert bound_instances(emu, "skey-k1000004") == ["ins-a1000005"]


def test_unbinding_a_key_that_is_not_bound_is_a_successful_no_op(emu, client):
    request_id = call(client, UNBIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})["RequestId"]
    emu.wait_idle()
    done = emu.instance("ins-a1000004")
    assert (done["LatestOperation"], done["LatestOperationState"], done["LatestOperationRequestId"]) == (UNBIND, "SUCCESS", request_id)
    assert done["LoginSettings"]["KeyIds"] is None


def test_unbinding_the_last_key_makes_key_ids_null(emu, client):
    call(client, UNBIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000002"]})
    emu.wait_idle()
    assert emu.instance("ins-a1000005")["LoginSettings"]["KeyIds"] is None
    assert bound_instances(emu, "skey-k1000002") == []


def test_configured_operation_failure(emu, client):
    emu.configure(operation_failures={"ins-a1000004": "disk is read-only"})
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000004", "ins-a1000005"], "KeyIds": ["skey-k1000004"]})["RequestId"]
    emu.wait_idle()
    failed, passed = emu.instance("ins-a1000004"), emu.instance("ins-a1000005")
    assert (failed["LatestOperationState"], failed["LatestOperationErrorMsg"], failed["LatestOperationRequestId"]) == (
        "FAILED", "disk is read-only", request_id)
    assert failed["LoginSettings"]["KeyIds"] is None
    assert passed["LatestOperationState"] == "SUCCESS" and "skey-k1000004" in passed["LoginSettings"]["KeyIds"]
    emu.configure(operation_failures={"ins-a1000004": None})
    assert emu.config()["operation_failures"] == {}


@pytest.mark.nondeterministic
def test_held_operations_stay_operating_until_released(emu, client):
    emu.configure(hold_operations=True)
    call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    time.sleep(FAST_LATENCY + 0.1)
    assert instance(client, "ins-a1000004")["LatestOperationState"] == "OPERATING"
    try:
        emu.wait_idle(timeout=0.1)
        raise AssertionError("wait_idle returned while operations are held")
    except TimeoutError:
        pass
    emu.configure(hold_operations=False)
    emu.wait_idle()
    assert emu.key_ids("ins-a1000004") == ["skey-k1000003"]


@pytest.mark.nondeterministic
def test_operation_start_delay_shows_the_previous_operation_first(emu, client):
    emu.configure(operation_start_delay=0.5)
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})["RequestId"]
    early = instance(client, "ins-a1000004")
    assert (early["LatestOperation"], early["LatestOperationState"]) == ("StopInstances", "SUCCESS")
    assert early["LatestOperationRequestId"] != request_id
    assert error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000004"]}).code == \
        "OperationDenied.InstanceOperationInProgress"
    emu.wait_idle()
    assert emu.instance("ins-a1000004")["LatestOperationRequestId"] == request_id


def test_start_and_stop(emu, client):
    assert error_of(client, "StartInstances", {"InstanceIds": ["ins-a1000001"]}).code == "UnsupportedOperation.InstanceStateRunning"
    assert error_of(client, "StopInstances", {"InstanceIds": ["ins-a1000004"]}).code == "UnsupportedOperation.InstanceStateStopped"
    request_id = call(client, "StartInstances", {"InstanceIds": ["ins-a1000004", "ins-a1000006"]})["RequestId"]
    assert instance(client, "ins-a1000004")["InstanceState"] == "STARTING"
    assert error_of(client, "StopInstances", {"InstanceIds": ["ins-a1000004"]}).code == "UnsupportedOperation.InstanceStateStarting"
    emu.wait_idle()
    started = emu.instance("ins-a1000006")
    assert (started["InstanceState"], started["LatestOperation"], started["LatestOperationRequestId"]) == ("RUNNING", "StartInstances", request_id)
    call(client, "StopInstances", {"InstanceIds": ["ins-a1000001"], "StoppedMode": "STOP_CHARGING"})
    assert instance(client, "ins-a1000001")["InstanceState"] == "STOPPING"
    emu.wait_idle()
    stopped = emu.instance("ins-a1000001")
    assert (stopped["InstanceState"], stopped["StopChargingMode"], stopped["LatestOperationState"]) == ("STOPPED", "STOP_CHARGING", "SUCCESS")
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000001"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "UnsupportedOperation.StoppedModeStopCharging"


def test_key_pair_lifecycle(emu, client):
    created = call(client, "CreateKeyPair", {"KeyName": "carol", "ProjectId": 0,
                                             "TagSpecification": [{"ResourceType": "keypair", "Tags": [{"Key": "team", "Value": "qa"}]}]})
    pair = created["KeyPair"]
    assert pair["PrivateKey"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert pair["KeyId"].startswith("skey-") and pair["AssociatedInstanceIds"] == [] and pair["Tags"] == [{"Key": "team", "Value": "qa"}]
    listed = call(client, "DescribeKeyPairs", {"KeyIds": [pair["KeyId"]]})["KeyPairSet"][0]
    assert "PrivateKey" not in listed and listed["PublicKey"] == pair["PublicKey"]
    assert error_of(client, "CreateKeyPair", {"KeyName": "carol", "ProjectId": 0}).code == "InvalidKeyPairName.Duplicate"
    assert error_of(client, "CreateKeyPair", {"KeyName": "has-dash", "ProjectId": 0}).code == "InvalidKeyPairNameIncludeIllegalChar"
    assert error_of(client, "CreateKeyPair", {"KeyName": "x" * 26, "ProjectId": 0}).code == "InvalidKeyPairNameTooLong"

    blob = b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + bytes(range(32))
    public_key = "ssh-ed25519 %s dave@laptop" % base64.b64encode(blob).decode()
    key_id = call(client, "ImportKeyPair", {"KeyName": "dave", "ProjectId": 0, "PublicKey": public_key})["KeyId"]
    assert emu.key_pair(key_id)["PublicKey"] == public_key
    assert error_of(client, "ImportKeyPair", {"KeyName": "dave2", "ProjectId": 0, "PublicKey": public_key}).code == "InvalidPublicKey.Duplicate"
    assert error_of(client, "ImportKeyPair", {"KeyName": "eve", "ProjectId": 0, "PublicKey": "ssh-rsa not-base64!"}).code == \
        "InvalidPublicKey.Malformed"

    error = error_of(client, "DeleteKeyPairs", {"KeyIds": [key_id, "skey-k1000002"]})
    assert error.code == "InvalidParameterValue.KeyPairNotSupported" and "`ins-a1000005`" in error.message
    assert emu.key_pair(key_id)["KeyId"] == key_id  # all or nothing
    call(client, "DeleteKeyPairs", {"KeyIds": [key_id, pair["KeyId"]]})
    assert call(client, "DescribeKeyPairs")["TotalCount"] == 4
    assert error_of(client, "DeleteKeyPairs", {"KeyIds": [key_id]}).code == "InvalidKeyPairId.NotFound"
