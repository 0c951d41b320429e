# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an inventory reads: the seed's network, placement and tag fields, the filters on them, and fleets over several regions."""

import json
from pathlib import Path

from fleet import fleet_instance_id, fleet_key_id, fleet_state  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

from .sdk_calls import call, error_of, make_client


def describe(client_, filters):
    return sorted(item["InstanceId"] for item in call(client_, "DescribeInstances", {"Filters": filters, "Limit": 100})["InstanceSet"])


def test_seed_instances_carry_network_placement_and_tags(client):
    by_id = {item["InstanceId"]: item for item in call(client, "DescribeInstances", {"Limit": 100})["InstanceSet"]}
    web1 = by_id["ins-a1000001"]
    assert (web1["InstanceName"], web1["InstanceState"], web1["InstanceType"], web1["OsName"]) == (
        "web-1", "RUNNING", "S5.MEDIUM4", "TencentOS Server 3.1 (TK4)")
    assert (web1["PrivateIpAddresses"], web1["PublicIpAddresses"], web1["Placement"]["Zone"]) == (
        ["10.0.3.11"], ["203.0.113.11"], "ap-guangzhou-3")
    assert (web1["VirtualPrivateCloud"]["VpcId"], web1["VirtualPrivateCloud"]["SubnetId"]) == ("vpc-a1b2c3d4", "subnet-g3000001")
    assert web1["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "role", "Value": "web"}]
    assert by_id["ins-a1000003"]["PublicIpAddresses"] is None
    assert len({item["PrivateIpAddresses"][0] for item in by_id.values()}) == 6
    # The states and keys that the rest of the tests rely on did not move.
    assert {i: (v["InstanceState"], v["LoginSettings"]["KeyIds"]) for i, v in by_id.items()} == {
        "ins-a1000001": ("RUNNING", ["skey-k1000001"]), "ins-a1000002": ("RUNNING", None),
        "ins-a1000003": ("STOPPED", ["skey-k1000001"]), "ins-a1000004": ("STOPPED", None),
        "ins-a1000005": ("STOPPED", ["skey-k1000002"]), "ins-a1000006": ("STOPPED", None)}


def test_filters_an_inventory_uses(client):
    assert describe(client, [{"Name": "zone", "Values": ["ap-guangzhou-6"]}]) == ["ins-a1000004", "ins-a1000005"]
    assert describe(client, [{"Name": "tag:env", "Values": ["prod"]}, {"Name": "instance-state", "Values": ["RUNNING"]}]) == [
        "ins-a1000001", "ins-a1000002"]
    assert describe(client, [{"Name": "subnet-id", "Values": ["subnet-g4000001"]}]) == ["ins-a1000002", "ins-a1000006"]
    assert describe(client, [{"Name": "vpc-id", "Values": ["vpc-a1b2c3d4"]}]) == ["ins-a1000%03d" % n for n in range(1, 7)]
    assert describe(client, [{"Name": "private-ip-address", "Values": ["10.0.6.15"]}]) == ["ins-a1000005"]
    assert describe(client, [{"Name": "public-ip-address", "Values": ["203.0.113.12"]}]) == ["ins-a1000002"]


def test_a_fleet_over_two_regions_is_served_per_region():
    document = fleet_state(10, regions=("ap-guangzhou", "ap-shanghai"), running=2)
    with EmulatorProcess(state=document) as emu:
        guangzhou, shanghai = make_client(emu, region="ap-guangzhou"), make_client(emu, region="ap-shanghai")
        assert describe(guangzhou, [{"Name": "tag:fleet", "Values": ["true"]}]) == [fleet_instance_id(n) for n in (1, 3, 5, 7, 9)]
        assert describe(shanghai, [{"Name": "tag:fleet", "Values": ["true"]}]) == [fleet_instance_id(n) for n in (2, 4, 6, 8, 10)]
        assert describe(shanghai, [{"Name": "zone", "Values": ["ap-shanghai-4"]}]) == [fleet_instance_id(n) for n in (4, 10)]
        assert error_of(make_client(emu, region="ap-tokyo"), "DescribeInstances").code == "UnsupportedRegion"
        keys = call(shanghai, "DescribeKeyPairs")["KeyPairSet"]
        assert [(k["KeyId"], k["KeyName"]) for k in keys] == [(fleet_key_id(1), "fleet_2")]
        first = call(guangzhou, "DescribeInstances", {"InstanceIds": [fleet_instance_id(1)]})["InstanceSet"][0]
        assert (first["InstanceState"], first["Tags"][0], first["VirtualPrivateCloud"]["VpcId"]) == (
            "RUNNING", {"Key": "env", "Value": "prod"}, "vpc-f0000001")


def test_the_integration_targets_fleet_file_is_fleet_state():
    """tests/integration/targets/inventory_cvm/files/fleet_state.json is `python tests/emulator/fleet.py 40 ap-guangzhou --keys 2`."""
    path = Path(__file__).resolve().parents[1] / "integration" / "targets" / "inventory_cvm" / "files" / "fleet_state.json"
    assert json.loads(path.read_text()) == fleet_state(40, ("ap-guangzhou",), keys=2)
