#!/usr/bin/python
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cvm_keypair_association_info
short_description: Show which SSH key pairs are bound to which Tencent Cloud CVM instances
version_added: 0.1.0
description:
  - Reads CVM instances and the key pairs bound to them (C(DescribeInstances), C(DescribeKeyPairs)) and reports, per instance,
    its key pair IDs and names and its latest operation; and, when key pairs are asked for, the instances each of them is bound to.
  - Selects instances by O(instance_ids), by O(instance_filters), by the key pairs asked for (O(key_ids), O(key_names)),
    or, with none of these, every instance of the region.
  - Reads in batches of 100 IDs and pages of 100 entries until every match is read, within the API's rate limits.
  - Never changes anything.
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
options:
  instance_ids:
    description:
      - IDs of the instances to report, like V(ins-1e4r6y8i). Duplicates are ignored. Any number.
      - IDs that do not exist in the region are listed in RV(missing_instance_ids).
      - An empty list selects no instance.
    type: list
    elements: str
  instance_filters:
    description:
      - Select the instances with the API's filters, as a mapping of filter name to a value or a list of at most 5 values.
      - Values of one filter are alternatives; all filters must match. At most 10 filters. Matching is done by the API.
      - Filter names include V(instance-name), V(instance-state), V(zone), V(project-id), V(instance-id), V(vpc-id),
        V(subnet-id), V(private-ip-address), V(public-ip-address), V(tag-key), V(tag-value) and V(tag:<key>) (the value of one tag).
      - Quote values that YAML would read as booleans, such as V('yes').
    type: dict
  key_ids:
    description:
      - IDs of key pairs to report in RV(key_pairs), like V(skey-4e5ty7i8). Duplicates are ignored.
      - Without O(instance_ids) and O(instance_filters), RV(instances) are the instances these key pairs (and those of
        O(key_names)) are bound to.
      - IDs that do not exist in the region are listed in RV(missing_key_ids).
    type: list
    elements: str
  key_names:
    description:
      - Names of key pairs to report in RV(key_pairs), like V(ops_team). Names match exactly. Duplicates are ignored.
      - Several key pairs with one name are all reported.
      - Names that no key pair has are listed in RV(missing_key_names).
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - tencentcloud.cvm.connection
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode runs it unchanged.
  diff_mode:
    support: N/A
    details: The module changes nothing.
  platform:
    platforms: all
  action:
    support: none
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - O(instance_ids) and O(instance_filters) cannot be given together (the API cannot combine them).
  - Reading a whole region costs one C(DescribeInstances) request per 100 instances (40 requests per second at most).
  - Use the action group C(tencentcloud.cvm.tencentcloud) in C(module_defaults) to give the connection options once.
  - Instance and key pair names in the results are the API's text, which whoever may edit an instance or key pair sets.
    Ansible keeps registered results as data (unsafe before ansible-core 2.19, untrusted since), so a name like
    C({{ lookup(...) }}) is never rendered, also when copied into facts; act on the IDs, print names only.
seealso:
  - module: tencentcloud.cvm.cvm_keypair_association
  - module: tencentcloud.cvm.cvm_keypair
  - name: DescribeInstances API
    description: The API action this module reads instances with.
    link: https://www.tencentcloud.com/document/api/213/15728
  - name: DescribeKeyPairs API
    description: The API action this module reads key pairs with.
    link: https://www.tencentcloud.com/document/api/213/15699
"""

EXAMPLES = r"""
- name: Keys of two instances
  tencentcloud.cvm.cvm_keypair_association_info:
    region: ap-guangzhou
    instance_ids:
      - ins-1e4r6y8i
      - ins-3e56fg78
  register: info

- name: Keys of the production web servers in one zone
  tencentcloud.cvm.cvm_keypair_association_info:
    instance_filters:
      tag:env: prod
      tag:role: web
      zone: [ap-guangzhou-3, ap-guangzhou-4]
  register: web

- name: Where is the departed colleague's key bound?
  tencentcloud.cvm.cvm_keypair_association_info:
    key_names: [alice]
  register: alice

- name: Unbind it everywhere
  tencentcloud.cvm.cvm_keypair_association:
    instance_ids: "{{ alice.key_pairs[0].instance_ids }}"
    key_ids: "{{ alice.key_pairs | map(attribute='key_id') | list }}"
    state: absent
    force_stop: true
  when: alice.key_pairs | length > 0 and alice.key_pairs[0].instance_ids | length > 0

