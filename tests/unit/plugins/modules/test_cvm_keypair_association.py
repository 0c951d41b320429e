# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module's desired-state logic over an in-memory API (narrow: the end-to-end tests use the real SDK and the emulator)."""

from __future__ import annotations

import itertools

import pytest

from ansible.module_utils import basic
from ansible_collections.tencentcloud.cvm.plugins.modules import cvm_keypair_association as module
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.in_memory_cvm import BINDING_WRITES as WRITES, InMemoryCvm, instance, key_pair


@pytest.fixture
def cvm(use_api):
    """An InMemoryCvm holding instances given as {instance_id: {"keys": set, "state": ...}} and three key pairs."""

    def make(instances, **kwargs):
        return use_api(
            InMemoryCvm([instance(i, d["keys"], d.get("state", "STOPPED")) for i, d in sorted(instances.items())], [key_pair(k, k[5:]) for k in KEYS], **kwargs)
        )

    return make


KEYS = ("skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc")


def args(**kwargs):
    base = {"secret_id": "AKIDx", "secret_key": "SECRETVALUE", "region": "ap-guangzhou"}
    base.update(kwargs)
    return base


def stopped(n, keys=()):
    return {"ins-%08d" % i: {"keys": set(keys)} for i in range(n)}


def test_present_binds_only_what_is_missing(run_module, cvm):
    api = cvm({"ins-00000001": {"keys": set()}, "ins-00000002": {"keys": {"skey-aaaaaaaa"}}})
    failed, result = run_module(module.main, args(instance_ids=["ins-00000001", "ins-00000002"], key_ids=["skey-aaaaaaaa"]))
    assert not failed and result["changed"]
    assert result["instances"] == [
        {"instance_id": "ins-00000001", "key_ids": ["skey-aaaaaaaa"], "previous_key_ids": [], "changed": True},
        {"instance_id": "ins-00000002", "key_ids": ["skey-aaaaaaaa"], "previous_key_ids": ["skey-aaaaaaaa"], "changed": False},
    ]
    assert [c for c in api.calls if c[0] in WRITES] == [("AssociateInstancesKeyPairs", {"InstanceIds": ["ins-00000001"], "KeyIds": ["skey-aaaaaaaa"]})]
    assert result["request_ids"] == ["req-3"]


def test_second_run_sends_no_write(run_module, cvm):
    api = cvm(stopped(3, ["skey-aaaaaaaa"]))
    failed, result = run_module(module.main, args(instance_ids=sorted(api.instances), key_ids=["skey-aaaaaaaa"]))
    assert not failed and not result["changed"] and result["request_ids"] == []
    assert api.count(*WRITES) == 0 and api.count("DescribeKeyPairs") == 0


def test_check_mode_plans_the_same_and_writes_nothing(run_module, cvm):
    api = cvm(stopped(2, ["skey-bbbbbbbb"]))
    params = args(instance_ids=sorted(api.instances), key_ids=["skey-aaaaaaaa"], exclusive=True, _ansible_check_mode=True, _ansible_diff=True)
    failed, result = run_module(module.main, params)
    assert not failed and result["changed"]
    assert api.count(*WRITES) == 0
    assert result["diff"] == {
        "before": {"instances": {"ins-00000000": ["skey-bbbbbbbb"], "ins-00000001": ["skey-bbbbbbbb"]}},
        "after": {"instances": {"ins-00000000": ["skey-aaaaaaaa"], "ins-00000001": ["skey-aaaaaaaa"]}},
    }
    preview = result
    failed, result = run_module(module.main, dict(params, _ansible_check_mode=False))
    assert result["changed"] == preview["changed"] and result["diff"] == preview["diff"] and result["instances"] == preview["instances"]


def test_absent_unbinds_only_listed_keys(run_module, cvm):
    api = cvm({"ins-00000001": {"keys": {"skey-aaaaaaaa", "skey-bbbbbbbb"}}})
    failed, result = run_module(module.main, args(instance_ids=["ins-00000001"], key_ids=["skey-aaaaaaaa"], state="absent"))
    assert not failed
    assert result["instances"][0]["key_ids"] == ["skey-bbbbbbbb"]
    assert [c[0] for c in api.calls if c[0] in WRITES] == ["DisassociateInstancesKeyPairs"]


