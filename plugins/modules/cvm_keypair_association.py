#!/usr/bin/python
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cvm_keypair_association
short_description: Bind or unbind SSH key pairs on Tencent Cloud CVM instances
version_added: 0.1.0
description:
  - Makes a set of SSH key pairs bound (O(state=present)) or unbound (O(state=absent)) on a set of CVM instances,
    through the CVM API actions C(AssociateInstancesKeyPairs) and C(DisassociateInstancesKeyPairs).
  - Reads the current bindings first and sends only the calls needed, grouping instances that need the same change
    into calls of at most 100 instances. Instances already in the desired state cost no write, so a second run reports no change.
  - The API changes only B(STOPPED) Linux instances. An instance that needs a change and is not stopped makes the module fail
    before anything is sent, listing such instances, unless O(force_stop=true).
  - The API works asynchronously. With O(wait=true) the module follows each call's operation until it is over (by the call's
    RequestId, or by any operation newer than the one seen before the call), then verifies that the requested keys are bound or gone.
  - The module is correct whether a bind adds keys or replaces the instance's keys, whatever the API answers to duplicate binds or
    unbinds, and when an answer is lost; see the user guide's section "What the API leaves open".
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
options:
  instance_ids:
    description:
      - IDs of the instances to work on, like V(ins-1e4r6y8i). Duplicates are ignored. Any number; the module batches by 100.
      - Instances that are neither listed nor matched by O(instance_filters) are never touched.
      - At least one of O(instance_ids) and O(instance_filters) is required; with both, the module works on the union.
    type: list
    elements: str
  instance_filters:
    description:
      - Select instances by C(DescribeInstances) filters instead of, or besides, O(instance_ids). Every page of matches is read.
      - Keys are filter names such as V(zone), V(instance-name), V(instance-state), V(tag-key) or V(tag:<key>) (for example V(tag:env));
        values are a string or a list of at most 5 strings. At most 10 filters.
      - Check mode lists exactly the matched instances in RV(instances). A filter that matches nothing changes nothing and warns.
    type: dict
  key_ids:
    description:
      - IDs of the key pairs to bind or unbind, like V(skey-4e5ty7i8). Duplicates are ignored.
      - At least one of O(key_ids) and O(key_names) is required; with both, the module uses the union, at most 100 keys.
    type: list
    elements: str
  key_names:
    description:
      - Names of the key pairs to bind or unbind, resolved to IDs with C(DescribeKeyPairs) before anything is changed.
      - A name that no key pair has, or that several key pairs share, makes the module fail before any write.
    type: list
    elements: str
  state:
    description:
      - V(present) binds every key of O(key_ids) and O(key_names) that an instance lacks, and keeps every other key it has.
      - V(absent) unbinds every key of O(key_ids) and O(key_names) that an instance has; other keys stay.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), also unbind every key that is neither in O(key_ids) nor named in O(key_names), so that each instance
        ends with exactly the keys of O(key_ids) and O(key_names).
      - New keys are bound before old ones are unbound, so an instance never passes through a moment with no key.
      - Not allowed with O(state=absent).
    type: bool
    default: false
  bind_full_sets:
    description:
      - With V(true), every bind sends the whole set of keys each instance must end with (the keys it keeps plus the missing ones),
        not only the missing ones. Where a bind replaces an instance's keys, as the API documentation reads, no key the instance
        keeps stops working even for a moment. Key rotation relies on this (the role C(tencentcloud.cvm.key_rotation) sets it).
      - With V(false), binds send only the missing keys; when a bind is seen to replace keys, the module binds the full sets again
        and sends full sets for the rest of the run.
      - Not allowed with O(state=absent).
    type: bool
    default: false
  force_stop:
    description:
      - Let the API force-stop instances that are not stopped, change their keys, and start again those that were running.
        The API forces the shutdown (C(ForceStop) of C(AssociateInstancesKeyPairs)), so data the instance has not saved to disk
        can be lost.
      - Without it, the module fails before any change when an instance that needs a change is not V(STOPPED), listing such instances.
      - Instances that need no change are never stopped.
    type: bool
    default: false
  wait:
    description:
      - Wait until each operation is over (and force-stopped instances are V(RUNNING) again), then verify the bindings.
      - With V(false), the module returns once the calls are accepted; RV(instances[].key_ids) then shows the expected keys.
        When O(exclusive=true) needs both to bind and to unbind on one instance, the module still waits between the two operations.
        It also waits for binds on instances that already have other keys, to see whether the API replaced them.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each operation when O(wait=true). Instances still busy after that are reported and the module fails.
      - The module never waits this long for an operation that has ended; an operation that ended without the change fails at once.
      - The default of 360 seconds is the Terraform provider's bound for these operations (it polls for up to 6 minutes after its 10
        second pause), forced binds included. Packer's builder waits up to 30 minutes for a force-stopped instance to run again;
        raise this for instances that boot slowly. At most V(86400) (one day).
    type: int
    default: 360
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - tencentcloud.cvm.connection
attributes:
  check_mode:
    support: full
    details: Runs the same reading and planning as a real run and sends no write; RV(changed) and the diff are what a real run would report.
  diff_mode:
    support: full
    details: The diff shows each instance's sorted key IDs before and after.
  platform:
    platforms: all
  action:
    support: none
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - Binding a key pair disables password login on the instance. After the last key is unbound the original password works again;
    an instance with neither password nor key cannot be logged into until its password is reset (C(ResetInstancesPassword)).
  - O(force_stop=true) lets the API force the shutdown, as its current documentation says, which interrupts whatever the instances
    run and can lose data not saved to disk. The API starts again those that were running; with O(wait=true) the module waits until
    they are V(RUNNING).
  - The API documentation says binding a key can make a key bound before stop working. When a bind drops keys it was not asked to
    touch, the module binds the full key sets again, sends full sets for the rest of the run and warns once.
  - Windows instances do not support key pairs; the module fails before any change when one of them would need a change.
  - Use the action group C(tencentcloud.cvm.tencentcloud) in C(module_defaults) to give the connection options once.