- name: Every instance of the region with its keys
  tencentcloud.cvm.cvm_keypair_association_info:
  register: everything
"""

RETURN = r"""
changed:
  description: Always V(false); the module only reads.
  returned: always
  type: bool
  sample: false
instances:
  description: The selected instances, sorted by instance ID.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance ID.
      type: str
      sample: ins-1e4r6y8i
    instance_name:
      description: The instance name.
      type: str
      sample: web-1
    instance_state:
      description: The instance state, like C(RUNNING) or C(STOPPED).
      type: str
      sample: RUNNING
    key_ids:
      description: The IDs of the key pairs bound to the instance, sorted.
      type: list
      elements: str
      sample: [skey-4e5ty7i8]
    key_names:
      description:
        - The names of the key pairs in RV(instances[].key_ids), in the same order.
        - V(null) for a key pair that could not be read.
      type: list
      elements: str
      sample: [ops_team]
    latest_operation:
      description: The instance's latest operation, like C(AssociateInstancesKeyPairs); V(null) when the API has none.
      type: str
      sample: AssociateInstancesKeyPairs
    latest_operation_state:
      description: The state of that operation, C(OPERATING), C(SUCCESS) or C(FAILED); V(null) when the API has none.
      type: str
      sample: SUCCESS
    latest_operation_request_id:
      description: The RequestId of the call that started that operation; V(null) when the API has none.
      type: str
      sample: 6ef60bec-0242-43af-bb20-270359fb54a7
    private_ips:
      description: The instance's private IP addresses (C(PrivateIpAddresses)); empty when it has none.
      type: list
      elements: str
      sample: [10.0.3.11]
    public_ips:
      description: The instance's public IP addresses (C(PublicIpAddresses)); empty when it has none.
      type: list
      elements: str
      sample: [203.0.113.11]
  sample:
    - instance_id: ins-1e4r6y8i
      instance_name: web-1
      instance_state: RUNNING
      key_ids: [skey-4e5ty7i8]
      key_names: [ops_team]
      latest_operation: StartInstances
      latest_operation_state: SUCCESS
      latest_operation_request_id: 6ef60bec-0242-43af-bb20-270359fb54a7
      private_ips: [10.0.3.11]
      public_ips: [203.0.113.11]
key_pairs:
  description: The key pairs asked for with O(key_ids) and O(key_names) that exist, sorted by key pair ID.
  returned: when O(key_ids) or O(key_names) is given
  type: list
  elements: dict
  contains:
    key_id:
      description: The key pair ID.
      type: str
      sample: skey-4e5ty7i8
    key_name:
      description: The key pair name.
      type: str
      sample: ops_team
    instance_ids:
      description: Every instance of the region the key pair is bound to (C(AssociatedInstanceIds)), sorted.
      type: list
      elements: str
      sample: [ins-1e4r6y8i, ins-3e56fg78]
  sample:
    - key_id: skey-4e5ty7i8
      key_name: ops_team
      instance_ids: [ins-1e4r6y8i, ins-3e56fg78]
missing_instance_ids:
  description: Requested instance IDs that do not exist in the region, sorted.
  returned: always
  type: list
  elements: str
  sample: []
missing_key_ids:
  description: Requested key pair IDs that do not exist in the region, sorted.
  returned: always
  type: list
  elements: str
  sample: []
missing_key_names:
  description: Requested key pair names that no key pair of the region has, sorted.
  returned: always
  type: list
  elements: str
  sample: [bob]
error:
  description: The API error that made the module fail.
  returned: when an API call failed
  type: dict
  contains:
    code:
      description: The API's error code.
      type: str
      sample: AuthFailure.SecretIdNotFound
    message:
      description: The API's error message.
      type: str
      sample: The SecretId is not found.
    request_id:
      description: The RequestId of the failed call, when the API answered.
      type: str
      sample: 6ef60bec-0242-43af-bb20-270359fb54a7
    action:
      description: The API action that failed.
      type: str
      sample: DescribeInstances
