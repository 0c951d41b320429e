# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair_association_info over an in-memory API (narrow: the end-to-end tests use the real SDK and the emulator)."""

from __future__ import annotations

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError
from ansible_collections.tencentcloud.cvm.plugins.modules import cvm_keypair_association_info as module
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.in_memory_cvm import InMemoryCvm, instance, key_pair


INSTANCES = {
    "ins-00000001": {"name": "web-1", "state": "RUNNING", "keys": ["skey-bbbbbbbb", "skey-aaaaaaaa"], "tags": {"env": "prod"}},
    "ins-00000002": {"name": "web-2", "state": "STOPPED", "keys": [], "tags": {"env": "prod"}},
    "ins-00000003": {"name": "db-1", "state": "STOPPED", "keys": ["skey-aaaaaaaa", "skey-gone0000"], "tags": {"env": "dev"}},
}
KEYS = {"skey-aaaaaaaa": "ops", "skey-bbbbbbbb": "deploy", "skey-cccccccc": "unused"}


def entry(instance_id, key_ids, key_names):
    data = INSTANCES[instance_id]
    return {
        "instance_id": instance_id,
        "instance_name": data["name"],
        "instance_state": data["state"],
        "key_ids": key_ids,
        "key_names": key_names,
        "latest_operation": "StopInstances",
        "latest_operation_state": "SUCCESS",
        "latest_operation_request_id": "op-" + instance_id,
        "private_ips": [],
        "public_ips": [],
    }


ALL = [
    entry("ins-00000001", ["skey-aaaaaaaa", "skey-bbbbbbbb"], ["ops", "deploy"]),
    entry("ins-00000002", [], []),
    entry("ins-00000003", ["skey-aaaaaaaa", "skey-gone0000"], ["ops", None]),
]


@pytest.fixture
def cvm(use_api):
    """An InMemoryCvm holding INSTANCES (their key lists in the order given, unsorted) and KEYS."""

    def make(**kwargs):
        instances = [
            instance(
                i,
                state=d["state"],
                InstanceName=d["name"],
                LoginSettings={"KeyIds": list(d["keys"]) or None},
                Tags=[{"Key": k, "Value": v} for k, v in d["tags"].items()],
                LatestOperation="StopInstances",
                LatestOperationState="SUCCESS",
                LatestOperationRequestId="op-" + i,
            )
            for i, d in sorted(INSTANCES.items())
        ]
        return use_api(InMemoryCvm(instances, [key_pair(k, name) for k, name in sorted(KEYS.items())], **kwargs))

    return make


def args(**kwargs):
    base = {"secret_id": "AKIDx", "secret_key": "SECRETVALUE", "region": "ap-guangzhou"}
    base.update(kwargs)
    return base


def test_whole_region(run_module, cvm):
    api = cvm()
    failed, result = run_module(module.main, args())
    assert not failed
    assert result == {"changed": False, "instances": ALL, "missing_instance_ids": [], "missing_key_ids": [], "missing_key_names": []}
    assert api.calls[0] == ("DescribeInstances", {"Offset": 0, "Limit": 100})
    assert api.calls[1] == ("DescribeKeyPairs", {"KeyIds": ["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-gone0000"], "Offset": 0, "Limit": 100})
    assert len(api.calls) == 2


def test_by_ids_reports_missing_ones(run_module, cvm):
    cvm()
    failed, result = run_module(module.main, args(instance_ids=["ins-00000003", "ins-0000000z", "ins-00000003"]))
    assert not failed and result["instances"] == [ALL[2]] and result["missing_instance_ids"] == ["ins-0000000z"]
    assert "key_pairs" not in result


def test_by_filters(run_module, cvm):
    api = cvm()
    failed, result = run_module(module.main, args(instance_filters={"tag:env": "prod"}))
    assert not failed and result["instances"] == ALL[:2]
    assert api.calls[0][1]["Filters"] == [{"Name": "tag:env", "Values": ["prod"]}]


def test_keys_without_instances_select_the_instances_they_are_bound_to(run_module, cvm):
    api = cvm()
    failed, result = run_module(module.main, args(key_names=["deploy", "nobody"], key_ids=["skey-cccccccc", "skey-zzzzzzzz"]))
    assert not failed
    assert result["key_pairs"] == [
        {"key_id": "skey-bbbbbbbb", "key_name": "deploy", "instance_ids": ["ins-00000001"]},
        {"key_id": "skey-cccccccc", "key_name": "unused", "instance_ids": []},
    ]
    assert result["instances"] == [ALL[0]]
    assert (result["missing_key_ids"], result["missing_key_names"]) == (["skey-zzzzzzzz"], ["nobody"])
    assert ("DescribeInstances", {"InstanceIds": ["ins-00000001"], "Offset": 0, "Limit": 100}) in api.calls


def test_keys_with_instance_selection_report_both(run_module, cvm):
    cvm()
    failed, result = run_module(module.main, args(instance_ids=["ins-00000002"], key_ids=["skey-aaaaaaaa"]))
    assert not failed and result["instances"] == [ALL[1]]
    assert result["key_pairs"] == [{"key_id": "skey-aaaaaaaa", "key_name": "ops", "instance_ids": ["ins-00000001", "ins-00000003"]}]


def test_empty_lists_select_nothing(run_module, cvm):
    api = cvm()
    failed, result = run_module(module.main, args(instance_ids=[]))
    assert not failed and result["instances"] == [] and api.calls == []
    failed, result = run_module(module.main, args(key_ids=[]))
    assert not failed and result["instances"] == [] and result["key_pairs"] == [] and api.calls == []


def test_check_mode_is_the_same_read(run_module, cvm):
    cvm()
    failed, result = run_module(module.main, args(_ansible_check_mode=True))
    assert not failed and not result["changed"] and result["instances"] == ALL


def test_api_error_fails_with_the_error(run_module, cvm):
    cvm(fail_on={"DescribeInstances": CvmApiError("DescribeInstances", "AuthFailure.SecretIdNotFound", "The SecretId is not found.", "req-9")})
    failed, result = run_module(module.main, args())
    assert failed and result["msg"].startswith("Failed to read the instances: The SecretId is not found (AuthFailure.SecretIdNotFound).")
    assert result["error"] == {
        "code": "AuthFailure.SecretIdNotFound",
        "message": "The SecretId is not found.",
        "request_id": "req-9",
        "action": "DescribeInstances",
    }


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(instance_ids=["ins-1122"]), "instance_ids has malformed IDs: 'ins-1122'. An ID is 'ins-' followed by 8 lowercase letters or digits"),
        (dict(key_ids=["skey-1"]), "key_ids has malformed IDs: 'skey-1'. An ID is 'skey-' followed by 8 lowercase letters or digits"),
        (dict(key_names=["ops", ""]), "key_names has empty names: remove them, or give names like ops_team."),
        (dict(instance_filters={"zoen": "x"}), "instance_filters has an unknown filter 'zoen'. Did you mean 'zone'?"),
        (dict(instance_filters={}), "instance_filters is empty"),
        (dict(instance_filters={"zone": ["a", "b", "c", "d", "e", "f"]}), "instance_filters['zone'] has 6 values: the API allows at most 5 per filter."),
        (dict(instance_ids=["ins-00000001"], instance_filters={"zone": "x"}), "parameters are mutually exclusive: instance_ids|instance_filters"),
    ],
)
def test_bad_input_fails_without_any_call(run_module, cvm, params, message):
    api = cvm()
    failed, result = run_module(module.main, args(**params))
    assert failed and result["msg"].startswith(message), result["msg"]
    assert api.calls == []
