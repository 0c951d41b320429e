# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key changes engine: planning and grouping (pure functions), tracking, and converge over the in-memory API."""
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about

from __future__ import annotations

import math

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _key_changes as key_changes
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _ids, _lookup
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError
from ansible_collections.tencentcloud.cvm.tests.unit.plugins import in_memory_cvm as cvm


def view(instance_id, keys=(), state="STOPPED", os_name="TencentOS Server 3.1"):
    return _lookup.InstanceView(
        {"InstanceId": instance_id, "InstanceState": state, "OsName": os_name, "LoginSettings": {"KeyIds": list(keys) if keys else None}}
    )


def ids(n):
    return ["ins-%08d" % i for i in range(n)]


@pytest.mark.parametrize(
    "have, state, exclusive, to_bind, to_unbind",
    [
        ((), "present", False, ("skey-aaaaaaaa",), ()),
        (("skey-aaaaaaaa",), "present", False, (), ()),
        (("skey-bbbbbbbb",), "present", False, ("skey-aaaaaaaa",), ()),
        (("skey-bbbbbbbb",), "present", True, ("skey-aaaaaaaa",), ("skey-bbbbbbbb",)),
        (("skey-aaaaaaaa", "skey-bbbbbbbb"), "present", True, (), ("skey-bbbbbbbb",)),
        (("skey-aaaaaaaa", "skey-bbbbbbbb"), "absent", False, (), ("skey-aaaaaaaa",)),
        (("skey-bbbbbbbb",), "absent", False, (), ()),
        ((), "absent", False, (), ()),
    ],
)
def test_plan_is_the_minimal_change(have, state, exclusive, to_bind, to_unbind):
    plan = key_changes.plan_instance(view("ins-00000001", have), ["skey-aaaaaaaa"], state, exclusive)
    assert (plan.to_bind, plan.to_unbind) == (to_bind, to_unbind)
    assert plan.needs_change == bool(to_bind or to_unbind)
    expected_after = (set(have) | set(to_bind)) - set(to_unbind)
    assert plan.after == tuple(sorted(expected_after))


def test_null_key_ids_read_as_no_keys():
    assert view("ins-00000001").key_ids == ()


@pytest.mark.parametrize("count", [1, 100, 101, 250])
def test_batching_by_100(count):
    plans = [key_changes.plan_instance(view(i), ["skey-aaaaaaaa"], "present", False) for i in ids(count)]
    binds = key_changes.group_writes(plans, key_changes.ASSOCIATE, force_stop=False)
    assert key_changes.group_writes(plans, key_changes.DISASSOCIATE, force_stop=False) == []
    assert len(binds) == math.ceil(count / 100)
    assert all(len(w.instance_ids) <= 100 for w in binds)
    assert sorted(i for w in binds for i in w.instance_ids) == ids(count)
    assert all(w.params() == {"InstanceIds": list(w.instance_ids), "KeyIds": ["skey-aaaaaaaa"]} for w in binds)


def test_instances_needing_the_same_change_share_calls():
    have = {"ins-00000001": (), "ins-00000002": ("skey-bbbbbbbb",), "ins-00000003": ("skey-aaaaaaaa",), "ins-00000004": ()}
    plans = [key_changes.plan_instance(view(i, k), ["skey-aaaaaaaa"], "present", True) for i, k in sorted(have.items())]
    binds = key_changes.group_writes(plans, key_changes.ASSOCIATE, force_stop=False)
    unbinds = key_changes.group_writes(plans, key_changes.DISASSOCIATE, force_stop=False)
    assert [(w.instance_ids, w.key_ids) for w in binds] == [(("ins-00000001", "ins-00000002", "ins-00000004"), ("skey-aaaaaaaa",))]
    assert [(w.instance_ids, w.key_ids) for w in unbinds] == [(("ins-00000002",), ("skey-bbbbbbbb",))]