"""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._base import TencentCloudModule
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _ids as ids
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _lookup as lookup


def argument_spec():
    return dict(
        instance_ids=dict(type="list", elements="str"),
        instance_filters=dict(type="dict"),
        key_ids=dict(type="list", elements="str", no_log=False),
        key_names=dict(type="list", elements="str", no_log=False),
    )


def validation_errors(params):
    """Everything wrong with the module's own options, as sentences; empty when they are usable."""
    errors = []
    for option, kind in (("instance_ids", ids.INSTANCE), ("key_ids", ids.KEY_PAIR)):
        bad = kind.malformed(params[option] or ())
        if bad:
            errors.append(kind.malformed_message("%s has malformed IDs" % option, bad))
    empty = [n for n in params["key_names"] or () if not n]
    if empty:
        errors.append("key_names has empty names: remove them, or give names like ops_team.")
    if params["instance_filters"] is not None:
        try:
            lookup.filters_to_api(params["instance_filters"])
        except lookup.FilterError as exc:
            errors.append(str(exc))
    return errors


class KeyPairAssociationInfo:
    """read key pairs -> read instances -> read the names of their keys -> report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.api = module.api

    def run(self):
        """Read what was asked for and return it as the module's result."""
        params = self.params
        keys_given = params["key_ids"] is not None or params["key_names"] is not None
        pairs = []
        if keys_given:
            pairs = self.read(lookup.find_key_pairs, "read the key pairs", key_ids=params["key_ids"] or [], key_names=params["key_names"] or [])
        instances = self.read_instances(pairs, keys_given)
        names = {p["key_id"]: p["key_name"] for p in pairs}
        unnamed = ids.unique(k for i in instances for k in lookup.InstanceView(i).key_ids if k not in names)
        if unnamed:
            names.update((p["key_id"], p["key_name"]) for p in self.read(lookup.find_key_pairs, "read the key pairs", key_ids=unnamed))
        result = self.module.result
        result["instances"] = [self.instance_entry(i, names) for i in instances]
        found_ids = {i["InstanceId"] for i in instances}
        result["missing_instance_ids"] = sorted(set(params["instance_ids"] or ()) - found_ids)
        result["missing_key_ids"] = sorted(set(params["key_ids"] or ()) - {p["key_id"] for p in pairs})
        result["missing_key_names"] = sorted(set(params["key_names"] or ()) - {p["key_name"] for p in pairs})
        if keys_given:
            result["key_pairs"] = [dict(key_id=p["key_id"], key_name=p["key_name"], instance_ids=p["associated_instance_ids"]) for p in pairs]
        return self.module.result

    def read_instances(self, pairs, keys_given):
        params = self.params
        if params["instance_ids"] is not None:
            return self.read(lookup.find_instances, "read the instances", instance_ids=params["instance_ids"])
        if params["instance_filters"] is not None:
            return self.read(lookup.find_instances, "read the instances", filters=params["instance_filters"])
        if keys_given:
            return self.read(lookup.find_instances, "read the instances", instance_ids=sorted({i for p in pairs for i in p["associated_instance_ids"]}))
        return self.read(lookup.find_instances, "read the instances")

    def read(self, func, attempting, **kwargs):  # pylint: disable=inconsistent-return-statements  # fail() and fail_api() raise
        try:
            return func(self.api, **kwargs)
        except CvmApiError as exc:
            self.module.fail_api(exc, attempting)
        except lookup.LookupInputError as exc:
            self.module.fail(str(exc))

    @staticmethod
    def instance_entry(raw, names):
        view = lookup.InstanceView(raw)
        return dict(
            instance_id=view.instance_id,
            instance_name=raw.get("InstanceName"),
            instance_state=view.state,
            key_ids=list(view.key_ids),
            key_names=[names.get(k) for k in view.key_ids],
            latest_operation=view.operation,
            latest_operation_state=view.operation_state,
            latest_operation_request_id=view.operation_request_id,
            private_ips=list(raw.get("PrivateIpAddresses") or ()),
            public_ips=list(raw.get("PublicIpAddresses") or ()),
        )


def main():
    module = TencentCloudModule(argument_spec(), supports_check_mode=True, mutually_exclusive=[("instance_ids", "instance_filters")])
    module.finish(lambda: KeyPairAssociationInfo(module).run(), validation_errors(module.params), read_only=True)


if __name__ == "__main__":
    main()
