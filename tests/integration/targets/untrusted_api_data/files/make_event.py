# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One poll of the event source tencentcloud.cvm.cvm_instances (its real code, against the emulator), written as the extra vars
file ansible-rulebook's run_playbook gives a playbook: {"ansible_eda": {"event": ..., "ruleset": ..., "rule": ...}}.

Usage: python files/make_event.py INSTANCE_ID OUTPUT.json   (the connection settings come from TENCENTCLOUD_*)
"""

from __future__ import annotations

import json
import os
import sys


def watch_module():
    """The collection's code, from where Ansible finds the collection (ansible-test runs a copy of this target elsewhere)."""
    roots = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS") or ""
    # Else this target's own checkout: ansible_collections/tencentcloud/cvm/tests/integration/targets/<target>/files.
    here = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 8))
    for root in [path for path in roots.split(os.pathsep) if path] + [here]:
        if os.path.isdir(os.path.join(root, "ansible_collections", "tencentcloud", "cvm")):
            sys.path.insert(0, root)
            break
    from ansible_collections.tencentcloud.cvm.plugins.plugin_utils import _instance_watch  # pylint: disable=import-outside-toplevel
    return _instance_watch


def main():
    instance_id, output = sys.argv[1], sys.argv[2]
    fleet = watch_module().FleetWatch.from_arguments({"start_with": "violations", "required_keys": ["skey-k1000001"]})
    events = [event for event in fleet.poll_due() if event.get("cvm_instance", {}).get("instance_id") == instance_id]
    if len(events) != 1:
        sys.exit("expected one event for %s, got %d" % (instance_id, len(events)))
    extra_vars = {"ansible_eda": {"event": events[0], "ruleset": "Keep keys right", "rule": "Repair the key set of an instance off policy"}}
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(extra_vars, handle)


if __name__ == "__main__":
    main()
