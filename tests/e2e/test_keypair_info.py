# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair_association_info and the shared lookups end to end: ansible -> module -> SDK -> HTTP -> emulator.

Seed (docs/emulator.md): ins-a1000001 web-1 RUNNING prod [skey-k1000001]; ins-a1000002 web-2 RUNNING prod [];
ins-a1000003 db-1 STOPPED prod [skey-k1000001]; ins-a1000004 batch-1 STOPPED dev (zone -6) []; ins-a1000005 batch-2 STOPPED dev (zone -6)
[skey-k1000002]; ins-a1000006 win-1 STOPPED dev []; keys skey-k1000001 ops-team, skey-k1000002 deploy, skey-k1000003 alice, skey-k1000004 bob.
"""

from __future__ import annotations

import pytest

from cvm_emulator import base36  # pylint: disable=import-error
from e2e_support import module_defaults_play, module_defaults_vars  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

INFO = "tencentcloud.cvm.cvm_keypair_association_info"
NAMES = {"skey-k1000001": "ops-team", "skey-k1000002": "deploy", "skey-k1000003": "alice", "skey-k1000004": "bob"}


def expected(emu, instance_id):
    """The entry the module must return for an instance, built from the emulator's own view of it."""
    data = emu.instance(instance_id)
    keys = sorted((data.get("LoginSettings") or {}).get("KeyIds") or [])
    return {"instance_id": instance_id, "instance_name": data["InstanceName"], "instance_state": data["InstanceState"], "key_ids": keys,
            "key_names": [NAMES[k] for k in keys], "latest_operation": data["LatestOperation"],
            "latest_operation_state": data["LatestOperationState"], "latest_operation_request_id": data["LatestOperationRequestId"],
            "private_ips": data["PrivateIpAddresses"] or [], "public_ips": data["PublicIpAddresses"] or []}


def describe_calls(emu, action="DescribeInstances"):
    return [r["params"] for r in emu.requests()["requests"] if r["action"] == action]


def test_by_ids(emulator, adhoc):
    run = adhoc(emulator, {"instance_ids": ["ins-a1000004", "ins-a1000001", "ins-zzzzzzzz", "ins-a1000001"]}, module=INFO)
    assert not run.failed and not run.changed, run.result
    assert run.result["instances"] == [expected(emulator, "ins-a1000001"), expected(emulator, "ins-a1000004")]
    assert run.result["instances"][0]["key_names"] == ["ops-team"]
    assert run.result["missing_instance_ids"] == ["ins-zzzzzzzz"]
    assert "key_pairs" not in run.result
    assert describe_calls(emulator) == [{"InstanceIds": ["ins-a1000004", "ins-a1000001", "ins-zzzzzzzz"], "Offset": 0, "Limit": 100}]
    assert emulator.write_count() == 0


def test_by_filters(emulator, adhoc):
    run = adhoc(emulator, {"instance_filters": {"tag:env": "dev", "zone": ["ap-guangzhou-6"]}}, module=INFO)
    assert not run.failed, run.result
    assert [i["instance_id"] for i in run.result["instances"]] == ["ins-a1000004", "ins-a1000005"]
    assert run.result["instances"][1] == expected(emulator, "ins-a1000005")
    assert describe_calls(emulator) == [{"Filters": [{"Name": "tag:env", "Values": ["dev"]}, {"Name": "zone", "Values": ["ap-guangzhou-6"]}],
                                         "Offset": 0, "Limit": 100}]


def test_whole_region_in_check_mode_through_module_defaults(emulator, playbook):
    text = module_defaults_play("""
        - name: everything
          tencentcloud.cvm.cvm_keypair_association_info:
          check_mode: true
    """)
    rc, tasks, out, err = playbook(emulator, text, credentials=False, extra_vars=module_defaults_vars(emulator))
    assert rc == 0, out + err
    result = tasks["everything"]
    assert not result["changed"] and result["instances"] == [expected(emulator, "ins-a100000%d" % n) for n in range(1, 7)]
    assert result["missing_instance_ids"] == [] and "key_pairs" not in result
    assert emulator.write_count() == 0
    assert emulator.secret_key not in out + err