def test_force_stop_only_sent_for_batches_with_running_instances():
    plans = [
        key_changes.plan_instance(view("ins-00000001", state="RUNNING"), ["skey-aaaaaaaa"], "present", False),
        key_changes.plan_instance(view("ins-00000002"), ["skey-bbbbbbbb"], "present", False),
    ]
    binds = key_changes.group_writes(plans, key_changes.ASSOCIATE, force_stop=True)
    assert {w.instance_ids: w.params().get("ForceStop") for w in binds} == {("ins-00000001",): True, ("ins-00000002",): None}


def test_preflight_lists_every_blocked_instance_needing_a_change():
    views = [
        view("ins-00000001", state="RUNNING"),
        view("ins-00000002", ("skey-aaaaaaaa",), state="RUNNING"),
        view("ins-00000003", os_name="Windows Server 2022"),
        view("ins-00000004", state="SHUTDOWN"),
        view("ins-00000005"),
    ]
    plans = [key_changes.plan_instance(v, ["skey-aaaaaaaa"], "present", False) for v in views]
    assert key_changes.blocked_instances(plans, force_stop=False) == {
        "not_stopped": ["ins-00000001 (RUNNING)"],  # ins-00000002 is running but needs nothing
        "windows": ["ins-00000003 (Windows Server 2022)"],
        "unchangeable": ["ins-00000004 (SHUTDOWN)"],
    }
    assert key_changes.blocked_instances(plans, force_stop=True) == {
        "windows": ["ins-00000003 (Windows Server 2022)"],
        "unchangeable": ["ins-00000004 (SHUTDOWN)"],
    }


def test_unique_and_malformed():
    assert _ids.unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert _ids.malformed(["ins-1e4r6y8i", "ins-1122", "INS-1E4R6Y8I", "skey-4e5ty7i8", 5], _ids.INSTANCE_ID_RE) == [
        "ins-1122",
        "INS-1E4R6Y8I",
        "skey-4e5ty7i8",
        5,
    ]


# -- planning under the readings the API leaves open -----------------------------------------------------------------

A, B, C = "skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc"


@pytest.mark.parametrize(
    "have, exclusive, to_bind",
    [
        ((B,), False, (A, B)),  # present keeps B: the whole set is bound
        ((B, C), True, (A, B)),  # exclusive: exactly the listed set
        ((A,), False, ()),  # nothing missing: no bind at all
    ],
)
def test_full_sets_bind_the_whole_set_an_instance_must_end_with(have, exclusive, to_bind):
    plan = key_changes.plan_instance(view("ins-00000001", have), [A, B] if exclusive else [A], "present", exclusive, bind_full_sets=True)
    assert plan.to_bind == to_bind


def test_unbinds_are_planned_from_the_keys_after_the_binds():
    after_add, after_replace = view("ins-00000001", (A, B, C)), view("ins-00000002", (A, B))
    plans = key_changes.plan_unbinds([after_add, after_replace], [A, B], "present", True)
    assert [(p.instance_id, p.to_unbind) for p in plans] == [("ins-00000001", (C,)), ("ins-00000002", ())]
    absent = key_changes.plan_unbinds([view("ins-00000003", (A, C))], [A, B], "absent", False)
    assert absent[0].to_unbind == (A,)


def test_replaced_keys_are_those_lost_without_being_asked_to_go():
    plan = key_changes.plan_instance(view("ins-00000001", (B, C)), [A, B], "present", True)  # bind A, unbind C
    assert key_changes.replaced_keys(plan, view("ins-00000001", (A, B, C))) == set()
    assert key_changes.replaced_keys(plan, view("ins-00000001", (A,))) == {B}
    repair = key_changes.repair_plan(plan, view("ins-00000001", (A,)))
    assert (repair.to_bind, repair.to_unbind) == ((A, B), ())