def test_exclusive_binds_before_unbinding(run_module, cvm):
    api = cvm({"ins-00000001": {"keys": {"skey-bbbbbbbb"}}})
    failed, result = run_module(module.main, args(instance_ids=["ins-00000001"], key_ids=["skey-aaaaaaaa"], exclusive=True))
    assert not failed
    assert [c[0] for c in api.calls if c[0] in WRITES] == list(WRITES)
    assert result["instances"][0]["key_ids"] == ["skey-aaaaaaaa"]


@pytest.mark.parametrize("count, reads, writes", [(1, 1, 1), (100, 1, 1), (101, 2, 2), (250, 3, 3)])
def test_batching_counts(run_module, cvm, count, reads, writes):
    api = cvm(stopped(count))
    failed, _result = run_module(module.main, args(instance_ids=sorted(api.instances), key_ids=["skey-aaaaaaaa"]))
    assert not failed
    assert api.count(*WRITES) == writes
    assert all(len(p.get("InstanceIds", ())) <= 100 for a, p in api.calls)
    describe_before_first_write = list(itertools.takewhile(lambda c: c[0] not in WRITES, api.calls))
    assert [call[0] for call in describe_before_first_write].count("DescribeInstances") == reads


def test_running_instance_without_force_stop_fails_before_any_write(run_module, cvm):
    api = cvm({"ins-00000001": {"keys": set(), "state": "RUNNING"}, "ins-00000002": {"keys": set()}})
    failed, result = run_module(module.main, args(instance_ids=["ins-00000001", "ins-00000002"], key_ids=["skey-aaaaaaaa"]))
    assert failed
    assert "ins-00000001 (RUNNING)" in result["msg"] and "force_stop" in result["msg"] and "Nothing was changed" in result["msg"]
    assert api.count(*WRITES) == 0 and not result["changed"]


def test_unknown_instance_and_key_fail_before_any_write(run_module, cvm):
    api = cvm(stopped(1))
    failed, result = run_module(module.main, args(instance_ids=["ins-00000000", "ins-zzzzzzzz"], key_ids=["skey-aaaaaaaa"]))
    assert failed and "ins-zzzzzzzz" in result["msg"] and "not found" in result["msg"]
    failed, result = run_module(module.main, args(instance_ids=["ins-00000000"], key_ids=["skey-zzzzzzzz"]))
    assert failed and "skey-zzzzzzzz" in result["msg"] and "Key pairs not found" in result["msg"]
    assert api.count(*WRITES) == 0


@pytest.mark.parametrize(
    "params, fragment",
    [
        (dict(instance_ids=[], key_ids=["skey-aaaaaaaa"]), "instance_ids is empty"),
        (dict(instance_ids=["ins-00000001"], key_ids=[]), "key_ids is empty"),
        (dict(instance_ids=["ins-1122", "INS-ABCDEFGH"], key_ids=["skey-aaaaaaaa"]), "'ins-1122', 'INS-ABCDEFGH'"),
        (dict(instance_ids=["skey-aaaaaaaa"], key_ids=["ins-00000001"]), "skey-aaaaaaaa looks like key_ids: did you swap"),
        (dict(instance_ids=["skey-aaaaaaaa", "skey-bbbbbbbb"], key_ids=["skey-cccccccc"]), "skey-aaaaaaaa, skey-bbbbbbbb look like key_ids: did you swap"),
        (dict(instance_ids=["ins-00000001"], key_ids=["skey-%08d" % i for i in range(101)]), "at most 100"),
        (dict(instance_ids=["ins-00000001"], key_ids=["skey-aaaaaaaa"], state="absent", exclusive=True), "exclusive=true only applies"),
        (dict(instance_ids=["ins-00000001"], key_ids=["skey-aaaaaaaa"], wait_timeout=0), "wait_timeout must be a whole number of seconds from 1 to 86400"),
        (dict(instance_ids=["ins-00000001"], key_ids=["skey-aaaaaaaa"], state="absent", bind_full_sets=True), "bind_full_sets=true only applies"),
    ],
)
def test_bad_input_fails_without_any_call(run_module, cvm, params, fragment):
    api = cvm(stopped(1))
    failed, result = run_module(module.main, args(**params))
    assert failed and fragment in result["msg"] and "Nothing was changed" in result["msg"]
    assert api.calls == []