def test_keys_given_select_their_instances(emulator, adhoc):
    run = adhoc(emulator, {"key_names": ["ops-team", "nobody"], "key_ids": ["skey-k1000003", "skey-zzzzzzzz"]}, module=INFO)
    assert not run.failed, run.result
    assert run.result["key_pairs"] == [
        {"key_id": "skey-k1000001", "key_name": "ops-team", "instance_ids": ["ins-a1000001", "ins-a1000003"]},
        {"key_id": "skey-k1000003", "key_name": "alice", "instance_ids": []},
    ]
    assert [i["instance_id"] for i in run.result["instances"]] == ["ins-a1000001", "ins-a1000003"]
    assert (run.result["missing_key_ids"], run.result["missing_key_names"]) == (["skey-zzzzzzzz"], ["nobody"])
    assert {"Filters": [{"Name": "key-name", "Values": ["ops-team", "nobody"]}], "Offset": 0, "Limit": 100} in describe_calls(emulator, "DescribeKeyPairs")


def test_key_names_shared_by_two_key_pairs_are_both_reported(emulator, adhoc):
    state = emulator.state()
    state["key_pairs"] += [{"KeyId": "skey-twin0001", "KeyName": "twin"}, {"KeyId": "skey-twin0002", "KeyName": "twin"}]
    emulator.load_state(state)
    run = adhoc(emulator, {"key_names": ["twin"]}, module=INFO)
    assert not run.failed and [k["key_id"] for k in run.result["key_pairs"]] == ["skey-twin0001", "skey-twin0002"]
    assert run.result["instances"] == []


@pytest.mark.parametrize("module_args, fragment", [
    ({"instance_filters": {"instance_name": "web-1"}}, "instance_filters has an unknown filter 'instance_name'. Did you mean 'instance-name'?"),
    ({"instance_filters": {"zone": ["a", "b", "c", "d", "e", "f"]}}, "instance_filters['zone'] has 6 values: the API allows at most 5 per filter."),
    ({"instance_filters": {"tag:on": True}}, "instance_filters['tag:on'] has the boolean True"),
    ({"instance_ids": ["ins-1122"]}, "instance_ids has malformed IDs: 'ins-1122'."),
    ({"instance_ids": ["ins-a1000001"], "instance_filters": {"zone": "x"}}, "mutually exclusive: instance_ids|instance_filters"),
])
def test_bad_input_fails_before_any_request(emulator, adhoc, module_args, fragment):
    run = adhoc(emulator, module_args, module=INFO)
    assert run.failed and fragment in run.result["msg"], run.result
    assert emulator.counts() == {}


def test_paging_over_250_generated_instances(adhoc):
    with EmulatorProcess(extra_args=["--generate-instances", "250"]) as emu:
        run = adhoc(emu, {"region": emu.region}, module=INFO)
        assert not run.failed, run.result
        ids = [i["instance_id"] for i in run.result["instances"]]
        assert len(ids) == 256 and ids == sorted(ids) and len(set(ids)) == 256
        assert sorted((p["Offset"], p["Limit"]) for p in describe_calls(emu)) == [(0, 100), (100, 100), (200, 100)]
        assert all("Filters" not in p and "InstanceIds" not in p for p in describe_calls(emu))

        emu.clear_requests()
        run = adhoc(emu, {"instance_filters": {"tag:bench": "true"}}, module=INFO)
        assert [i["instance_id"] for i in run.result["instances"]] == ["ins-" + base36(n).rjust(8, "0") for n in range(1, 251)]
        assert sorted(p["Offset"] for p in describe_calls(emu)) == [0, 100, 200]

        emu.clear_requests()
        wanted = ["ins-" + base36(n).rjust(8, "0") for n in range(1, 251)]
        run = adhoc(emu, {"instance_ids": wanted}, module=INFO)
        assert len(run.result["instances"]) == 250 and run.result["missing_instance_ids"] == []
        assert sorted(len(p["InstanceIds"]) for p in describe_calls(emu)) == [50, 100, 100]
        assert emu.write_count() == 0