seealso:
  - name: AssociateInstancesKeyPairs API
    description: The API action this module uses to bind key pairs.
    link: https://www.tencentcloud.com/document/api/213/15698
  - name: DisassociateInstancesKeyPairs API
    description: The API action this module uses to unbind key pairs.
    link: https://www.tencentcloud.com/document/api/213/15697
"""

EXAMPLES = r"""
- name: Bind the ops key to two stopped instances
  tencentcloud.cvm.cvm_keypair_association:
    region: ap-guangzhou
    instance_ids:
      - ins-1e4r6y8i
      - ins-3e56fg78
    key_ids:
      - skey-4e5ty7i8

- name: Make the web servers carry exactly these keys, stopping and restarting running ones
  tencentcloud.cvm.cvm_keypair_association:
    instance_ids: "{{ web_instance_ids }}"
    key_ids: [skey-4e5ty7i8, skey-9a8b7c6d]
    exclusive: true
    force_stop: true
    wait_timeout: 600
  vars:
    # Or from the inventory plugin: "{{ groups['tag_role_web'] | map('extract', hostvars, 'instance_id') }}"
    web_instance_ids: [ins-1e4r6y8i, ins-3e56fg78, ins-7h8j9k0l]

- name: Bind the deploy key, by name, to every production web server, selected by tag
  tencentcloud.cvm.cvm_keypair_association:
    instance_filters:
      tag:env: prod
      tag:role: web
    key_names: [deploy]
    force_stop: true

- name: Unbind a departed colleague's key everywhere it is bound
  tencentcloud.cvm.cvm_keypair_association:
    instance_ids: "{{ all_instance_ids }}"
    key_ids: [skey-9a8b7c6d]
    state: absent
    force_stop: true
  vars:
    all_instance_ids: [ins-1e4r6y8i, ins-3e56fg78, ins-7h8j9k0l]

- name: Give the connection options once, for every module of the collection
  module_defaults:
    group/tencentcloud.cvm.tencentcloud:
      region: ap-guangzhou
      secret_id: "{{ vault_tencentcloud_secret_id }}"
      secret_key: "{{ vault_tencentcloud_secret_key }}"
  block:
    - name: Preview the change (check mode, with diff)
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: [ins-1e4r6y8i]
        key_ids: [skey-4e5ty7i8]
      check_mode: true
      diff: true
      register: preview

    - name: Apply it
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: [ins-1e4r6y8i]
        key_ids: [skey-4e5ty7i8]
      when: preview is changed

