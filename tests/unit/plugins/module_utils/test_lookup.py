# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Batched, paged lookups over an in-memory API that pages like the real one (narrow: the end-to-end tests use the emulator)."""

from __future__ import annotations

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _lookup as lookup
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError
from ansible_collections.tencentcloud.cvm.tests.unit.plugins import in_memory_cvm as cvm


def instance(n, **fields):
    fields.setdefault("Tags", [{"Key": "bench", "Value": "true"}])
    return cvm.instance("ins-%08d" % n, InstanceName="gen-%05d" % n, **fields)


def key_pair(key_id, name, bound=()):
    return cvm.key_pair(key_id, name, "ssh-ed25519 AAAA %s" % name, bound, Tags=[{"Key": "team", "Value": "ops"}])


# -- filters_to_api -------------------------------------------------------------------------------------------------


def test_filters_to_api_converts_sorts_and_deduplicates():
    assert lookup.filters_to_api({"zone": ["ap-guangzhou-3", "ap-guangzhou-3", "ap-guangzhou-4"], "tag:env": "prod", "project-id": 0}) == [
        {"Name": "project-id", "Values": ["0"]},
        {"Name": "tag:env", "Values": ["prod"]},
        {"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]},
    ]


@pytest.mark.parametrize(
    "filters, message",
    [
        ("tag:env=prod", "instance_filters must be a mapping of filter name to value(s), like {'tag:env': 'prod', 'zone': 'ap-guangzhou-3'}; got str."),
        ({}, "instance_filters is empty: give at least one filter, like {'tag:env': 'prod'}, or leave the option out."),
        ({"instance_name": "web-1"}, "instance_filters has an unknown filter 'instance_name'. Did you mean 'instance-name'? Known filters: "),
        ({"tag:": "x"}, "instance_filters has the filter 'tag:' without a tag key: write 'tag:<key>', like 'tag:env'."),
        ({"zone": ["a", "b", "c", "d", "e", "f"]}, "instance_filters['zone'] has 6 values: the API allows at most 5 per filter."),
        ({"tag:enabled": True}, "instance_filters['tag:enabled'] has the boolean True: YAML reads an unquoted yes/no/true/false as a boolean"),
        ({"zone": None}, "instance_filters['zone'] has no value: give a value or a list of at most 5 values."),
        ({"zone": []}, "instance_filters['zone'] has no value"),
        ({"zone": [{"a": 1}]}, "instance_filters['zone'] has the value {'a': 1}: each value must be a non-empty string or an integer."),
        ({"zone": ""}, "instance_filters['zone'] has the value '': each value must be a non-empty string or an integer."),
        ({"tag:k%d" % n: "v" for n in range(11)}, "instance_filters has 11 filters: the API allows at most 10."),
    ],
)
def test_filters_to_api_explains_each_bad_filter(filters, message):
    with pytest.raises(lookup.FilterError) as caught:
        lookup.filters_to_api(filters)
    assert str(caught.value).startswith(message)


def test_filters_to_api_names_every_bad_filter_at_once():
    with pytest.raises(lookup.FilterError) as caught:
        lookup.filters_to_api({"zoen": "ap-guangzhou-3", "tag:env": ["a", "b", "c", "d", "e", "f"], "instance-state": "RUNNING"})
    assert len(caught.value.problems) == 2
    assert "'zoen'. Did you mean 'zone'?" in caught.value.problems[1]
    assert "instance_filters['tag:env'] has 6 values" in caught.value.problems[0]


# -- find_instances -------------------------------------------------------------------------------------------------


def test_find_instances_by_ids_batches_100_and_drops_unknown_and_duplicates():
    api = cvm.InMemoryCvm([instance(n) for n in range(250)])
    wanted = ["ins-%08d" % n for n in reversed(range(250))] + ["ins-%08d" % 0, "ins-zzzzzzzz"]
    found = lookup.find_instances(api, instance_ids=wanted)
    assert [i["InstanceId"] for i in found] == ["ins-%08d" % n for n in range(250)]
    # The batches go out concurrently: their count and sizes are promised, not their order.
    assert sorted(len(p["InstanceIds"]) for _action, p in api.calls) == [51, 100, 100]
    assert all(p["Limit"] == 100 and p["Offset"] == 0 for _action, p in api.calls)
    assert sorted(i for _action, p in api.calls for i in p["InstanceIds"]) == sorted(set(wanted))


def test_find_instances_by_filters_reads_every_page():
    api = cvm.InMemoryCvm([instance(n) for n in range(250)] + [instance(900, Tags=[])])
    found = lookup.find_instances(api, filters={"tag:bench": "true"})
    assert len(found) == 250 and found[0]["InstanceId"] == "ins-00000000"
    # The first page comes first (it tells the total); the others go out concurrently, in any order.
    pages = [(p["Offset"], p["Limit"]) for _action, p in api.calls]
    assert pages[0] == (0, 100) and sorted(pages[1:]) == [(100, 100), (200, 100)]
    assert all(p["Filters"] == [{"Name": "tag:bench", "Values": ["true"]}] for _action, p in api.calls)


def test_find_instances_follows_the_page_size_the_api_uses():
    api = cvm.InMemoryCvm([instance(n) for n in range(45)], page_cap=20)
    assert len(lookup.find_instances(api)) == 45
    assert sorted(p["Offset"] for _action, p in api.calls) == [0, 20, 40]


def test_instance_pages_reads_one_page_per_step_with_its_total():
    api = cvm.InMemoryCvm([instance(n) for n in range(45)] + [instance(900, Tags=[])], page_cap=20)
    pages = lookup.instance_pages(api, filters={"tag:bench": "true"})
    assert api.calls == []  # nothing is read before the first page is asked for
    assert [(len(entries), total, len(api.calls)) for entries, total in pages] == [(20, 45, 1), (20, 45, 2), (5, 45, 3)]
    assert [p["Offset"] for _action, p in api.calls] == [0, 20, 40]
    with pytest.raises(lookup.FilterError):
        next(lookup.instance_pages(api, filters={"tag:": "x"}))


def test_find_instances_without_selection_reads_the_whole_region():
    api = cvm.InMemoryCvm([instance(n) for n in range(3)])
    assert [i["InstanceId"] for i in lookup.find_instances(api)] == ["ins-00000000", "ins-00000001", "ins-00000002"]
    assert api.calls == [("DescribeInstances", {"Offset": 0, "Limit": 100})]


def test_find_instances_empty_id_list_selects_nothing_without_a_call():
    api = cvm.InMemoryCvm([instance(1)])
    assert lookup.find_instances(api, instance_ids=[]) == []
    assert api.calls == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(instance_ids=["ins-00000001"], filters={"zone": "x"}), "Give instance IDs or instance filters, not both"),
        (dict(instance_ids=["ins-1122", "ins-00000001", "INS-ABCDEFGH"]), "Malformed instance IDs: 'ins-1122', 'INS-ABCDEFGH'."),
        (dict(filters={"zoen": "x"}), "instance_filters has an unknown filter 'zoen'."),
    ],
)
def test_find_instances_bad_input_sends_nothing(kwargs, message):
    api = cvm.InMemoryCvm([instance(1)])
    with pytest.raises(lookup.LookupInputError) as caught:
        lookup.find_instances(api, **kwargs)
    assert str(caught.value).startswith(message)
    assert api.calls == []