@pytest.fixture
def lookup_api(emulator):
    """The shared lookups, imported from the collection (conftest.py put its collections path on sys.path),
    over a real CvmApi (SDK + HTTP) pointed at the emulator."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _credentials, _lookup  # pylint: disable=import-outside-toplevel
    credential = _credentials.resolve_credential(emulator.secret_id, emulator.secret_key)
    return _lookup, _client.CvmApi(credential, emulator.region, endpoint=emulator.url)


def test_resolve_key_names_over_the_sdk(emulator, lookup_api):
    lookup, api = lookup_api
    assert lookup.resolve_key_names(api, ["deploy", "ops-team"]) == {"deploy": "skey-k1000002", "ops-team": "skey-k1000001"}
    state = emulator.state()
    state["key_pairs"] += [{"KeyId": "skey-twin0001", "KeyName": "twin"}, {"KeyId": "skey-twin0002", "KeyName": "twin"}]
    emulator.load_state(state)
    with pytest.raises(lookup.KeyNameError) as caught:
        lookup.resolve_key_names(api, ["twin", "ghost", "alice"])
    assert caught.value.unknown == ["ghost"] and caught.value.ambiguous == {"twin": ["skey-twin0001", "skey-twin0002"]}
    assert str(caught.value) == ("Key pair names not found in region ap-guangzhou: 'ghost'. Check the names (exact, case-sensitive) and the region. "
                                 "Key pair names shared by several key pairs in region ap-guangzhou: 'twin' (skey-twin0001, skey-twin0002). "
                                 "Give the key pair IDs instead.")
    assert emulator.write_count() == 0


def test_find_instances_over_the_sdk(emulator, lookup_api):
    lookup, api = lookup_api
    assert [i["InstanceId"] for i in lookup.find_instances(api, filters={"tag:role": ["web", "db"]})] == ["ins-a1000001", "ins-a1000002", "ins-a1000003"]
    views = lookup.find_instance_views(api, instance_ids=["ins-a1000003"])
    assert views["ins-a1000003"].key_ids == ("skey-k1000001",) and views["ins-a1000003"].state == "STOPPED"
    assert len(lookup.find_instances(api)) == 6


def test_hostile_names_in_registered_results_are_data(emulator, playbook, tmp_path):
    """Instance and key pair names are the API's text: registered, printed, copied into facts and read back, a name holding a
    file-creating lookup never runs (registered results are unsafe before ansible-core 2.19 and untrusted since)."""
    marker = tmp_path / "marker"
    touch = "{{ lookup('ansible.builtin.pipe', 'touch %s_%%s') }}" % marker
    state = emulator.state()
    for instance in state["instances"]:
        if instance["InstanceId"] == "ins-a1000001":
            instance["InstanceName"] = touch % "name"
    for pair in state["key_pairs"]:
        if pair["KeyId"] == "skey-k1000001":
            pair["KeyName"] = touch % "keyname"
    emulator.load_state(state)
    rc, tasks, stdout, stderr = playbook(emulator, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: read
              tencentcloud.cvm.cvm_keypair_association_info:
                key_ids: [skey-k1000001]
              register: info
            - name: copy
              ansible.builtin.set_fact:
                copied: "{{ info }}"
                first_name: "{{ info.instances[0].instance_name }}"
            - name: print
              ansible.builtin.debug:
                msg: "{{ first_name }} {{ copied.key_pairs | map(attribute='key_name') | list }} {{ info.instances[0].key_names }}"
    """)
    assert rc == 0, stdout + stderr
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("marker")) == []
    assert tasks["read"]["instances"][0]["instance_name"] == touch % "name"
    assert tasks["print"]["msg"].startswith(touch % "name")
