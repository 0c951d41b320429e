# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair_association end to end: ansible -> module -> SDK -> HTTP -> emulator, asserting on results, the request log and state.

Seed (see docs/emulator.md): ins-a1000001 web-1 RUNNING [skey-k1000001]; ins-a1000002 web-2 RUNNING [];
ins-a1000003 db-1 STOPPED [skey-k1000001]; ins-a1000004 batch-1 STOPPED []; ins-a1000005 batch-2 STOPPED [skey-k1000002];
ins-a1000006 win-1 STOPPED Windows; keys skey-k1000001..4.
"""

from __future__ import annotations

import math

import pytest

from e2e_support import binding_writes, module_defaults_play, module_defaults_vars  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

STOPPED_PAIR = ["ins-a1000004", "ins-a1000005"]


def test_check_mode_reports_the_change_and_sends_no_write(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": STOPPED_PAIR, "key_ids": ["skey-k1000003"]}, check=True, diff=True)
    assert not run.failed and run.changed
    assert binding_writes(emulator) == []
    assert run.result["instances"] == [
        {"instance_id": "ins-a1000004", "key_ids": ["skey-k1000003"], "previous_key_ids": [], "changed": True},
        {"instance_id": "ins-a1000005", "key_ids": ["skey-k1000002", "skey-k1000003"], "previous_key_ids": ["skey-k1000002"], "changed": True},
    ]
    assert run.result["diff"]["after"]["instances"]["ins-a1000004"] == ["skey-k1000003"]
    assert emulator.key_ids("ins-a1000004") == []


def test_apply_then_rerun_is_idempotent(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": STOPPED_PAIR, "key_ids": ["skey-k1000003"]})
    assert not run.failed and run.changed, run.result
    sent = binding_writes(emulator)
    assert [w["action"] for w in sent] == ["AssociateInstancesKeyPairs"]
    assert sorted(sent[0]["params"]["InstanceIds"]) == STOPPED_PAIR
    assert run.result["request_ids"] == [sent[0]["request_id"]]
    assert emulator.key_ids("ins-a1000004") == ["skey-k1000003"]
    assert emulator.key_ids("ins-a1000005") == ["skey-k1000002", "skey-k1000003"]
    assert emulator.instance("ins-a1000004")["LatestOperationState"] == "SUCCESS"
    assert emulator.instance("ins-a1000004")["LatestOperationRequestId"] == sent[0]["request_id"]

    seq = emulator.requests()["requests"][-1]["seq"]
    again = adhoc(emulator, {"instance_ids": STOPPED_PAIR, "key_ids": ["skey-k1000003"]})
    assert not again.failed and not again.changed and again.result["request_ids"] == []
    assert binding_writes(emulator, since=seq) == []


def test_running_instance_without_force_stop_fails_with_no_write(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000001", "ins-a1000002", "ins-a1000004"], "key_ids": ["skey-k1000003"]})
    assert run.failed and not run.changed
    msg = run.result["msg"]
    assert "ins-a1000001 (RUNNING)" in msg and "ins-a1000002 (RUNNING)" in msg and "force_stop" in msg and "ins-a1000004" not in msg
    assert binding_writes(emulator) == []
    assert emulator.key_ids("ins-a1000004") == []


def test_force_stop_binds_and_leaves_the_instance_running(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000002"], "key_ids": ["skey-k1000003"], "force_stop": True})
    assert not run.failed and run.changed, run.result
    sent = binding_writes(emulator)
    assert len(sent) == 1 and sent[0]["params"].get("ForceStop") is True
    inst = emulator.instance("ins-a1000002")
    assert inst["InstanceState"] == "RUNNING"
    assert emulator.key_ids("ins-a1000002") == ["skey-k1000003"]
    assert run.result["instances"][0]["key_ids"] == ["skey-k1000003"]


def test_absent_unbinds_only_the_listed_key(emulator, adhoc):
    emulator_keys_before = emulator.key_ids("ins-a1000005")
    assert emulator_keys_before == ["skey-k1000002"]
    adhoc(emulator, {"instance_ids": ["ins-a1000005"], "key_ids": ["skey-k1000003"]})
    run = adhoc(emulator, {"instance_ids": ["ins-a1000005", "ins-a1000004"], "key_ids": ["skey-k1000003"], "state": "absent"})
    assert not run.failed and run.changed
    assert emulator.key_ids("ins-a1000005") == ["skey-k1000002"]
    assert [w["action"] for w in binding_writes(emulator)][-1] == "DisassociateInstancesKeyPairs"
    assert binding_writes(emulator)[-1]["params"]["InstanceIds"] == ["ins-a1000005"]  # ins-a1000004 never had it
    again = adhoc(emulator, {"instance_ids": ["ins-a1000005"], "key_ids": ["skey-k1000003"], "state": "absent"})
    assert not again.changed and again.result["request_ids"] == []


def test_exclusive_leaves_exactly_the_listed_keys(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000003", "ins-a1000005"], "key_ids": ["skey-k1000004"], "exclusive": True})
    assert not run.failed and run.changed, run.result
    assert emulator.key_ids("ins-a1000003") == ["skey-k1000004"]
    assert emulator.key_ids("ins-a1000005") == ["skey-k1000004"]
    actions = [w["action"] for w in binding_writes(emulator)]
    assert actions[0] == "AssociateInstancesKeyPairs" and set(actions[1:]) == {"DisassociateInstancesKeyPairs"}
    assert not adhoc(emulator, {"instance_ids": ["ins-a1000003", "ins-a1000005"], "key_ids": ["skey-k1000004"], "exclusive": True}).changed


def test_windows_instance_fails_before_any_write(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000006", "ins-a1000004"], "key_ids": ["skey-k1000003"]})
    assert run.failed and "ins-a1000006" in run.result["msg"] and "Windows" in run.result["msg"]
    assert binding_writes(emulator) == []


@pytest.mark.parametrize("count", [250])
def test_many_instances_go_out_in_batches_of_at_most_100(adhoc, count):
    with EmulatorProcess(extra_args=["--operation-latency", "0.2", "--generate-instances", str(count)]) as emu:
        ids = emu.generated_instance_ids()
        assert len(ids) == count
        run = adhoc(emu, {"instance_ids": ids, "key_ids": ["skey-k1000004"]})
        assert not run.failed and run.changed, run.result.get("msg")
        sent = binding_writes(emu)
        assert len(sent) == math.ceil(count / 100)
        assert all(len(w["params"]["InstanceIds"]) <= 100 for w in sent)
        assert sorted(i for w in sent for i in w["params"]["InstanceIds"]) == ids
        reads_before_first_write = [r for r in emu.requests()["requests"] if r["seq"] < sent[0]["seq"] and r["action"] == "DescribeInstances"]
        assert len(reads_before_first_write) == math.ceil(count / 100)
        assert all(emu.key_ids(i) == ["skey-k1000004"] for i in ids[:: max(1, count // 10)])
        assert len(run.result["instances"]) == count and all(i["changed"] for i in run.result["instances"])


def test_credentials_only_in_environment_ad_hoc(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000003"]})
    assert not run.failed and run.changed
    assert emulator.requests()["requests"][0]["secret_id"] == emulator.secret_id


def test_playbook_with_module_defaults_group(emulator, playbook):
    text = module_defaults_play("""
        - name: preview
          tencentcloud.cvm.cvm_keypair_association:
            instance_ids: [ins-a1000004]
            key_ids: [skey-k1000004]
          check_mode: true
        - name: apply
          tencentcloud.cvm.cvm_keypair_association:
            instance_ids: [ins-a1000004]
            key_ids: [skey-k1000004]
        - name: rerun
          tencentcloud.cvm.cvm_keypair_association:
            instance_ids: [ins-a1000004]
            key_ids: [skey-k1000004]
    """)
    rc, tasks, out, err = playbook(emulator, text, credentials=False, extra_vars=module_defaults_vars(emulator))
    assert rc == 0, out + err
    assert tasks["preview"]["changed"] and tasks["apply"]["changed"] and not tasks["rerun"]["changed"]
    assert len(binding_writes(emulator)) == 1
    assert emulator.key_ids("ins-a1000004") == ["skey-k1000004"]


def test_no_credentials_is_a_clear_message(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000003"]}, credentials=False)
    assert run.failed and "No Tencent Cloud credentials found" in run.result["msg"]
    assert emulator.requests()["requests"] == []