def test_find_instance_views_wraps_entries():
    api = cvm.InMemoryCvm([instance(1, LoginSettings={"KeyIds": ["skey-bbbbbbbb", "skey-aaaaaaaa"]})])
    views = lookup.find_instance_views(api, instance_ids=["ins-00000001"])
    assert list(views) == ["ins-00000001"] and views["ins-00000001"].key_ids == ("skey-aaaaaaaa", "skey-bbbbbbbb")


def test_api_errors_propagate():
    api = cvm.InMemoryCvm([instance(1)], fail_on={"DescribeInstances": CvmApiError("DescribeInstances", "InternalError", "boom", "req-x", attempts=6)})
    with pytest.raises(CvmApiError):
        lookup.find_instances(api)


# -- key pairs ------------------------------------------------------------------------------------------------------

KEYS = [key_pair("skey-%08d" % n, "key_%d" % n, bound=["ins-00000001"] if n == 1 else ()) for n in range(130)]


def test_key_pair_dict_is_plain_snake_case():
    assert lookup.key_pair_dict(dict(KEYS[1], PrivateKey="SECRET")) == {
        "key_id": "skey-00000001",
        "key_name": "key_1",
        "project_id": 0,
        "description": "",
        "public_key": "ssh-ed25519 AAAA key_1",
        "associated_instance_ids": ["ins-00000001"],
        "created_time": "2026-01-10T08:00:00Z",
        "tags": {"team": "ops"},
    }