def test_a_resend_carries_only_the_keys_still_needed():
    bind = key_changes.Write(key_changes.ASSOCIATE, ("ins-00000001",), (A, B), False)
    assert bind.still_needed(view("ins-00000001", (A,))) == (B,)
    full = key_changes.Write(key_changes.ASSOCIATE, ("ins-00000001",), (A, B), False, bind_full_sets=True)
    assert full.still_needed(view("ins-00000001", (A,))) == (A, B) and full.still_needed(view("ins-00000001", (A, B))) == ()
    unbind = key_changes.Write(key_changes.DISASSOCIATE, ("ins-00000001",), (A, B), False)
    assert unbind.still_needed(view("ins-00000001", (B, C))) == (B,)


def op_view(instance_id, keys=(), state="STOPPED", operation="AssociateInstancesKeyPairs", op_state="SUCCESS", request_id=None, error=""):
    return _lookup.InstanceView(
        {
            "InstanceId": instance_id,
            "InstanceState": state,
            "OsName": "TencentOS",
            "LoginSettings": {"KeyIds": list(keys) or None},
            "LatestOperation": operation,
            "LatestOperationState": op_state,
            "LatestOperationRequestId": request_id,
            "LatestOperationErrorMsg": error,
        }
    )


def test_settling_by_reading_follows_what_took_effect_and_resends_the_rest():
    write = key_changes.Write(key_changes.ASSOCIATE, ("ins-00000001", "ins-00000002", "ins-00000003", "ins-00000004"), (A,), False)
    views = {
        "ins-00000001": op_view("ins-00000001", (A,), request_id="old-1"),  # the change shows
        "ins-00000002": op_view("ins-00000002", (), op_state="OPERATING", request_id="x"),  # something is running
        "ins-00000003": op_view("ins-00000003", (), request_id="new-3"),  # a newer operation finished
        "ins-00000004": op_view("ins-00000004", (B,), request_id="old-4"),  # no sign at all
    }
    baselines = {"ins-00000001": "old-1", "ins-00000002": "old-2", "ins-00000003": "old-3", "ins-00000004": "old-4"}
    took_effect, redo = key_changes.Binder._settle_by_reading(write, views, baselines)  # pylint: disable=protected-access
    assert took_effect == ("ins-00000001", "ins-00000002", "ins-00000003")
    assert [(w.instance_ids, w.key_ids) for w in redo] == [(("ins-00000004",), (A,))]


class _Clockless:
    FIRST_POLL = 0.5


def finished(view_, request_id="req-1", baseline="old", write=None, restart=False):
    """(finished?, outcome) of the tracker looking at one view of the instance of a bind of A."""
    write = write or key_changes.Write(key_changes.ASSOCIATE, ("ins-00000001",), (A,), False)
    tracker = key_changes._OperationTracker(
        _Clockless(),
        300,
        frozenset(["ins-00000001"]) if restart else frozenset(),  # pylint: disable=protected-access
        {"ins-00000001": baseline},
    )
    tracker.track(write, request_id, 0.0)
    outcome = key_changes.StepOutcome()
    done = tracker._finished(tracker.tracked["ins-00000001"], view_, outcome)  # pylint: disable=protected-access
    return done, outcome


def test_tracking_the_writes_own_request_id():
    assert finished(op_view("ins-00000001", (A,), request_id="req-1"))[0]
    assert not finished(op_view("ins-00000001", (), op_state="OPERATING", request_id="req-1"))[0]
    done, outcome = finished(op_view("ins-00000001", (), op_state="FAILED", request_id="req-1", error="disk full"))
    assert done and outcome.failed["ins-00000001"] == {"request_id": "req-1", "error_message": "disk full"}


def test_a_newer_finished_operation_with_the_goal_reached_is_success_whatever_its_id():
    done, outcome = finished(op_view("ins-00000001", (A,), request_id="internal-42"))
    assert done and outcome.final["ins-00000001"].key_ids == (A,)
    done, outcome = finished(op_view("ins-00000001", (A,), request_id="internal-42"), request_id=None)  # the answer was lost
    assert done and not outcome.failed


