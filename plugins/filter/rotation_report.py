# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: rotation_report
short_description: The key_rotation role's report, one entry per target
version_added: 0.1.0
description:
  - Builds the report of the role C(tencentcloud.cvm.key_rotation) in one pass over its targets, saying for each one whether it
    was rotated and why (not), from what the role's steps found.
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
options:
  _input:
    description: The targets, as C(tencentcloud.cvm.cvm_keypair_association_info) returns instances (C(instance_id), C(instance_state), C(key_ids)).
    type: list
    elements: dict
    required: true
  outcome:
    description:
      - What the role found. Keys - C(hosts) (instance ID to inventory host), C(addresses) (instance ID to the result of the filter
        C(tencentcloud.cvm.login_address)), C(batches) (the batches of instance IDs), C(attempted) (how many batches ran),
        C(passed) (IDs the new key logged in to), C(failures) (ID to the reason its login failed), C(halted) (why the rollout
        stopped early, or empty), C(check_mode), C(new_key_name), C(retired_key_ids).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Build the report
  ansible.builtin.set_fact:
    key_rotation_report: "{{ targets | tencentcloud.cvm.rotation_report(outcome) }}"
  vars:
    targets: [{instance_id: ins-1e4r6y8i, instance_state: RUNNING, key_ids: [skey-old00001]}]
    outcome: {batches: [[ins-1e4r6y8i]], attempted: 1, passed: [ins-1e4r6y8i], new_key_name: new_key}
"""

RETURN = r"""
_value:
  description: One entry per target, in the order of the targets.
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      type: str
    host:
      description: Its inventory host name, else its instance ID.
      type: str
    rotated:
      description: Whether the new key logged in and the retired key pairs were unbound.
      type: bool
    batch:
      description: The number of its batch (from 1), or null for a target that was in no batch.
      type: int
    reason:
      description: What happened to it, in a sentence.
      type: str
"""


def _reason(instance, outcome, facts):
    instance_id = instance["instance_id"]
    if instance_id in facts["passed"]:
        return "logged in with the new key; the retired key pairs are unbound"
    if instance.get("instance_state") != "RUNNING":
        return (
            "the instance is %s: only a RUNNING instance can show that the new key logs in, so nothing was changed on it; "
            "start it and run the role again" % instance.get("instance_state")
        )
    if instance_id not in facts["batch_of"]:
        refused = (outcome.get("addresses") or {}).get(instance_id, {}).get("refused") or ["no address"]
        return "no address to log in to (%s), so nothing was changed on it" % "; ".join(refused)
    if outcome.get("check_mode"):
        retired = [key_id for key_id in outcome.get("retired_key_ids") or [] if key_id in (instance.get("key_ids") or [])]
        return "check mode: a real run binds key pair %s here and, once the new key logs in, unbinds %s; nothing was changed and no login was tried" % (
            outcome.get("new_key_name"),
            ", ".join(retired) or "no retired key pair (none is bound)",
        )
    if facts["batch_of"][instance_id] > facts["attempted"]:
        return "not attempted: %s; nothing was changed on it and its retired key pairs stay bound" % outcome.get("halted", "")
    return "logging in with the new key failed (%s); the new key is bound next to the retired key pairs, which stay bound and working" % (
        outcome.get("failures") or {}
    ).get(instance_id, "no login result")


def rotation_report(targets, outcome):
    hosts = outcome.get("hosts") or {}
    facts: dict = {  # mixed values: a set, a count, a mapping
        "passed": set(outcome.get("passed") or []),
        "attempted": int(outcome.get("attempted") or 0),
        "batch_of": {instance_id: number for number, batch in enumerate(outcome.get("batches") or [], start=1) for instance_id in batch},
    }
    return [
        {
            "instance_id": instance["instance_id"],
            "host": hosts.get(instance["instance_id"], instance["instance_id"]),
            "rotated": instance["instance_id"] in facts["passed"],
            "batch": facts["batch_of"].get(instance["instance_id"]),
            "reason": _reason(instance, outcome, facts),
        }
        for instance in targets or []
    ]


class FilterModule:
    def filters(self):
        return {"rotation_report": rotation_report}
