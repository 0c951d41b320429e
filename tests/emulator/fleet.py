# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""State documents of whole fleets for the emulator: many instances over several regions, as an inventory sees them.

    from fleet import fleet_state
    with Emulator(state=fleet_state(100, regions=("ap-guangzhou", "ap-shanghai"))) as emu: ...

Instance i (from 0) is `ins-f` + 7 digits of i+1, named `fleet-<i+1>`, in region regions[i % len(regions)] and
in one of three zones of it; every second one is tagged env=prod (the others env=dev), every third has a
public IP. Each region has its own VPC with a subnet per zone, and one key pair `fleet_<n>` (KeyId
skey-f<region index, 7 digits>) that no instance has yet. All instances are STOPPED Linux unless `running`
names how many of the first ones run. Standard library only.
"""

ZONE_SUFFIXES = ("-3", "-4", "-6")
ROLES = ("web", "app", "db")


def fleet_instance_id(number):
    return "ins-f%07d" % number


def fleet_key_id(region_index):
    return "skey-f%07d" % (region_index + 1)


def fleet_state(count, regions=("ap-guangzhou",), running=0):
    """A state document (see docs/emulator.md) with `count` instances spread over `regions`."""
    instances = []
    for index in range(count):
        number = index + 1
        region_index = index % len(regions)
        region = regions[region_index]
        zone_index = (index // len(regions)) % len(ZONE_SUFFIXES)
        zone = region + ZONE_SUFFIXES[zone_index]
        private_ip = "10.%d.%d.%d" % (region_index, zone_index * 64 + index // 250 % 64, index % 250 + 2)
        instance = {
            "InstanceId": fleet_instance_id(number),
            "InstanceName": "fleet-%d" % number,
            "InstanceState": "RUNNING" if index < running else "STOPPED",
            "InstanceType": "S5.MEDIUM4" if index % 2 else "SA2.MEDIUM2",
            "OsName": "TencentOS Server 3.1 (TK4)",
            "Region": region,
            "Placement": {"Zone": zone, "ProjectId": 0},
            "Tags": {"env": "prod" if index % 2 == 0 else "dev", "role": ROLES[index % len(ROLES)], "fleet": "true"},
            "PrivateIpAddresses": [private_ip],
            "VirtualPrivateCloud": {"VpcId": "vpc-f%07d" % (region_index + 1), "SubnetId": "subnet-f%d%06d" % (zone_index, region_index + 1),
                                    "PrivateIpAddresses": [private_ip]},
            "LatestOperation": "StopInstances",
            "LatestOperationState": "SUCCESS",
            "LatestOperationErrorMsg": "",
        }
        if index % 3 == 0:
            instance["PublicIpAddresses"] = ["198.51.%d.%d" % (100 + index // 250 % 100, index % 250 + 2)]
            instance["InternetAccessible"] = {"InternetMaxBandwidthOut": 5, "PublicIpAssigned": True}
        instances.append(instance)
    key_pairs = [{"KeyId": fleet_key_id(i), "KeyName": "fleet_%d" % (i + 1), "Description": "fleet test key", "Region": region}
                 for i, region in enumerate(regions)]
    return {"regions": list(regions), "instances": instances, "key_pairs": key_pairs}