def test_a_newer_finished_operation_without_the_goal_fails_at_once_naming_it():
    done, outcome = finished(op_view("ins-00000001", (), state="RUNNING", operation="StartInstances", request_id="start-7"))
    assert done
    message = outcome.failed["ins-00000001"]["error_message"]
    assert "StartInstances" in message and "start-7" in message and "SUCCESS" in message


def test_no_news_yet_keeps_waiting_unless_the_change_already_shows():
    assert not finished(op_view("ins-00000001", (), request_id="old"))[0]  # the previous operation
    assert not finished(op_view("ins-00000001", (), operation=None, op_state=None))[0]  # null fields
    assert finished(op_view("ins-00000001", (A,), operation=None, op_state=None))[0]  # the change is there
    assert not finished(op_view("ins-00000001", (A,), op_state="OPERATING", request_id="other"))[0]


def test_a_restart_after_force_stop_is_waited_for_even_as_its_own_operation():
    stopped_ = op_view("ins-00000001", (A,), state="STOPPED", request_id="req-1")
    assert not finished(stopped_, restart=True)[0]
    starting = op_view("ins-00000001", (A,), state="STARTING", operation="StartInstances", op_state="OPERATING", request_id="start-1")
    assert not finished(starting, restart=True)[0]
    running = op_view("ins-00000001", (A,), state="RUNNING", operation="StartInstances", request_id="start-1")
    assert finished(running, restart=True)[0]


# -- converge: one goal in, one outcome out --------------------------------------------------------------------------


def test_converge_refuses_a_missing_listed_instance_and_skips_a_missing_found_one():
    api = cvm.InMemoryCvm([cvm.instance("ins-00000001")], [cvm.key_pair(A, "a")])
    listed = key_changes.converge_bindings(api, key_changes.BindingGoal([A], instance_ids=["ins-00000001", "ins-zzzzzzzz"]))
    assert listed.failure.kind == key_changes.REFUSED and listed.plans == {} and api.writes() == []
    assert listed.failure.message == ("Instances not found in region ap-guangzhou: ins-zzzzzzzz. Check instance_ids and region; nothing was changed.")
    found = key_changes.converge_bindings(api, key_changes.BindingGoal([A], instance_ids=["ins-00000001", "ins-zzzzzzzz"], must_exist=False))
    assert found.failure is None and sorted(found.plans) == ["ins-00000001"] and found.final == {"ins-00000001": (A,)}
    assert api.writes() == [("AssociateInstancesKeyPairs", ["ins-00000001"], [A])]


def test_converge_in_check_mode_plans_and_writes_nothing():
    api = cvm.InMemoryCvm([cvm.instance("ins-00000001", (B,))], [cvm.key_pair(A, "a")])
    outcome = key_changes.converge_bindings(api, key_changes.BindingGoal([A], instance_ids=["ins-00000001"], exclusive=True), check_mode=True)
    assert outcome.failure is None and outcome.final == {"ins-00000001": (A,)} and outcome.changed_ids() == {"ins-00000001"}
    assert api.writes() == [] and api.count("DescribeKeyPairs") == 1  # the preflight still checks the key exists


def test_converge_reports_a_write_that_failed_for_good_with_what_was_written():
    error = CvmApiError("AssociateInstancesKeyPairs", "InvalidKeyPairId.NotFound", "gone", "req-9")
    api = cvm.InMemoryCvm([cvm.instance("ins-00000001")], [cvm.key_pair(A, "a")], fail_on={"AssociateInstancesKeyPairs": error})
    outcome = key_changes.converge_bindings(api, key_changes.BindingGoal([A], instance_ids=["ins-00000001"]))
    assert (outcome.failure.kind, outcome.failure.error) == (key_changes.WRITE_FAILED, error)
    assert outcome.written == set() and outcome.request_ids == [] and outcome.changed_ids() == set()
