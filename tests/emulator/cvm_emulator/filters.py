# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the Describe actions (filter name -> the values of a resource that the filter's Values are
matched against), pagination and the batch ID checks.
May import: constants, errors, helpers.
"""

from .constants import DEFAULT_LIMIT, MAX_BATCH, MAX_FILTER_VALUES, MAX_FILTERS, MAX_LIMIT
from .errors import ApiError
from .helpers import quoted, unique


INSTANCE_FILTERS = {
    "instance-id": lambda data: [data["InstanceId"]],
    "instance-name": lambda data: [data["InstanceName"]],
    "instance-state": lambda data: [data["InstanceState"]],
    "instance-charge-type": lambda data: [data.get("InstanceChargeType")],
    "zone": lambda data: [data["Placement"]["Zone"]],
    "project-id": lambda data: [str(data["Placement"].get("ProjectId", 0))],
    "uuid": lambda data: [data.get("Uuid")],
    "private-ip-address": lambda data: data.get("PrivateIpAddresses") or [],
    "public-ip-address": lambda data: data.get("PublicIpAddresses") or [],
    "vpc-id": lambda data: [(data.get("VirtualPrivateCloud") or {}).get("VpcId")],
    "subnet-id": lambda data: [(data.get("VirtualPrivateCloud") or {}).get("SubnetId")],
    "security-group-id": lambda data: data.get("SecurityGroupIds") or [],
    "tag-key": lambda data: [tag["Key"] for tag in data.get("Tags") or []],
    "tag-value": lambda data: [tag["Value"] for tag in data.get("Tags") or []],
}

KEY_PAIR_FILTERS = {
    "key-id": lambda data: [data["KeyId"]],
    "key-name": lambda data: [data["KeyName"]],
    "project-id": lambda data: [str(data.get("ProjectId", 0))],
    "tag-key": lambda data: [tag["Key"] for tag in data.get("Tags") or []],
    "tag-value": lambda data: [tag["Value"] for tag in data.get("Tags") or []],
}


def check_filters(filters, table):
    if len(filters) > MAX_FILTERS:
        raise ApiError("InvalidParameterValue.LimitExceeded", "At most %d `Filters` are allowed, got %d." % (MAX_FILTERS, len(filters)))
    for index, item in enumerate(filters):
        name = item["Name"]
        if name not in table and not (name.startswith("tag:") and len(name) > 4):
            raise ApiError("InvalidFilter", "The filter `%s` (Filters.%d.Name) is not supported; supported: %s, tag:<key>."
                           % (name, index, ", ".join(sorted(table))))
        if len(item["Values"]) > MAX_FILTER_VALUES:
            raise ApiError("InvalidFilterValue.LimitExceeded", "The filter `%s` has %d values; at most %d are allowed."
                           % (name, len(item["Values"]), MAX_FILTER_VALUES))


def matches_filters(data, filters, table):
    """Values of one filter are ORed, filters are ANDed (Tencent's semantics)."""
    for item in filters:
        name = item["Name"]
        if name.startswith("tag:"):
            values = [tag["Value"] for tag in data.get("Tags") or [] if tag["Key"] == name[4:]]
        else:
            values = table[name](data)
        if not set(values) & set(item["Values"]):
            return False
    return True


def paginate(items, params):
    offset = params.get("Offset", 0)
    limit = params.get("Limit", DEFAULT_LIMIT)
    if offset < 0:
        raise ApiError("InvalidParameterValue.Range", "The value `%d` of parameter `Offset` must not be negative." % offset)
    if limit > MAX_LIMIT:
        raise ApiError("InvalidParameterValue.LimitExceeded", "The value `%d` of parameter `Limit` exceeds the maximum of %d." % (limit, MAX_LIMIT))
    if limit < 1:
        raise ApiError("InvalidParameterValue.Range", "The value `%d` of parameter `Limit` must be between 1 and %d." % (limit, MAX_LIMIT))
    return items[offset:offset + limit]


def check_ids(name, ids, pattern, malformed_code, kind, example):
    """Batch size and ID shape checks, in the order the real API reports them; returns the IDs de-duplicated."""
    if len(ids) > MAX_BATCH:
        raise ApiError("InvalidParameterValue.LimitExceeded", "The number of `%s` (%d) exceeds the limit of %d per request."
                       % (name, len(ids), MAX_BATCH))
    malformed = [item for item in ids if not pattern.match(item)]
    if malformed:
        raise ApiError(malformed_code, "The %s ID(s) %s in `%s` are malformed: expected the form `%s`."
                       % (kind, quoted(malformed), name, example))
    return unique(ids)
