# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: login_address
short_description: The first address of an instance that is an IP address inside the allowed networks
version_added: 0.1.0
description:
  - Checks every address of an instance with Python's C(ipaddress) and returns the first one that is an IP address (IPv4 or IPv6,
    neither unspecified nor multicast) inside one of the allowed networks, with the reasons the others were refused.
  - An address the API returns is data, not an option. A value like V(-oProxyCommand=...) passed to ssh as a host would run a
    command on the controller. Only what this filter accepts should become C(ansible_host).
  - The role C(tencentcloud.cvm.key_rotation) uses it before it logs in to an instance.
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
options:
  _input:
    description:
      - The addresses to check, in order of preference. A string, a list of strings, or an instance as the
        C(tencentcloud.cvm.cvm_keypair_association_info) module returns it (its C(private_ips), then its C(public_ips)).
    type: raw
    required: true
  allowed_networks:
    description:
      - Networks in CIDR notation, like V(10.0.0.0/8) or V(fd00::/8). An address must lie in one of them. Empty allows every address.
      - A value that is not a network fails the filter, naming it.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The address to log in to
  ansible.builtin.debug:
    msg: "{{ instance | tencentcloud.cvm.login_address(['10.0.0.0/8']) }}"
  vars:
    instance:
      instance_id: ins-1e4r6y8i
      private_ips: [10.0.3.11]
      public_ips: [203.0.113.11]
"""

RETURN = r"""
_value:
  description: The address found and the refused ones.
  type: dict
  contains:
    address:
      description: The first acceptable address, as C(ipaddress) writes it; an empty string when there is none.
      type: str
      sample: 10.0.3.11
    refused:
      description: Why each address before it, or every address when none is acceptable, was refused.
      type: list
      elements: str
      sample: ["'-oProxyCommand=x' is not an IP address"]
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def _candidates(value):
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.get("private_ips") or []) + list(value.get("public_ips") or [])
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _networks(allowed_networks):
    networks = []
    for network in allowed_networks or []:
        try:
            networks.append(ipaddress.ip_network(to_text(network).strip(), strict=False))
        except ValueError:
            raise AnsibleFilterError("allowed network %r is not a network in CIDR notation: write it like 10.0.0.0/8 or fd00::/8" % (network,)) from None
    return networks


def login_address(value, allowed_networks=None):
    """The first address of `value` that is an IP address inside one of `allowed_networks` (any when empty)."""
    if allowed_networks is not None and not isinstance(allowed_networks, (list, tuple)):
        raise AnsibleFilterError("allowed networks must be a list of networks like ['10.0.0.0/8'], not %r" % (allowed_networks,))
    networks = _networks(allowed_networks)
    refused = []
    for candidate in _candidates(value):
        text = to_text(candidate, errors="surrogate_or_replace")
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            refused.append("%r is not an IP address" % (text[:100],))
            continue
        if address.is_unspecified or address.is_multicast:
            refused.append("%s is not the address of a host" % address)
        elif networks and not any(address.version == network.version and address in network for network in networks):
            refused.append("%s is outside the allowed networks %s" % (address, ", ".join(str(network) for network in networks)))
        else:
            return {"address": str(address), "refused": refused}
    return {"address": "", "refused": refused or ["the instance has no IP address"]}


class FilterModule:
    """The filters of this file, as ansible-core's filter loader asks for them."""

    def filters(self):
        return {"login_address": login_address}