def test_find_key_pairs_by_ids_batches_100():
    api = cvm.InMemoryCvm(key_pairs=KEYS)
    found = lookup.find_key_pairs(api, key_ids=["skey-%08d" % n for n in range(130)] + ["skey-zzzzzzzz"])
    assert [k["key_id"] for k in found] == ["skey-%08d" % n for n in range(130)]
    assert sorted(len(p["KeyIds"]) for _action, p in api.calls) == [31, 100]  # concurrent batches: any order


def test_find_key_pairs_by_names_uses_5_names_per_filter_and_keeps_exact_matches():
    api = cvm.InMemoryCvm(key_pairs=KEYS, loose_names=True)  # "key_1" also matches key_10..key_19 loosely
    names = ["key_1", "key_2", "key_3", "key_4", "key_5", "key_6", "nope"]
    found = lookup.find_key_pairs(api, key_names=names)
    assert [k["key_name"] for k in found] == ["key_1", "key_2", "key_3", "key_4", "key_5", "key_6"]
    # Concurrent requests: compare the name batches as a set, not a sequence.
    assert sorted(tuple(p["Filters"][0]["Values"]) for _action, p in api.calls) == [tuple(names[:5]), tuple(names[5:])]
    assert all(p["Filters"][0]["Name"] == "key-name" and len(p["Filters"]) == 1 for _action, p in api.calls)


def test_find_key_pairs_union_and_selection_rules():
    api = cvm.InMemoryCvm(key_pairs=KEYS)
    assert [k["key_id"] for k in lookup.find_key_pairs(api, key_ids=["skey-00000002"], key_names=["key_2", "key_3"])] == ["skey-00000002", "skey-00000003"]
    api.calls = []
    assert lookup.find_key_pairs(api, key_ids=[], key_names=[]) == [] and api.calls == []
    assert len(lookup.find_key_pairs(api)) == 130
    assert [p for _action, p in api.calls] == [{"Offset": 0, "Limit": 100}, {"Offset": 100, "Limit": 100}]


def test_find_key_pairs_malformed_ids_send_nothing():
    api = cvm.InMemoryCvm(key_pairs=KEYS)
    with pytest.raises(lookup.LookupInputError, match=r"Malformed key pair IDs: 'skey-1'\. An ID is 'skey-' followed by 8"):
        lookup.find_key_pairs(api, key_ids=["skey-1"])
    assert api.calls == []


def test_resolve_key_names():
    api = cvm.InMemoryCvm(key_pairs=KEYS)
    assert lookup.resolve_key_names(api, ["key_3", "key_1", "key_3"]) == {"key_3": "skey-00000003", "key_1": "skey-00000001"}


def test_resolve_key_names_lists_unknown_and_ambiguous_names():
    api = cvm.InMemoryCvm(key_pairs=KEYS + [key_pair("skey-dup00001", "key_1")])
    with pytest.raises(lookup.KeyNameError) as caught:
        lookup.resolve_key_names(api, ["key_1", "nope", "skey-00000002", "key_2"])
    error = caught.value
    assert error.unknown == ["nope", "skey-00000002"]
    assert error.ambiguous == {"key_1": ["skey-00000001", "skey-dup00001"]}
    assert str(error) == (
        "Key pair names not found in region ap-guangzhou: 'nope', 'skey-00000002'. skey-00000002 looks like a key pair ID, not a name: "
        "give it as a key ID. Key pair names shared by several key pairs in region ap-guangzhou: 'key_1' (skey-00000001, skey-dup00001). "
        "Give the key pair IDs instead."
    )
    assert isinstance(error, lookup.LookupInputError) and isinstance(error, ValueError)


def test_resolve_key_names_unknown_only():
    api = cvm.InMemoryCvm(key_pairs=KEYS)
    with pytest.raises(lookup.KeyNameError) as caught:
        lookup.resolve_key_names(api, ["ghost"])
    assert str(caught.value) == "Key pair names not found in region ap-guangzhou: 'ghost'. Check the names (exact, case-sensitive) and the region."
    assert caught.value.ambiguous == {}
