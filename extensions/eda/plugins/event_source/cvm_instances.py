# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Event-Driven Ansible event source: CVM instances that appear or change, and key sets off policy.

The work is done by the collection's plugin_utils (_instance_watch: arguments, reading, backoff; _instance_changes: what
changed); this file is the asyncio shell ansible-rulebook calls.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys

DOCUMENTATION = r"""
---
short_description: CVM instances that appear or change, and key sets that differ from a policy
description:
  - An ansible-rulebook event source that polls C(DescribeInstances) in one or more regions and puts an event on the queue
    for every instance that appears, changes state, or whose key set changes, and for every instance whose key set differs
    from a policy (O(required_keys), O(allowed_keys)).
  - It reads through the collection's API client, as the modules do, with the same credentials, endpoint, rate limit,
    retries, O(api_deadline) and error messages. Every page of every region is read (100 instances a request), at most
    O(read_rate) requests a second per region, counted in the same per-region limit as modules running at the same time.
  - 'Each event is C({"cvm_instance": {...}}) with C(instance_id), C(region), C(instance_name), C(state), C(key_ids),
    C(tags), C(os_name), C(changes) (a list of V(appeared), V(existing), V(state), V(keys), V(policy), V(gone)),
    C(previous) (C(state) and C(key_ids) of the previous poll, or null) and C(policy) (null without a policy or where it
    does not apply, else C(compliant), C(missing_key_ids), C(unexpected_key_ids), C(required_key_ids), C(allowed_key_ids))
    and C(defused_fields).'
  - 'A region whose read fails gives C({"cvm_instances_error": {...}}) with C(region), C(code), C(action), C(request_id),
    C(message), C(retry_in) (seconds) and C(defused_fields); the region is read again after that pause, doubled after each
    failure up to 10 minutes, and the other regions go on.'
  - 'Events are data, never templates: ansible-rulebook passes an event to a playbook as extra variables, which Ansible renders
    as templates, and names and tags are set by whoever may edit an instance. So every template marker (C({{), C({%), C({#))
    in every string of an event gets a space after its brace (C({ {)), and C(defused_fields) lists the fields that held one
    (like V(instance_name) or V(tags.role)); it is empty for almost every event. Playbooks should act on the IDs only.'
  - Events never hold a secret. Bad arguments stop the source at once with a message naming each bad value; nothing is sent.
version_added: 0.2.0
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
extends_documentation_fragment:
  - tencentcloud.cvm.connection
options:
  regions:
    description:
      - The regions to watch, like V(ap-guangzhou), read concurrently.
      - When not set, the one region of O(region) (or E(TENCENTCLOUD_REGION)).
    type: list
    elements: str
  filters:
    description:
      - Watch only the instances these C(DescribeInstances) filters select, in every region, as the modules'
        O(tencentcloud.cvm.cvm_keypair_association#module:instance_filters) option, for example C(tag:env) set to V(prod).
    type: dict
  interval:
    description:
      - Seconds from the start of one poll of a region to the start of the next.
    type: int
    default: 60
  read_rate:
    description:
      - At most this many C(DescribeInstances) requests a second per region, from 1 to 40 (the documented limit). The rest
        of the limit is left to modules running at the same time; the client's shared rate limit keeps them all within it.
    type: int
    default: 10
  start_with:
    description:
      - What the first poll reports. It always remembers every instance, so that later polls report only changes.
      - V(changes) reports nothing at start (no flood when the source starts on a large fleet), only what changes afterwards.
        An instance already off policy is reported when it next changes.
      - V(violations) reports at start every instance off policy (C(changes) lists V(existing) and V(policy)).
      - V(all) reports at start every instance (C(changes) lists V(existing)).
    type: str
    choices: [changes, violations, all]
    default: changes
  required_keys:
    description:
      - Key pairs every watched instance must have, by ID (V(skey-4e5ty7i8)) or by name (resolved in each region, before
        the first poll of that region; a name no key pair or several key pairs have stops the source).
      - An instance that lacks one is reported with V(policy) in C(changes), when that starts and again when what is missing or
        unexpected changes; not at every poll.
    type: list
    elements: str
    default: []
  allowed_keys:
    description:
      - Key pairs an instance may have besides O(required_keys), by ID or name. Any other key bound to it is reported
        (C(unexpected_key_ids)). When not set, any other key is allowed.
    type: list
    elements: str
notes:
  - The policy applies to Linux instances that are V(RUNNING) or V(STOPPED); others show C(policy) null until their state settles.
  - Instances that come or go while a region is read can shift the pages; such a read reports no instance as V(gone).
"""

EXAMPLES = r"""
# Keep the ops key on every production instance of two regions, and no key but it and the deploy key.
- name: Keep keys right on production instances
  hosts: localhost
  sources:
    - name: production CVM instances
      tencentcloud.cvm.cvm_instances:
        regions: [ap-guangzhou, ap-shanghai]
        filters:
          tag:env: prod
        required_keys: [ops-team]
        allowed_keys: [deploy]
        interval: 60
        start_with: violations
  rules:
    - name: Repair the key set of an instance off policy
      condition: event.cvm_instance.policy.compliant == false
      action:
        run_playbook:
          name: tencentcloud.cvm.cvm_keys_remediate
"""

WATCH_MODULE = "ansible_collections.tencentcloud.cvm.plugins.plugin_utils._instance_watch"

log = logging.getLogger("tencentcloud.cvm.cvm_instances")


def _watch_module():
    """The collection's code. ansible-rulebook runs this file by its path, so the collection may not be importable yet:
    then the folder holding ansible_collections/ (seven levels up) goes on sys.path."""
    try:
        return importlib.import_module(WATCH_MODULE)
    except ImportError:
        root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 7))
        if root not in sys.path:
            sys.path.append(root)
        importlib.invalidate_caches()
        return importlib.import_module(WATCH_MODULE)


async def main(queue, args):
    """Poll every region when it is due and put each event on the queue; never returns (ansible-rulebook cancels it)."""
    watch_module = _watch_module()
    fleet = watch_module.FleetWatch.from_arguments(args)
    log.info("watching the CVM instances of %s", ", ".join(region.api.region for region in fleet.regions))
    while True:
        events = await asyncio.to_thread(fleet.poll_due)
        for event in events:
            await queue.put(event)
            await asyncio.sleep(0)
        await asyncio.sleep(fleet.seconds_until_due())


if __name__ == "__main__":
    # Standalone: print the events of the region and emulator of the TENCENTCLOUD_* environment, every 5 seconds.
    class _PrintQueue:
        async def put(self, event):
            print(event)  # noqa: T201

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_PrintQueue(), {"interval": 5, "start_with": "all"}))
