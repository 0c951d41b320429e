#!/usr/bin/python
# -*- coding: utf-8 -*-
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
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _keypair_binding as binding
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _lookup as lookup

# Each selector can stand in for the other (required_one_of), so an empty one is only an error when the other is absent.
ALTERNATIVES = {"instance_ids": "instance_filters", "key_ids": "key_names"}

# A run re-plans for instances whose verification failed (another client changed them meanwhile) at most this often.
MAX_ROUNDS = 3


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
    if seconds_problem("wait_timeout", params["wait_timeout"]):
        errors.append(seconds_problem("wait_timeout", params["wait_timeout"]))
    return errors


class KeyPairAssociation:
    """read -> plan -> (unless check mode) apply -> wait -> verify -> report."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.instance_ids = ids.unique(params["instance_ids"] or [])
        self.instance_filters = params["instance_filters"] or None
        self.key_ids = ids.unique(params["key_ids"] or [])
        self.key_names = ids.unique(params["key_names"] or [])
        self.state = params["state"]
        self.exclusive = params["exclusive"]
        self.force_stop = params["force_stop"]
        self.wait = params["wait"]
        self.wait_timeout = params["wait_timeout"]
        self.binder = binding.Binder(module.api)
        self.module.result.update(instances=[], request_ids=[])
        self.plans = {}         # instance_id -> first round's InstancePlan (its `before` is what the user had)
        self.final = {}         # instance_id -> key ids after the run (read back, or expected when not read)
        self.verified = set()   # instance ids whose `final` was read back from the API
        self.written = set()    # instance ids with at least one accepted write
        # Send whole key sets in binds: asked for, or the API was seen to replace keys on bind (then for the rest of the run).
        self.full_sets = bool(params.get("bind_full_sets"))

    def run(self):
        """The module's result; raises ModuleFailure (through self.module.fail) when the run cannot go on."""
        if self.key_names:
            self.key_ids = ids.unique(self.key_ids + self.resolve_key_names())
        views = self.select_instances()
        plans = self.plan(views)
        self.plans = {p.instance_id: p for p in plans}
        if self.module.check_mode or not any(p.changes for p in plans):
            self.final = {p.instance_id: p.after for p in plans}
            return self.report()
        for round_number in range(1, MAX_ROUNDS + 1):
            unverified = self.apply(plans)
            if not unverified:
                break
            if round_number == MAX_ROUNDS:
                self.report_failure("Could not verify the keys of %s after %d rounds: another client keeps changing them. Keys now: %s." % (
                    ", ".join(sorted(unverified)), MAX_ROUNDS, self._describe_keys(unverified)))
            # Another client changed these between our read and our write: plan again from what they have now.
            plans = [p for p in self.plan(self.read(sorted(unverified))) if p.changes]
        return self.report()

    def resolve_key_names(self):
        try:
            by_name = lookup.resolve_key_names(self.module.api, self.key_names)
        except lookup.KeyNameError as exc:
            self.module.fail("%s Nothing was changed." % exc)
        except CvmApiError as exc:
            self.module.fail_api(exc, "look up the key pair names")
        return [by_name[name] for name in self.key_names]

    def select_instances(self):
        """The listed instances (all must exist) and those the filters match."""
        views = self.read(self.instance_ids) if self.instance_ids else {}
        missing = [i for i in self.instance_ids if i not in views]
        if missing:
            self.module.fail("Instances not found in region %s: %s. Check instance_ids and region; nothing was changed." % (
                self.module.params["region"], ", ".join(missing)))
        if self.instance_filters:
            try:
                matched = lookup.find_instance_views(self.module.api, filters=self.instance_filters)
            except CvmApiError as exc:
                self.module.fail_api(exc, "find the instances matching instance_filters")
            if not matched:
                self.module.warn("instance_filters matched no instance in region %s: nothing to do for them." % self.module.params["region"])
            views.update(matched)
        return views

    def read(self, instance_ids):
        try:
            return self.binder.read_instances(instance_ids)
        except CvmApiError as exc:
            self.module.fail_api(exc, "read the instances")

    def plan(self, views):
        plans = [binding.plan_instance(views[i], self.key_ids, self.state, self.exclusive, self.full_sets) for i in sorted(views)]
        self.preflight(plans)
        return plans

    def preflight(self, plans):
        """Refuse, before any write, what the API would refuse for a whole batch."""
        refusal = binding.preflight_refusal(binding.blocked_instances(plans, self.force_stop), " Leave them out of instance_ids.")
        if refusal:
            self.module.fail(refusal)
        to_bind = ids.unique(k for p in plans for k in p.to_bind)
        if to_bind:
            try:
                missing_keys = self.binder.missing_key_ids(to_bind)
            except CvmApiError as exc:
                self.module.fail_api(exc, "read the key pairs")
            if missing_keys:
                self.module.fail("Key pairs not found in region %s: %s. Check key_ids and region; nothing was changed." % (
                    self.module.params["region"], ", ".join(missing_keys)))

    def apply(self, plans):
        """Bind, repair what a replacing bind dropped, then unbind what the instances still have that must go.

        Returns the instance ids whose result could not be verified.
        """
        changing = [p for p in plans if p.changes]
        views = {p.instance_id: p.instance for p in plans}
        outcome = binding.Outcome()
        binds = [p for p in changing if p.to_bind]
        unbinding = any(p.to_unbind for p in changing)
        if binds:
            # Waiting is what shows whether the API replaced keys; skip it only when there is nothing a replace could drop.
            wait = self.wait or unbinding or any(set(p.before) - set(p.to_unbind) for p in binds)
            outcome.merge(self.write_step(binds, binding.ASSOCIATE, wait, views))
            if wait and not outcome.stopped:
                outcome.merge(self.repair_replaced(binds, outcome, views))
        if unbinding and not outcome.stopped:
            current = [views[p.instance_id] for p in changing]
            unbinds = [p for p in binding.plan_unbinds(current, self.key_ids, self.state, self.exclusive) if p.to_unbind]
            if unbinds:
                outcome.merge(self.write_step(unbinds, binding.DISASSOCIATE, self.wait, views))
        for plan in changing:
            view = outcome.final.get(plan.instance_id)
            if view is not None:
                self.final[plan.instance_id] = view.key_ids
                self.verified.add(plan.instance_id)
            elif not self.wait and plan.instance_id in outcome.written:
                self.final[plan.instance_id] = plan.after  # accepted, not awaited: the expected keys
        if self.wait or outcome.stopped:
            self.refresh([p.instance_id for p in changing if p.instance_id in outcome.written and p.instance_id not in outcome.final])
        self.check_outcome(outcome)
        if not self.wait:
            return set()
        return {p.instance_id for p in changing if not self.goal_reached(self.final.get(p.instance_id, p.before))}

    def write_step(self, plans, action, wait, views):
        """Send one action's grouped writes for `plans` and follow them; `views` is updated with what the instances show after."""
        binds, unbinds = binding.group_writes(plans, self.force_stop, self.full_sets)
        writes = binds if action == binding.ASSOCIATE else unbinds
        restart_ids = frozenset(p.instance_id for p in plans if p.instance.state == "RUNNING")
        outcome = self.binder.apply([writes], wait, self.wait_timeout, restart_ids, views)
        self.module.result["request_ids"].extend(outcome.request_ids)
        self.written.update(outcome.written)
        views.update(outcome.final)
        return outcome

    def repair_replaced(self, binds, outcome, views):
        """When a bind dropped keys it was not asked to touch, the API replaces keys on bind: bind the full sets for those
        instances (one more write per batch), send full sets for the rest of the run, and say so once."""
        repairs = []
        lost = {}
        for plan in binds:
            view = outcome.final.get(plan.instance_id)
            if view is not None and binding.replaced_keys(plan, view):
                lost[plan.instance_id] = binding.replaced_keys(plan, view)
                repairs.append(binding.repair_plan(plan, view))
        if not repairs:
            return binding.Outcome()
        if not self.full_sets:
            example = sorted(lost)[0]
            self.module.warn(
                "AssociateInstancesKeyPairs replaced the key pairs of %d instance(s) instead of adding to them (for example %s lost %s, "
                "which it was not asked to unbind): on this API a bind sets an instance's whole key list. The module bound the full key "
                "sets again and sends full sets for the rest of this run." % (len(lost), example, ", ".join(sorted(lost[example]))))
        self.full_sets = True
        return self.write_step(repairs, binding.ASSOCIATE, True, views)

    def refresh(self, instance_ids):
        """Read what instances whose operation failed or timed out really have now, to report it truthfully."""
        if not instance_ids:
            return
        try:
            views = self.binder.read_instances(instance_ids)
        except CvmApiError:
            return  # reported as written but unverified
        for instance_id, view in views.items():
            self.final[instance_id] = view.key_ids
            self.verified.add(instance_id)

    def check_outcome(self, outcome):
        extra = {}
        problems = outcome.problems(self.wait_timeout)
        if outcome.failed:
            extra["failed_instances"] = [dict(instance_id=i, **outcome.failed[i]) for i in sorted(outcome.failed)]
        if outcome.pending:
            extra["pending_instance_ids"] = sorted(outcome.pending)
        if outcome.write_error:
            self.set_result()
            self.module.fail_api(outcome.write_error, "change the key pairs (%d instances were changed before the failure)" % len(self.changed_instance_ids()),
                                 **extra)
        if problems:
            self.report_failure(" ".join(problems) + " Changed: %s. Run again to retry the rest." % (
                ", ".join(sorted(self.changed_instance_ids())) or "none"), **extra)

    def changed_instance_ids(self):
        """Instances whose keys are known to differ from what they had, or that were written but could not be re-read."""
        if self.module.check_mode:
            return {i for i, p in self.plans.items() if p.changes}
        return {i for i in self.written if i not in self.verified or tuple(self.final[i]) != tuple(self.plans[i].before)}

    def goal_reached(self, key_ids):
        keys, wanted = set(key_ids), set(self.key_ids)
        if self.state == "absent":
            return not keys & wanted
        return keys == wanted if self.exclusive else keys >= wanted

    def _describe_keys(self, instance_ids):
        return "; ".join("%s: [%s]" % (i, ", ".join(self.final.get(i, ()))) for i in sorted(instance_ids))

    def set_result(self):
        changed_ids = self.changed_instance_ids()
        instances = []
        for instance_id in sorted(self.plans):
            before = list(self.plans[instance_id].before)
            after = list(self.final.get(instance_id, before))
            instances.append(dict(instance_id=instance_id, key_ids=after, previous_key_ids=before, changed=instance_id in changed_ids))
        result = self.module.result
        result["instances"] = instances
        # An accepted write changed something (a force-stop restarts machines even if an operation then fails).
        result["changed"] = bool(changed_ids or self.written)
        if self.module.diff:
            result["diff"] = dict(
                before={"instances": {i["instance_id"]: i["previous_key_ids"] for i in instances}},
                after={"instances": {i["instance_id"]: i["key_ids"] for i in instances}},
            )

    def report(self):
        self.set_result()
        return self.module.result

    def report_failure(self, msg, **extra):
        self.set_result()
        self.module.fail(msg, **extra)


def main():
    module = TencentCloudModule(argument_spec(), supports_check_mode=True,
                                required_one_of=[("instance_ids", "instance_filters"), ("key_ids", "key_names")])
    module.finish(lambda: KeyPairAssociation(module).run(), validation_errors(module.params))


if __name__ == "__main__":
    main()