# Ad hoc, with credentials only in the environment
# (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_REGION):
#   ansible localhost -m tencentcloud.cvm.cvm_keypair_association \
#     -a 'instance_ids=ins-1e4r6y8i key_ids=skey-4e5ty7i8 force_stop=true'
"""

RETURN = r"""
changed:
  description: Whether any key was bound or unbound (in check mode, whether any would be).
  returned: always
  type: bool
  sample: true
instances:
  description:
    - One entry per requested instance, sorted by instance ID.
    - In check mode, and with O(wait=false), RV(instances[].key_ids) are the keys expected after the change.
  returned: success, and on failures after the instances were read
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance ID.
      type: str
      sample: ins-1e4r6y8i
    key_ids:
      description: The key pair IDs bound to the instance after the run, sorted.
      type: list
      elements: str
      sample: [skey-4e5ty7i8]
    previous_key_ids:
      description: The key pair IDs bound to the instance before the run, sorted.
      type: list
      elements: str
      sample: []
    changed:
      description: Whether this instance's keys were (or in check mode would be) changed.
      type: bool
      sample: true
  sample:
    - instance_id: ins-1e4r6y8i
      key_ids: [skey-4e5ty7i8]
      previous_key_ids: []
      changed: true
request_ids:
  description: The RequestIds of the write calls sent, in the order they were accepted. Quote them to Tencent Cloud support.
  returned: always
  type: list
  elements: str
  sample: [6ef60bec-0242-43af-bb20-270359fb54a7]
failed_instances:
  description: Instances whose operation ended C(FAILED), with the API's error message.
  returned: when an operation failed
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance ID.
      type: str
      sample: ins-1e4r6y8i
    request_id:
      description: The RequestId of the call whose operation failed.
      type: str
      sample: 6ef60bec-0242-43af-bb20-270359fb54a7
    error_message:
      description: The instance's C(LatestOperationErrorMsg).
      type: str
      sample: Failed to write the public key to the instance.
pending_instance_ids:
  description: Instances whose operation was still running at O(wait_timeout), sorted.
  returned: when waiting timed out
  type: list
  elements: str
  sample: [ins-3e56fg78]
error:
  description: The API error that made the module fail.
  returned: when an API call failed
  type: dict
  contains:
    code:
      description: The API's error code.
      type: str
      sample: UnsupportedOperation.InstanceStateRunning
    message:
      description: The API's error message.
      type: str
      sample: The instance ins-1e4r6y8i is running.
    request_id:
      description: The RequestId of the failed call, when the API answered.
      type: str
      sample: 6ef60bec-0242-43af-bb20-270359fb54a7
    action:
      description: The API action that failed.
      type: str
      sample: AssociateInstancesKeyPairs
"""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._base import TencentCloudModule
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError, seconds_problem
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _ids as ids
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _key_changes as key_changes
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _lookup as lookup

# Each selector can stand in for the other (required_one_of), so an empty one is only an error when the other is absent.
ALTERNATIVES = {"instance_ids": "instance_filters", "key_ids": "key_names"}


def argument_spec():
    return dict(
        instance_ids=dict(type="list", elements="str"),
        instance_filters=dict(type="dict"),
        key_ids=dict(type="list", elements="str", no_log=False),
        key_names=dict(type="list", elements="str", no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        exclusive=dict(type="bool", default=False),
        bind_full_sets=dict(type="bool", default=False),
        force_stop=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=360),
    )


def validation_errors(params):
    """Everything wrong with the module's own options, as sentences; empty when they are usable."""
    errors = []
    for option, kind, other, other_kind in (
        ("instance_ids", ids.INSTANCE, "key_ids", ids.KEY_PAIR),
        ("key_ids", ids.KEY_PAIR, "instance_ids", ids.INSTANCE),
    ):
        values = params[option]
        if values is None:
            continue
        if not values and not params[ALTERNATIVES[option]]:
            errors.append("%s is empty: list at least one ID, like %s." % (option, kind.example))
            continue
        bad = kind.malformed(values)
        if bad:
            text = kind.malformed_message("%s has malformed IDs" % option, bad)
            swapped = [v for v in bad if other_kind.match(str(v))]
            if swapped:
                text += " %s %s like %s: did you swap the two options?" % (", ".join(swapped), "looks" if len(swapped) == 1 else "look", other)
            errors.append(text)
    key_count = len(ids.unique((params["key_ids"] or []) + (params["key_names"] or [])))
    if key_count > ids.MAX_IDS_PER_CALL:
        errors.append("key_ids and key_names list %d keys: at most %d can be given." % (key_count, ids.MAX_IDS_PER_CALL))
    if params["key_names"] is not None and not params["key_names"] and not params["key_ids"]:
        errors.append("key_names is empty: list at least one key pair name.")
    if params["instance_filters"] is not None:
        if not params["instance_filters"] and not params["instance_ids"]:
            errors.append("instance_filters is empty: give filters like {'tag:env': 'prod'}, or instance_ids.")
        else:
            try:
                lookup.filters_to_api(params["instance_filters"])
            except lookup.LookupInputError as exc:
                errors.append(str(exc))
    if params["exclusive"] and params["state"] == "absent":
        errors.append("exclusive=true only applies to state=present: remove it, or use state=present.")
    if params.get("bind_full_sets") and params["state"] == "absent":
        errors.append("bind_full_sets=true only applies to state=present: remove it, or use state=present.")
    errors += [p for p in [seconds_problem("wait_timeout", params["wait_timeout"])] if p]
    return errors


