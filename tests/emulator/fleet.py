# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""State documents of whole fleets for the emulator: many instances over several regions, as an inventory sees them.

    from fleet import fleet_state
    with EmulatorProcess(state=fleet_state(100, regions=("ap-guangzhou", "ap-shanghai"))) as emu: ...

    python tests/emulator/fleet.py 40 ap-guangzhou --keys 2 > state.json     # the same as a state file

Instance i (from 0) is `ins-f` + 7 digits of i+1, named `fleet-<i+1>`, in region regions[i % len(regions)] and
in one of three zones of it; every second one is tagged env=prod (the others env=dev), every third has a
public IP. Each region has its own VPC with a subnet per zone, and `keys` key pairs that no instance has
yet: fleet_key_id(region index, k) named `fleet_<region number>` (k = 0) or `fleet_<region number>_<k>`. All instances are STOPPED Linux unless `running`
names how many of the first ones run. Standard library only.
"""

ZONE_SUFFIXES = ("-3", "-4", "-6")
ROLES = ("web", "app", "db")


def fleet_instance_id(number):
    return "ins-f%07d" % number


def fleet_key_id(region_index, number=0):
    return "skey-f%d%06d" % (number, region_index + 1)


def fleet_state(count, regions=("ap-guangzhou",), running=0, keys=1):
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
    key_pairs = [{"KeyId": fleet_key_id(i, k), "KeyName": "fleet_%d" % (i + 1) + ("_%d" % k if k else ""), "Description": "fleet test key",
                  "Region": region} for i, region in enumerate(regions) for k in range(keys)]
    return {"regions": list(regions), "instances": instances, "key_pairs": key_pairs}


def main(argv=None):
    import argparse  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description="Print a fleet state document for python -m cvm_emulator --state.")
    parser.add_argument("count", type=int)
    parser.add_argument("regions", nargs="+")
    parser.add_argument("--running", type=int, default=0)
    parser.add_argument("--keys", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(fleet_state(args.count, tuple(args.regions), args.running, args.keys), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
