# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning and grouping: pure functions, no API."""

from __future__ import annotations

import math

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _keypair_binding as binding


def view(instance_id, keys=(), state="STOPPED", os_name="TencentOS Server 3.1"):
    return binding.InstanceView({"InstanceId": instance_id, "InstanceState": state, "OsName": os_name,
                                 "LoginSettings": {"KeyIds": list(keys) if keys else None}})


def ids(n):
    return ["ins-%08d" % i for i in range(n)]


@pytest.mark.parametrize("have, state, exclusive, to_bind, to_unbind", [
    ((), "present", False, ("skey-aaaaaaaa",), ()),
    (("skey-aaaaaaaa",), "present", False, (), ()),
    (("skey-bbbbbbbb",), "present", False, ("skey-aaaaaaaa",), ()),
    (("skey-bbbbbbbb",), "present", True, ("skey-aaaaaaaa",), ("skey-bbbbbbbb",)),
    (("skey-aaaaaaaa", "skey-bbbbbbbb"), "present", True, (), ("skey-bbbbbbbb",)),
    (("skey-aaaaaaaa", "skey-bbbbbbbb"), "absent", False, (), ("skey-aaaaaaaa",)),
    (("skey-bbbbbbbb",), "absent", False, (), ()),
    ((), "absent", False, (), ()),
])
def test_plan_is_the_minimal_change(have, state, exclusive, to_bind, to_unbind):
    plan = binding.plan_instance(view("ins-00000001", have), ["skey-aaaaaaaa"], state, exclusive)
    assert (plan.to_bind, plan.to_unbind) == (to_bind, to_unbind)
    assert plan.changes == bool(to_bind or to_unbind)
    expected_after = (set(have) | set(to_bind)) - set(to_unbind)
    assert plan.after == tuple(sorted(expected_after))


def test_null_key_ids_read_as_no_keys():
    assert view("ins-00000001").key_ids == ()


@pytest.mark.parametrize("count", [1, 100, 101, 250])
def test_batching_by_100(count):
    plans = [binding.plan_instance(view(i), ["skey-aaaaaaaa"], "present", False) for i in ids(count)]
    binds, unbinds = binding.group_writes(plans, force_stop=False)
    assert unbinds == []
    assert len(binds) == math.ceil(count / 100)
    assert all(len(w.instance_ids) <= 100 for w in binds)
    assert sorted(i for w in binds for i in w.instance_ids) == ids(count)
    assert all(w.params() == {"InstanceIds": list(w.instance_ids), "KeyIds": ["skey-aaaaaaaa"]} for w in binds)


def test_instances_needing_the_same_change_share_calls():
    have = {"ins-00000001": (), "ins-00000002": ("skey-bbbbbbbb",), "ins-00000003": ("skey-aaaaaaaa",), "ins-00000004": ()}
    plans = [binding.plan_instance(view(i, k), ["skey-aaaaaaaa"], "present", True) for i, k in sorted(have.items())]
    binds, unbinds = binding.group_writes(plans, force_stop=False)
    assert [(w.instance_ids, w.key_ids) for w in binds] == [(("ins-00000001", "ins-00000002", "ins-00000004"), ("skey-aaaaaaaa",))]
    assert [(w.instance_ids, w.key_ids) for w in unbinds] == [(("ins-00000002",), ("skey-bbbbbbbb",))]


def test_force_stop_only_sent_for_batches_with_running_instances():
    plans = [binding.plan_instance(view("ins-00000001", state="RUNNING"), ["skey-aaaaaaaa"], "present", False),
             binding.plan_instance(view("ins-00000002"), ["skey-bbbbbbbb"], "present", False)]
    binds = binding.group_writes(plans, force_stop=True)[0]
    assert {w.instance_ids: w.params().get("ForceStop") for w in binds} == {("ins-00000001",): True, ("ins-00000002",): None}


def test_preflight_lists_every_blocked_instance_needing_a_change():
    views = [view("ins-00000001", state="RUNNING"), view("ins-00000002", ("skey-aaaaaaaa",), state="RUNNING"),
             view("ins-00000003", os_name="Windows Server 2022"), view("ins-00000004", state="SHUTDOWN"), view("ins-00000005")]
    plans = [binding.plan_instance(v, ["skey-aaaaaaaa"], "present", False) for v in views]
    assert binding.blocked_instances(plans, force_stop=False) == {
        "not_stopped": ["ins-00000001 (RUNNING)"],  # ins-00000002 is running but needs nothing
        "windows": ["ins-00000003 (Windows Server 2022)"],
        "unchangeable": ["ins-00000004 (SHUTDOWN)"],
    }
    assert binding.blocked_instances(plans, force_stop=True) == {
        "windows": ["ins-00000003 (Windows Server 2022)"], "unchangeable": ["ins-00000004 (SHUTDOWN)"]}


def test_unique_and_malformed():
    assert binding.unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert binding.malformed(["ins-1e4r6y8i", "ins-1122", "INS-1E4R6Y8I", "skey-4e5ty7i8", 5], binding.INSTANCE_ID_RE) == [
        "ins-1122", "INS-1E4R6Y8I", "skey-4e5ty7i8", 5]
