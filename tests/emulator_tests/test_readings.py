# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The readings of what the real API leaves open: each one is a config field (and a flag, see test_command_line.py)."""

import time

from .sdk_calls import call, error_of, instance, wait_for

BIND = "AssociateInstancesKeyPairs"
UNBIND = "DisassociateInstancesKeyPairs"


def test_readings_default_to_the_lenient_add_semantics(emu):
    config = emu.config()
    assert (config["bind_semantics"], config["bind_replaces_keys"], config["strict_duplicates"], config["restart_as_own_operation"],
            config["null_operation_fields"], config["key_deletion_lag"], config["image_key_ids"]) == ("add", False, False, False, False, 0, [])


def test_bind_semantics_replace_sets_the_list(emu, client):
    assert emu.configure(bind_semantics="replace")["bind_replaces_keys"] is True
    call(client, BIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000003"]})
    emu.wait_idle()
    assert emu.key_ids("ins-a1000005") == ["skey-k1000003"]
    assert emu.configure(bind_replaces_keys=False)["bind_semantics"] == "add"


def test_strict_bind_of_a_key_already_bound_fails_the_whole_call(emu, client):
    emu.configure(strict_duplicates=True)
    before = emu.state()
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004", "ins-a1000005"], "KeyIds": ["skey-k1000002"]})
    assert error.code == "UnsupportedOperation.KeyPairBindDuplicate"
    assert "ins-a1000005" in error.message and "ins-a1000004" not in error.message
    assert emu.operating() == [] and emu.state() == before


def test_strict_unbind_of_a_key_not_bound_fails_the_whole_call(emu, client):
    emu.configure(strict_duplicates=True)
    before = emu.state()
    error = error_of(client, UNBIND, {"InstanceIds": ["ins-a1000003", "ins-a1000005"], "KeyIds": ["skey-k1000001"]})
    assert error.code == "UnsupportedOperation.KeyPairNotBoundToInstance"
    assert "ins-a1000005" in error.message and "ins-a1000003" not in error.message
    assert emu.operating() == [] and emu.state() == before


def test_strict_replace_accepts_keys_already_bound(emu, client):
    emu.configure(strict_duplicates=True, bind_semantics="replace")
    call(client, BIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000002", "skey-k1000003"]})
    emu.wait_idle()
    assert emu.key_ids("ins-a1000005") == ["skey-k1000002", "skey-k1000003"]


def test_lenient_duplicates_are_no_ops(emu, client):
    call(client, BIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000002"]})
    emu.wait_idle()
    call(client, UNBIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000004"]})
    emu.wait_idle()
    assert emu.key_ids("ins-a1000005") == ["skey-k1000002"]


def _operations_seen(client, instance_id, timeout=5.0):
    """Poll DescribeInstances until the instance is RUNNING with no operation running; return the distinct operation tuples seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = instance(client, instance_id)
        entry = (now["LatestOperation"], now["LatestOperationState"], now["LatestOperationRequestId"], now["InstanceState"])
        if not seen or seen[-1] != entry:
            seen.append(entry)
        if now["InstanceState"] == "RUNNING" and now["LatestOperationState"] != "OPERATING" and len(seen) > 1:
            return seen
        time.sleep(0.01)
    raise AssertionError("never settled; saw %s" % seen)


def test_restart_as_own_operation_after_a_force_stop_change(emu, client):
    emu.configure(restart_as_own_operation=True, operation_latency=0.4, rate_limits={"DescribeInstances": None})
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000002"], "KeyIds": ["skey-k1000003"], "ForceStop": True})["RequestId"]
    seen = _operations_seen(client, "ins-a1000002")
    ours = [s for s in seen if s[2] == request_id]
    assert ours and ours[-1][:2] == (BIND, "SUCCESS")
    last = seen[-1]
    assert last[0] == "StartInstances" and last[1] == "SUCCESS" and last[2] not in (request_id, None) and last[3] == "RUNNING"
    assert emu.key_ids("ins-a1000002") == ["skey-k1000003"]


def test_restart_as_own_operation_follows_a_failed_change_too(emu, client):
    emu.configure(restart_as_own_operation=True, operation_latency=0.4, rate_limits={"DescribeInstances": None},
                  operation_failures={"ins-a1000002": "disk is read-only"})
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000002"], "KeyIds": ["skey-k1000003"], "ForceStop": True})["RequestId"]
    emu.wait_idle()
    now = instance(client, "ins-a1000002")
    assert (now["LatestOperation"], now["LatestOperationState"], now["InstanceState"]) == ("StartInstances", "SUCCESS", "RUNNING")
    assert now["LatestOperationRequestId"] != request_id
    assert emu.key_ids("ins-a1000002") == []


def test_without_the_reading_the_restart_is_part_of_the_change(emu, client):
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000002"], "KeyIds": ["skey-k1000003"], "ForceStop": True})["RequestId"]
    emu.wait_idle()
    now = instance(client, "ins-a1000002")
    assert (now["LatestOperation"], now["LatestOperationState"], now["LatestOperationRequestId"], now["InstanceState"]) == (
        BIND, "SUCCESS", request_id, "RUNNING")


def test_null_operation_fields_on_instances_never_operated_and_during_the_start_delay(emu, client):
    emu.configure(null_operation_fields=True, operation_start_delay=0.4)
    fields = ("LatestOperation", "LatestOperationState", "LatestOperationRequestId", "LatestOperationErrorMsg")
    assert [instance(client, "ins-a1000004")[f] for f in fields] == [None] * 4
    assert emu.instance("ins-a1000004")["LatestOperation"] == "StopInstances"  # the seed's value, hidden by the reading
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})["RequestId"]
    assert [instance(client, "ins-a1000004")[f] for f in fields] == [None] * 4  # accepted, not shown yet
    wait_for(lambda: instance(client, "ins-a1000004")["LatestOperationRequestId"] == request_id,
             interval=0.05)  # polls through the SDK: stay under the emulator's 40 DescribeInstances per second
    emu.wait_idle()
    assert instance(client, "ins-a1000004")["LatestOperationState"] == "SUCCESS"


def test_without_the_reading_the_start_delay_shows_the_previous_operation(emu, client):
    emu.configure(operation_start_delay=0.4)
    before = instance(client, "ins-a1000004")["LatestOperationRequestId"]
    call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    assert instance(client, "ins-a1000004")["LatestOperationRequestId"] == before


def test_key_deletion_lag_after_an_unbind(emu, client):
    emu.configure(key_deletion_lag=0.6)
    call(client, UNBIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000002"]})
    emu.wait_idle()
    assert emu.key_ids("ins-a1000005") == []
    pair = call(client, "DescribeKeyPairs", {"KeyIds": ["skey-k1000002"]})["KeyPairSet"][0]
    assert pair["AssociatedInstanceIds"] == ["ins-a1000005"]
    error = error_of(client, "DeleteKeyPairs", {"KeyIds": ["skey-k1000002"]})
    assert error.code == "InvalidParameterValue.KeyPairNotSupported" and "ins-a1000005" in error.message
    wait_for(lambda: not emu.key_pair("skey-k1000002")["AssociatedInstanceIds"])
    call(client, "DeleteKeyPairs", {"KeyIds": ["skey-k1000002"]})
    assert call(client, "DescribeKeyPairs", {"KeyIds": ["skey-k1000002"]})["KeyPairSet"] == []


def test_key_deletion_lag_after_a_termination(emu, client):
    emu.configure(key_deletion_lag=30)
    emu.control("DELETE", "instances/ins-a1000005")
    assert call(client, "DescribeInstances", {"InstanceIds": ["ins-a1000005"]})["InstanceSet"] == []
    assert emu.key_pair("skey-k1000002")["AssociatedInstanceIds"] == ["ins-a1000005"]
    assert error_of(client, "DeleteKeyPairs", {"KeyIds": ["skey-k1000002"]}).code == "InvalidParameterValue.KeyPairNotSupported"


def test_without_a_lag_an_unbound_key_deletes_at_once(emu, client):
    call(client, UNBIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000002"]})
    emu.wait_idle()
    call(client, "DeleteKeyPairs", {"KeyIds": ["skey-k1000002"]})


def test_a_key_used_by_a_custom_image_cannot_be_deleted(emu, client):
    emu.configure(image_key_ids=["skey-k1000004"])
    error = error_of(client, "DeleteKeyPairs", {"KeyIds": ["skey-k1000004"]})
    assert error.code == "InvalidKeyPair.NotSupported"
    assert emu.key_pair("skey-k1000004")["KeyId"] == "skey-k1000004"
    emu.configure(image_key_ids=[])
    call(client, "DeleteKeyPairs", {"KeyIds": ["skey-k1000004"]})


def test_bad_reading_values_are_refused_and_change_nothing(emu):
    from harness import EmulatorError  # pylint: disable=import-outside-toplevel
    before = emu.config()
    for patch in ({"bind_semantics": "merge"}, {"strict_duplicates": "yes"}, {"key_deletion_lag": -1},
                  {"image_key_ids": ["key-1"]}, {"restart_as_own_operation": 1}, {"null_operation_fields": None}):
        try:
            emu.configure(**patch)
        except EmulatorError as error:
            assert "400" in str(error)
        else:
            raise AssertionError("accepted %s" % patch)
    assert emu.config() == before


def test_the_stop_log_counts_force_stopped_instances_and_the_most_down_at_once(emu, client):
    """Two RUNNING instances force-stopped by one bind are down together; a second change after the first finished adds
    stops but never raises the most down at once. A STOPPED instance's change stops nothing. Scheduled times, not polling."""
    assert emu.stops() == {"force_stopped": 0, "max_stopped_at_once": 0, "stopped_now": []}
    call(client, BIND, {"InstanceIds": ["ins-a1000001", "ins-a1000002"], "KeyIds": ["skey-k1000003"], "ForceStop": True})
    assert emu.stops()["stopped_now"] == ["ins-a1000001", "ins-a1000002"]
    emu.wait_idle()
    call(client, UNBIND, {"InstanceIds": ["ins-a1000002"], "KeyIds": ["skey-k1000003"], "ForceStop": True})
    emu.wait_idle()
    call(client, BIND, {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000003"], "ForceStop": True})  # STOPPED: no stop
    emu.wait_idle()
    assert emu.stops() == {"force_stopped": 3, "max_stopped_at_once": 2, "stopped_now": []}
    emu.load_state(emu.state())
    assert emu.stops()["force_stopped"] == 0  # a state load starts a new count