def run_twice(run_module, api, params):
    """Run, then rerun: the rerun must find nothing to do and send no write."""
    failed, result = run_module(module.main, params)
    assert not failed, result.get("msg")
    sent = len(api.writes())
    again_failed, again = run_module(module.main, params)
    assert not again_failed and not again["changed"] and len(api.writes()) == sent
    return result


def test_replace_semantics_is_noticed_repaired_with_full_sets_and_warned_once(run_module, cvm, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    api = cvm({"ins-00000001": {"keys": {"skey-bbbbbbbb"}}, "ins-00000002": {"keys": {"skey-cccccccc"}}}, replace=True)
    result = run_twice(run_module, api, args(instance_ids=["ins-00000001", "ins-00000002"], key_ids=["skey-aaaaaaaa"]))
    assert {i["instance_id"]: i["key_ids"] for i in result["instances"]} == {
        "ins-00000001": ["skey-aaaaaaaa", "skey-bbbbbbbb"],
        "ins-00000002": ["skey-aaaaaaaa", "skey-cccccccc"],
    }
    writes = api.writes()
    assert writes[0] == ("AssociateInstancesKeyPairs", ["ins-00000001", "ins-00000002"], ["skey-aaaaaaaa"])
    assert sorted(writes[1:]) == [
        ("AssociateInstancesKeyPairs", ["ins-00000001"], ["skey-aaaaaaaa", "skey-bbbbbbbb"]),
        ("AssociateInstancesKeyPairs", ["ins-00000002"], ["skey-aaaaaaaa", "skey-cccccccc"]),
    ]
    replaced = [w for w in warnings if "replaced the key pairs" in w]
    assert len(replaced) == 1 and "another client" not in replaced[0]


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("strict", [False, True])
def test_bind_full_sets_sends_whole_key_sets_so_no_key_is_ever_dropped(run_module, cvm, replace, strict):
    api = cvm({"ins-00000001": {"keys": {"skey-bbbbbbbb"}}, "ins-00000002": {"keys": {"skey-bbbbbbbb"}}}, replace=replace, strict=strict)
    result = run_twice(run_module, api, args(instance_ids=["ins-00000001", "ins-00000002"], key_ids=["skey-aaaaaaaa"], bind_full_sets=True))
    assert [i["key_ids"] for i in result["instances"]] == [["skey-aaaaaaaa", "skey-bbbbbbbb"]] * 2
    writes = api.writes()
    assert writes[0] == ("AssociateInstancesKeyPairs", ["ins-00000001", "ins-00000002"], ["skey-aaaaaaaa", "skey-bbbbbbbb"])
    if strict and not replace:  # a strict API that adds refuses the duplicate; the module then resends only what is missing
        assert writes[1:] == [("AssociateInstancesKeyPairs", ["ins-00000001", "ins-00000002"], ["skey-aaaaaaaa"])]
    else:
        assert writes == [writes[0]]


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("strict", [False, True])
def test_exclusive_swap_plans_unbinds_from_what_the_binds_left(run_module, cvm, replace, strict):
    api = cvm({"ins-00000001": {"keys": {"skey-bbbbbbbb", "skey-cccccccc"}}}, replace=replace, strict=strict)
    result = run_twice(run_module, api, args(instance_ids=["ins-00000001"], key_ids=["skey-aaaaaaaa", "skey-bbbbbbbb"], exclusive=True))
    assert result["instances"][0]["key_ids"] == ["skey-aaaaaaaa", "skey-bbbbbbbb"]
    if replace:  # the bind dropped b and c; the repair binds the full set; c is already gone, so no unbind is sent
        assert api.writes() == [
            ("AssociateInstancesKeyPairs", ["ins-00000001"], ["skey-aaaaaaaa"]),
            ("AssociateInstancesKeyPairs", ["ins-00000001"], ["skey-aaaaaaaa", "skey-bbbbbbbb"]),
        ]
    else:
        assert api.writes() == [
            ("AssociateInstancesKeyPairs", ["ins-00000001"], ["skey-aaaaaaaa"]),
            ("DisassociateInstancesKeyPairs", ["ins-00000001"], ["skey-cccccccc"]),
        ]


@pytest.mark.parametrize("strict", [False, True])
def test_a_lost_answer_is_not_resent_when_the_change_shows(run_module, cvm, strict):
    api = cvm(stopped(2), faults=["lost"], strict=strict)
    result = run_twice(run_module, api, args(instance_ids=sorted(api.instances), key_ids=["skey-aaaaaaaa"]))
    assert result["changed"] and all(i["key_ids"] == ["skey-aaaaaaaa"] for i in result["instances"])
    assert len(api.writes()) == 1  # re-read, saw the keys, followed the operation: nothing sent again


def test_an_internal_error_is_resent_only_after_reading_that_nothing_changed(run_module, cvm):
    api = cvm(stopped(2), faults=["internal"])
    run_twice(run_module, api, args(instance_ids=sorted(api.instances), key_ids=["skey-aaaaaaaa"]))
    writes = api.writes()
    assert len(writes) == 2 and writes[0] == writes[1]
    first, resend = [n for n, call in enumerate(api.calls) if call[0] in WRITES][:2]
    assert [call[0] for call in api.calls[slice(first + 1, resend)]] == ["DescribeInstances"]  # the re-read between the two


def test_a_duplicate_refusal_is_settled_by_reading_not_reported(run_module, cvm):
    """Strict API, and another client bound the key to one instance between the module's read and its write."""
    api = cvm(stopped(2), strict=True)
    original = api.call

    def interfering(action, params, resend_safe=False):
        if action == "AssociateInstancesKeyPairs" and not api.keys_of("ins-00000000"):
            api.set_keys("ins-00000000", {"skey-aaaaaaaa"})
        return original(action, params, resend_safe)

    api.call = interfering
    result = run_twice(run_module, api, args(instance_ids=sorted(api.instances), key_ids=["skey-aaaaaaaa"]))
    assert all(i["key_ids"] == ["skey-aaaaaaaa"] for i in result["instances"])
    assert api.writes() == [
        ("AssociateInstancesKeyPairs", ["ins-00000000", "ins-00000001"], ["skey-aaaaaaaa"]),
        ("AssociateInstancesKeyPairs", ["ins-00000001"], ["skey-aaaaaaaa"]),
    ]


def test_operations_shown_under_their_own_ids_still_count(run_module, cvm):
    api = cvm(stopped(2), op_ids=True)
    result = run_twice(run_module, api, args(instance_ids=sorted(api.instances), key_ids=["skey-aaaaaaaa"], wait_timeout=600))
    assert result["changed"] and len(api.writes()) == 1


@pytest.mark.usefixtures("run_module")
def test_a_duplicate_refusal_of_a_full_set_resends_only_the_missing_keys(cvm):
    """Strict add semantics, and a full-set bind (as after a replace was seen): the refusal is settled by reading."""
    api = cvm({"ins-00000001": {"keys": {"skey-bbbbbbbb"}}}, strict=True)
    binder = module.key_changes.Binder(api)
    views = binder.read_instances(["ins-00000001"])
    write = module.key_changes.Write(module.key_changes.ASSOCIATE, ("ins-00000001",), ("skey-aaaaaaaa", "skey-bbbbbbbb"), False, bind_full_sets=True)
    outcome = binder.apply([write], True, 30, views=views)
    assert not outcome.stopped and outcome.final["ins-00000001"].key_ids == ("skey-aaaaaaaa", "skey-bbbbbbbb")
    assert api.writes() == [
        ("AssociateInstancesKeyPairs", ["ins-00000001"], ["skey-aaaaaaaa", "skey-bbbbbbbb"]),
        ("AssociateInstancesKeyPairs", ["ins-00000001"], ["skey-aaaaaaaa"]),
    ]
