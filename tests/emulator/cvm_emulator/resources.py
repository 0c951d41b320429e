# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resources: the emulator's records of an instance and a key pair (InstanceRecord, KeyPairRecord), an instance's default fields, and the loading of a state
document's credentials, instances and key pairs (StateError when one cannot be loaded).
May import: constants, helpers.
"""

import copy
import uuid

from .constants import DEFAULT_REGION, INSTANCE_ID_RE, KEY_ID_RE
from .helpers import is_windows, ssh_public_key, tag_list, unique


def instance_defaults(instance_id, region, index):
    """Every Instance field that api.json declares and the emulator can fill cheaply, with realistic values."""
    suffix = instance_id[4:]
    private_ip = "10.%d.%d.%d" % (index // 62500 % 250, index // 250 % 250, index % 250 + 2)
    return {
        "Placement": {"Zone": region + "-3", "ProjectId": 0},
        "InstanceId": instance_id,
        "InstanceType": "S5.MEDIUM4",
        "CPU": 2,
        "Memory": 4,
        "RestrictState": "NORMAL",
        "InstanceName": instance_id,
        "InstanceChargeType": "POSTPAID_BY_HOUR",
        "SystemDisk": {"DiskType": "CLOUD_BSSD", "DiskId": "disk-" + suffix, "DiskSize": 50},
        "DataDisks": None,
        "PrivateIpAddresses": [private_ip],
        "PublicIpAddresses": None,
        "InternetAccessible": {"InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR", "InternetMaxBandwidthOut": 0, "PublicIpAssigned": False},
        "VirtualPrivateCloud": {"VpcId": "vpc-emu00001", "SubnetId": "subnet-emu00001", "AsVpcGateway": False,
                                "PrivateIpAddresses": [private_ip], "Ipv6AddressCount": 0},
        "ImageId": "img-emu00001",
        "RenewFlag": "NOTIFY_AND_MANUAL_RENEW",
        "CreatedTime": "2024-01-15T08:00:00Z",
        "ExpiredTime": None,
        "OsName": "TencentOS Server 3.1 (TK4)",
        "SecurityGroupIds": ["sg-emu00001"],
        "LoginSettings": {"KeyIds": None, "Password": None},
        "InstanceState": "STOPPED",
        "Tags": [],
        "StopChargingMode": "KEEP_CHARGING",
        "Uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "cvm-emulator/" + instance_id)),
        "LatestOperation": None,
        "LatestOperationState": None,
        "LatestOperationRequestId": None,
        "LatestOperationErrorMsg": None,
        "DisasterRecoverGroupId": "",
        "DisasterRecoverGroupIds": [],
        "IPv6Addresses": None,
        "CamRoleName": "",
        "HpcClusterId": "",
        "RdmaIpAddresses": None,
        "DedicatedClusterId": "",
        "IsolatedSource": "NOTISOLATED",
        "LicenseType": "TencentCloud",
        "DisableApiTermination": False,
        "HostName": "VM-%s-%s" % (private_ip.rsplit(".", 2)[1], private_ip.rsplit(".", 1)[1]),
        "DefaultLoginUser": "root",
        "DefaultLoginPort": 22,
    }


class InstanceRecord:
    """One CVM instance: its API representation plus where it lives and what it is doing."""

    __slots__ = ("data", "region", "operation", "operated", "operation_hidden")

    def __init__(self, data, region):
        self.data = data
        self.region = region
        self.operation = None
        self.operated = False  # an operation was accepted in this process (reading null_operation_fields)
        self.operation_hidden = False  # accepted, not shown yet (the start delay)

    @property
    def instance_id(self):
        return self.data["InstanceId"]

    @property
    def key_ids(self):
        return list(self.data["LoginSettings"].get("KeyIds") or [])


class KeyPairRecord:
    """One key pair; AssociatedInstanceIds is not stored but derived from the instances."""

    __slots__ = ("data", "region")

    def __init__(self, data, region):
        self.data = data
        self.region = region


class StateError(ValueError):
    """A state document (--state file or PUT /_emulator/state) that cannot be loaded."""


# AssociatedInstanceIds is accepted (a dumped state loads back) but ignored: it is derived from the instances' KeyIds.
KEY_PAIR_STATE_FIELDS = frozenset(("KeyId", "KeyName", "ProjectId", "Description", "PublicKey", "CreatedTime", "Tags",
                                   "AssociatedInstanceIds", "Region"))


def load_credentials(raw_list):
    credentials = {}
    for raw in raw_list or []:
        if not isinstance(raw, dict) or not raw.get("secret_id") or not raw.get("secret_key"):
            raise StateError("each credential needs a secret_id and a secret_key")
        credentials[raw["secret_id"]] = {"secret_key": raw["secret_key"], "token": raw.get("token") or None}
    if not credentials:
        raise StateError("at least one credential is needed")
    return credentials


def load_instance(raw, index):
    if not isinstance(raw, dict) or not INSTANCE_ID_RE.match(str(raw.get("InstanceId", ""))):
        raise StateError("each instance needs an InstanceId like ins-xxxxxxxx, got %r" % (raw.get("InstanceId") if isinstance(raw, dict) else raw))
    raw = copy.deepcopy(raw)
    region = raw.pop("Region", DEFAULT_REGION)
    data = instance_defaults(raw["InstanceId"], region, index)
    undeclared = set(raw) - set(data)
    if undeclared:  # only fields the emulator knows api.json declares, so responses stay within the contract
        raise StateError("instance %s has unsupported fields: %s" % (raw["InstanceId"], ", ".join(sorted(undeclared))))
    for nested in ("Placement", "LoginSettings", "SystemDisk", "InternetAccessible", "VirtualPrivateCloud"):
        if isinstance(raw.get(nested), dict):
            data[nested].update(raw.pop(nested))
    data.update(raw)
    data["Tags"] = tag_list(data.get("Tags"))
    data["LoginSettings"]["KeyIds"] = unique(data["LoginSettings"].get("KeyIds") or []) or None
    if "StopChargingMode" not in raw and data["InstanceState"] != "STOPPED":
        data["StopChargingMode"] = "NOT_APPLICABLE"
    if is_windows(data) and "DefaultLoginUser" not in raw:
        data["DefaultLoginUser"], data["DefaultLoginPort"] = "Administrator", 3389
    return InstanceRecord(data, region)


def load_key_pair(raw):
    if not isinstance(raw, dict) or not KEY_ID_RE.match(str(raw.get("KeyId", ""))):
        raise StateError("each key pair needs a KeyId like skey-xxxxxxxx, got %r" % (raw.get("KeyId") if isinstance(raw, dict) else raw))
    key_id = raw["KeyId"]
    undeclared = set(raw) - KEY_PAIR_STATE_FIELDS
    if undeclared:
        raise StateError("key pair %s has unsupported fields: %s" % (key_id, ", ".join(sorted(undeclared))))
    data = {
        "KeyId": key_id,
        "KeyName": raw.get("KeyName", key_id.replace("-", "_")),
        "ProjectId": raw.get("ProjectId", 0),
        "Description": raw.get("Description", ""),
        "PublicKey": raw.get("PublicKey") or ssh_public_key("ssh-ed25519", key_id.encode(), key_id.replace("-", "_")),
        "CreatedTime": raw.get("CreatedTime", "2024-01-10T08:00:00Z"),
        "Tags": tag_list(raw.get("Tags")),
    }
    return KeyPairRecord(data, raw.get("Region", DEFAULT_REGION))


def check_instance_keys(instance, key_pairs):
    for key_id in instance.key_ids:
        pair = key_pairs.get(key_id)
        if pair is None or pair.region != instance.region:
            raise StateError("instance %s is bound to key %s, which is not a key pair of region %s"
                             % (instance.instance_id, key_id, instance.region))