class KeyPairAssociation:
    """Build the goal from the options -> converge_bindings (the key changes engine) -> report."""

    def __init__(self, module):
        self.module = module
        self.module.result.update(instances=[], request_ids=[])

    def run(self):
        """The module's result; raises ModuleFailure (through self.module.fail) when the run cannot go on."""
        return self.report(key_changes.converge_bindings(self.module.api, self.goal(), self.module.check_mode))

    def goal(self):
        params = self.module.params
        key_ids = ids.unique(params["key_ids"] or [])
        key_names = ids.unique(params["key_names"] or [])
        if key_names:
            key_ids = ids.unique(key_ids + self.resolve_key_names(key_names))
        return key_changes.BindingGoal(
            key_ids,
            instance_ids=ids.unique(params["instance_ids"] or []),
            instance_filters=params["instance_filters"],
            state=params["state"],
            exclusive=params["exclusive"],
            bind_full_sets=bool(params.get("bind_full_sets")),
            force_stop=params["force_stop"],
            wait=params["wait"],
            wait_timeout=params["wait_timeout"],
        )

    def resolve_key_names(self, names):
        try:
            by_name = lookup.resolve_key_names(self.module.api, names)
        except lookup.KeyNameError as exc:
            self.module.fail("%s Nothing was changed." % exc)
        except CvmApiError as exc:
            self.module.fail_api(exc, "look up the key pair names")
        return [by_name[name] for name in names]

    def report(self, outcome):
        """The result from the outcome; a failure the outcome holds raises ModuleFailure with that result."""
        for warning in outcome.warnings:
            self.module.warn(warning)
        result = self.module.result
        result["request_ids"] = list(outcome.request_ids)
        changed_ids = outcome.changed_ids()
        if outcome.plans or outcome.failure is None:
            instances = [
                dict(instance_id=i, key_ids=outcome.keys_after(i), previous_key_ids=list(outcome.plans[i].before), changed=i in changed_ids)
                for i in sorted(outcome.plans)
            ]
            result["instances"] = instances
            # An accepted write changed something (a force-stop restarts machines even if an operation then fails).
            result["changed"] = bool(changed_ids or outcome.written)
            if self.module.diff:
                result["diff"] = dict(
                    before={"instances": {i["instance_id"]: i["previous_key_ids"] for i in instances}},
                    after={"instances": {i["instance_id"]: i["key_ids"] for i in instances}},
                )
        failure = outcome.failure
        if failure is None:
            return result
        if failure.kind == key_changes.WRITE_FAILED:
            self.module.fail_api(failure.error, "change the key pairs (%d instances were changed before the failure)" % len(changed_ids), **failure.extra)
        if failure.error is not None:
            self.module.fail_api(failure.error, failure.attempting, **failure.extra)
        if failure.kind == key_changes.OPERATIONS:
            self.module.fail(failure.message + " Changed: %s. Run again to retry the rest." % (", ".join(sorted(changed_ids)) or "none"), **failure.extra)
        return self.module.fail(failure.message, **failure.extra)


def main():
    module = TencentCloudModule(argument_spec(), supports_check_mode=True, required_one_of=[("instance_ids", "instance_filters"), ("key_ids", "key_names")])
    module.finish(lambda: KeyPairAssociation(module).run(), validation_errors(module.params))


if __name__ == "__main__":
    main()
