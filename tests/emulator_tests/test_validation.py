# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parameter validation (as api.json declares the actions) and the Describe actions' filters and paging."""

import pytest

from .sdk_calls import call, error_of

BIND = "AssociateInstancesKeyPairs"


@pytest.mark.parametrize("action, params, code, named", [
    (BIND, {"InstanceIds": ["ins-a1000004"]}, "MissingParameter", "KeyIds"),
    (BIND, {"InstanceIds": [], "KeyIds": ["skey-k1000003"]}, "MissingParameter", "InstanceIds"),
    (BIND, {"InstanceIds": "ins-a1000004", "KeyIds": ["skey-k1000003"]}, "InvalidParameter", "InstanceIds"),
    (BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"], "ForceStop": "true"}, "InvalidParameter", "ForceStop"),
    (BIND, {"InstanceIds": [7], "KeyIds": ["skey-k1000003"]}, "InvalidParameter", "InstanceIds.0"),
    (BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"], "DryRun": True}, "UnknownParameter", "DryRun"),
    ("DescribeInstances", {"Limit": "10"}, "InvalidParameter", "Limit"),
    ("DescribeInstances", {"Limit": True}, "InvalidParameter", "Limit"),
    ("DescribeInstances", {"Filters": [{"Name": "zone"}]}, "MissingParameter", "Filters.0.Values"),
    ("DescribeInstances", {"Filters": [{"Name": "zone", "Values": ["x"], "Op": "eq"}]}, "UnknownParameter", "Filters.0.Op"),
    ("DescribeInstances", {"Filters": ["zone"]}, "InvalidParameter", "Filters.0"),
    ("DescribeInstances", {"Limit": 101}, "InvalidParameterValue.LimitExceeded", "Limit"),
    ("DescribeInstances", {"Offset": -1}, "InvalidParameterValue.Range", "Offset"),
    ("DescribeInstances", {"InstanceIds": ["ins-a1000001"], "Filters": [{"Name": "zone", "Values": ["x"]}]},
     "InvalidParameterCombination", "Filters"),
    ("DescribeInstances", {"Filters": [{"Name": "colour", "Values": ["red"]}]}, "InvalidFilter", "colour"),
    ("DescribeInstances", {"Filters": [{"Name": "zone", "Values": list("abcdef")}]}, "InvalidFilterValue.LimitExceeded", "zone"),
    ("DescribeInstances", {"Filters": [{"Name": "zone", "Values": ["x"]}] * 11}, "InvalidParameterValue.LimitExceeded", "Filters"),
    ("DescribeKeyPairs", {"KeyIds": ["skey-k1000001"], "Filters": [{"Name": "key-name", "Values": ["x"]}]},
     "InvalidParameterCombination", "KeyIds"),
    ("StopInstances", {"InstanceIds": ["ins-a1000001"], "StopType": "GENTLY"}, "InvalidParameterValue", "GENTLY"),
    ("CreateKeyPair", {"KeyName": "carol"}, "MissingParameter", "ProjectId"),
])
def test_parameter_errors(client, action, params, code, named):
    error = error_of(client, action, params)
    assert error.code == code
    assert named in error.message


@pytest.mark.parametrize("name, ids", [("InstanceIds", ["ins-%08d" % n for n in range(101)]),
                                       ("KeyIds", ["skey-%08d" % n for n in range(101)])])
def test_more_than_100_ids(client, name, ids):
    params = {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"], name: ids}
    error = error_of(client, BIND, params)
    assert error.code == "InvalidParameterValue.LimitExceeded"
    assert name in error.message
    assert error_of(client, "DescribeInstances", {"InstanceIds": ["ins-%08d" % n for n in range(101)]}).code == error.code


def test_malformed_ids_are_named(client):
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004", "ins-1122"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "InvalidInstanceId.Malformed"
    assert "`ins-1122`" in error.message and "ins-a1000004" not in error.message
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-K1000003"]})
    assert (error.code, "`skey-K1000003`" in error.message) == ("InvalidKeyPairId.Malformed", True)
    assert error_of(client, "DescribeInstances", {"InstanceIds": ["i-123"]}).code == "InvalidInstanceId.Malformed"
    assert error_of(client, "DescribeKeyPairs", {"KeyIds": ["skey-1122"]}).code == "InvalidKeyPairId.Malformed"


def test_unknown_ids_in_a_write_are_named_and_nothing_changes(emu, client):
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004", "ins-zzzzzzzz"], "KeyIds": ["skey-k1000003"]})
    assert (error.code, "`ins-zzzzzzzz`" in error.message) == ("InvalidInstanceId.NotFound", True)
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-zzzzzzzz"]})
    assert (error.code, "`skey-zzzzzzzz`" in error.message) == ("InvalidKeyPairId.NotFound", True)
    assert emu.operating() == []
    assert emu.instance("ins-a1000004")["LatestOperation"] == "StopInstances"


def test_describe_omits_unknown_well_formed_ids(client):
    response = call(client, "DescribeInstances", {"InstanceIds": ["ins-zzzzzzzz", "ins-a1000002"]})
    assert response["TotalCount"] == 1
    assert [item["InstanceId"] for item in response["InstanceSet"]] == ["ins-a1000002"]
    response = call(client, "DescribeKeyPairs", {"KeyIds": ["skey-zzzzzzzz", "skey-k1000004"]})
    assert (response["TotalCount"], [pair["KeyId"] for pair in response["KeyPairSet"]]) == (1, ["skey-k1000004"])


@pytest.mark.parametrize("filters, expected", [
    ([{"Name": "tag:env", "Values": ["prod"]}], ["ins-a1000001", "ins-a1000002", "ins-a1000003"]),
    ([{"Name": "tag:env", "Values": ["dev"]}, {"Name": "instance-state", "Values": ["STOPPED"]}],
     ["ins-a1000004", "ins-a1000005", "ins-a1000006"]),
    ([{"Name": "tag-key", "Values": ["role"]}], ["ins-a1000001", "ins-a1000002", "ins-a1000003"]),
    ([{"Name": "instance-state", "Values": ["RUNNING"]}], ["ins-a1000001", "ins-a1000002"]),
    ([{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}], ["ins-a1000001", "ins-a1000002", "ins-a1000003", "ins-a1000006"]),
    ([{"Name": "instance-name", "Values": ["db-1", "win-1"]}], ["ins-a1000003", "ins-a1000006"]),
    ([{"Name": "instance-id", "Values": ["ins-a1000005"]}], ["ins-a1000005"]),
    ([{"Name": "tag:role", "Values": ["db"]}, {"Name": "tag:env", "Values": ["dev"]}], []),
])
def test_instance_filters(client, filters, expected):
    response = call(client, "DescribeInstances", {"Filters": filters})
    assert [item["InstanceId"] for item in response["InstanceSet"]] == expected
    assert response["TotalCount"] == len(expected)


def test_paging_is_stable_and_limit_applies_to_instance_ids_too(client):
    pages = [call(client, "DescribeInstances", {"Offset": offset, "Limit": 4}) for offset in (0, 4, 8)]
    assert [page["TotalCount"] for page in pages] == [6, 6, 6]
    assert [len(page["InstanceSet"]) for page in pages] == [4, 2, 0]
    ids = ["ins-a100000%d" % n for n in (6, 5, 4, 3, 2, 1)]
    by_id = call(client, "DescribeInstances", {"InstanceIds": ids, "Limit": 2})
    assert by_id["TotalCount"] == 6
    assert [item["InstanceId"] for item in by_id["InstanceSet"]] == ["ins-a1000006", "ins-a1000005"]
    assert len(call(client, "DescribeInstances")["InstanceSet"]) == 6  # default Limit 20


def test_key_pair_filters_and_fields(client):
    response = call(client, "DescribeKeyPairs", {"Filters": [{"Name": "key-name", "Values": ["alice", "bob"]}]})
    assert [(pair["KeyId"], pair["AssociatedInstanceIds"]) for pair in response["KeyPairSet"]] == [("skey-k1000003", []), ("skey-k1000004", [])]
    assert call(client, "DescribeKeyPairs", {"Filters": [{"Name": "key-id", "Values": ["skey-k1000002"]}]})["KeyPairSet"][0]["KeyName"] == "deploy"
    assert call(client, "DescribeKeyPairs", {"Filters": [{"Name": "project-id", "Values": ["0"]}]})["TotalCount"] == 4
    pair = call(client, "DescribeKeyPairs", {"KeyIds": ["skey-k1000002"]})["KeyPairSet"][0]
    assert set(pair) == {"KeyId", "KeyName", "ProjectId", "Description", "PublicKey", "AssociatedInstanceIds", "CreatedTime", "Tags"}
    assert pair["AssociatedInstanceIds"] == ["ins-a1000005"]
    assert pair["PublicKey"].startswith("ssh-ed25519 AAAA")


def test_instance_fields(client):
    web = call(client, "DescribeInstances", {"InstanceIds": ["ins-a1000001", "ins-a1000002", "ins-a1000006"]})["InstanceSet"]
    assert web[0]["LoginSettings"] == {"KeyIds": ["skey-k1000001"], "Password": None}
    assert web[1]["LoginSettings"] == {"KeyIds": None, "Password": None}
    assert web[0]["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "role", "Value": "web"}]
    assert web[0]["Placement"] == {"Zone": "ap-guangzhou-3", "ProjectId": 0}
    assert (web[0]["InstanceState"], web[0]["StopChargingMode"], web[0]["LatestOperationState"]) == ("RUNNING", "NOT_APPLICABLE", "SUCCESS")
    assert web[2]["OsName"].startswith("Windows") and web[2]["DefaultLoginUser"] == "Administrator"
    assert web[0]["CreatedTime"].endswith("Z")
