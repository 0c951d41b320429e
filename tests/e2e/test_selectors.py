# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair_association's key_names and instance_filters, end to end against the emulator."""

from __future__ import annotations

from e2e_support import binding_writes  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error


def test_key_names_resolve_to_ids(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000004"], "key_names": ["alice", "bob"]})
    assert not run.failed and run.changed, run.result.get("msg")
    assert emulator.key_ids("ins-a1000004") == ["skey-k1000003", "skey-k1000004"]
    assert not adhoc(emulator, {"instance_ids": ["ins-a1000004"], "key_names": ["alice"], "key_ids": ["skey-k1000004"]}).changed


def test_unknown_key_name_fails_before_any_write(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000004"], "key_names": ["alice", "mallory"]})
    assert run.failed and "'mallory'" in run.result["msg"] and "Nothing was changed" in run.result["msg"]
    assert emulator.write_count() == 0


def test_ambiguous_key_name_fails_before_any_write(emulator, adhoc):
    state = emulator.state()
    twin = dict(next(k for k in state["key_pairs"] if k["KeyId"] == "skey-k1000004"), KeyId="skey-k1000009", KeyName="alice",
                AssociatedInstanceIds=[], PublicKey="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlicesTwin twin")
    state["key_pairs"].append(twin)
    emulator.load_state(state)
    run = adhoc(emulator, {"instance_ids": ["ins-a1000004"], "key_names": ["alice"]})
    assert run.failed and "'alice' (skey-k1000003, skey-k1000009)" in run.result["msg"]
    assert emulator.write_count() == 0


def test_instance_filters_select_by_tag_and_check_mode_lists_the_matches(emulator, adhoc):
    args = {"instance_filters": {"tag:role": "web"}, "key_ids": ["skey-k1000003"], "force_stop": True}
    preview = adhoc(emulator, args, check=True)
    assert not preview.failed and preview.changed
    assert [i["instance_id"] for i in preview.result["instances"]] == ["ins-a1000001", "ins-a1000002"]
    assert emulator.write_count() == 0
    run = adhoc(emulator, args)
    assert not run.failed and run.changed, run.result.get("msg")
    assert emulator.key_ids("ins-a1000001") == ["skey-k1000001", "skey-k1000003"]
    assert emulator.key_ids("ins-a1000002") == ["skey-k1000003"]
    assert emulator.instance("ins-a1000001")["InstanceState"] == "RUNNING"


def test_instance_filters_and_ids_make_a_union(emulator, adhoc):
    run = adhoc(emulator, {"instance_filters": {"tag:role": "db"}, "instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000004"]}, check=True)
    assert [i["instance_id"] for i in run.result["instances"]] == ["ins-a1000003", "ins-a1000004"]


def test_bad_filter_fails_before_any_request(emulator, adhoc):
    run = adhoc(emulator, {"instance_filters": {"instance_nmae": "web-1"}, "key_ids": ["skey-k1000003"]})
    assert run.failed and "'instance_nmae'" in run.result["msg"] and "instance-name" in run.result["msg"]
    assert emulator.requests()["requests"] == []


def test_filter_matching_nothing_changes_nothing_and_warns(emulator, adhoc):
    run = adhoc(emulator, {"instance_filters": {"tag:env": "staging"}, "key_ids": ["skey-k1000003"]})
    assert not run.failed and not run.changed and run.result["instances"] == []
    assert any("matched no instance" in w for w in run.result.get("warnings", []))


def test_instance_filters_read_every_page(adhoc):
    with EmulatorProcess(extra_args=["--operation-latency", "0.2", "--generate-instances", "250"]) as emu:
        run = adhoc(emu, {"instance_filters": {"tag:bench": "true"}, "key_ids": ["skey-k1000004"]})
        assert not run.failed and run.changed, run.result.get("msg")
        assert len(run.result["instances"]) == 250
        reads = [r for r in emu.requests()["requests"] if r["action"] == "DescribeInstances" and "Filters" in (r["params"] or {})]
        assert len(reads) >= 3
        assert len(binding_writes(emu)) == 3
