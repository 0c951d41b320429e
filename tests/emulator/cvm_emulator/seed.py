# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The default seed (documented in docs/emulator.md; other tests rely on these exact IDs).
May import: constants.
"""

import uuid

from .constants import DEFAULT_REGION


# Each zone of the seed has its own subnet in one VPC, as a real account's default network would.
SEED_VPC_ID = "vpc-a1b2c3d4"
SEED_SUBNETS = {"ap-guangzhou-3": "subnet-g3000001", "ap-guangzhou-4": "subnet-g4000001", "ap-guangzhou-6": "subnet-g6000001"}


def seed_instance(instance_id, name, state, zone, tags, key_ids, os_name, public_ip=None, private_ip=None, instance_type="S5.MEDIUM4"):
    instance = {
        "InstanceId": instance_id, "InstanceName": name, "InstanceState": state, "OsName": os_name, "InstanceType": instance_type,
        "Placement": {"Zone": zone, "ProjectId": 0}, "Tags": tags, "LoginSettings": {"KeyIds": key_ids or None, "Password": None},
        "PublicIpAddresses": [public_ip] if public_ip else None,
        "LatestOperation": "StartInstances" if state == "RUNNING" else "StopInstances",
        "LatestOperationState": "SUCCESS",
        "LatestOperationRequestId": str(uuid.uuid5(uuid.NAMESPACE_URL, "cvm-emulator/seed/" + instance_id)),
        "LatestOperationErrorMsg": "",
        "Region": DEFAULT_REGION,
    }
    if private_ip:
        instance["PrivateIpAddresses"] = [private_ip]
        instance["VirtualPrivateCloud"] = {"VpcId": SEED_VPC_ID, "SubnetId": SEED_SUBNETS[zone], "PrivateIpAddresses": [private_ip]}
        instance["HostName"] = "VM-%s-%s" % tuple(private_ip.rsplit(".", 2)[1:])
    if public_ip:
        instance["InternetAccessible"] = {"InternetMaxBandwidthOut": 5, "PublicIpAssigned": True}
    return instance


def default_state_document():
    prod_web = {"env": "prod", "role": "web"}
    instances = [
        seed_instance("ins-a1000001", "web-1", "RUNNING", "ap-guangzhou-3", prod_web, ["skey-k1000001"],
                      "TencentOS Server 3.1 (TK4)", "203.0.113.11", "10.0.3.11", "S5.MEDIUM4"),
        seed_instance("ins-a1000002", "web-2", "RUNNING", "ap-guangzhou-4", prod_web, [], "Ubuntu Server 22.04 LTS 64bit", "203.0.113.12",
                      "10.0.4.12", "S5.MEDIUM4"),
        seed_instance("ins-a1000003", "db-1", "STOPPED", "ap-guangzhou-3", {"env": "prod", "role": "db"}, ["skey-k1000001"],
                      "CentOS 7.9 64bit", None, "10.0.3.13", "M5.LARGE16"),
        seed_instance("ins-a1000004", "batch-1", "STOPPED", "ap-guangzhou-6", {"env": "dev"}, [], "Debian 12.0 64bit", None,
                      "10.0.6.14", "SA2.MEDIUM2"),
        seed_instance("ins-a1000005", "batch-2", "STOPPED", "ap-guangzhou-6", {"env": "dev"}, ["skey-k1000002"], "Debian 12.0 64bit", None,
                      "10.0.6.15", "SA2.MEDIUM2"),
        seed_instance("ins-a1000006", "win-1", "STOPPED", "ap-guangzhou-4", {"env": "dev"}, [],
                      "Windows Server 2022 Datacenter 64bit English", None, "10.0.4.16", "S5.LARGE8"),
    ]
    key_pairs = [
        {"KeyId": "skey-k1000001", "KeyName": "ops-team", "Description": "operations team", "Region": DEFAULT_REGION},
        {"KeyId": "skey-k1000002", "KeyName": "deploy", "Description": "CI deploy key", "Region": DEFAULT_REGION},
        {"KeyId": "skey-k1000003", "KeyName": "alice", "Description": "", "Region": DEFAULT_REGION},
        {"KeyId": "skey-k1000004", "KeyName": "bob", "Description": "", "Region": DEFAULT_REGION},
    ]
    return {"instances": instances, "key_pairs": key_pairs}
