# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a play over many hosts costs a run_once role, with no API and no login (docs/performance.md, "The key_rotation
role against the same key changes made directly").

    python tests/benchmark/bench_play_overhead.py [--hosts 1000] [--tasks 25]

Side by side in one run, in a temporary folder, each case one ansible-playbook over a static inventory of `hosts` hosts
(connection local, nothing contacted): a role of `tasks` run_once set_fact tasks, each storing the play's list of
instance IDs, applied

- from `hosts: localhost` (the role by ID);
- from `hosts: all`, the role with an argument spec (as key_rotation has), so ansible-core adds a validation task that runs
  once per host;
- from `hosts: all`, the same role without an argument spec;
- from `hosts: all`, the same tasks as debug messages (no fact to copy to every host).

Prints the wall time of each case as a Markdown table; never decides pass/fail.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = "---\nargument_specs:\n  main:\n    short_description: a spec\n    options:\n      a: {type: str, default: x}\n"
SET_FACT = """- name: step %d
  ansible.builtin.set_fact:
    step_%d: "{{ groups['all'] | map('extract', hostvars, 'instance_id') | list }}"
  run_once: true
"""
DEBUG = """- name: step %d
  ansible.builtin.debug:
    msg: "{{ groups['all'] | length }} %d"
  run_once: true
"""
CASES = [  # name, play hosts, role
    ("role from localhost", "localhost", "with_spec"),
    ("role over all hosts", "all", "with_spec"),
    ("role over all hosts, no argument spec", "all", "without_spec"),
    ("debug tasks over all hosts, no argument spec", "all", "debug_only"),
]


def write_project(folder, hosts, tasks):
    """The inventory, three roles and one playbook per case."""
    inventory = {"all": {"vars": {"ansible_connection": "local"}, "hosts": {"h%05d" % i: {"instance_id": "ins-%08d" % i} for i in range(hosts)}}}
    (folder / "inventory.json").write_text(json.dumps(inventory))
    for role, template in (("with_spec", SET_FACT), ("without_spec", SET_FACT), ("debug_only", DEBUG)):
        (folder / "roles" / role / "tasks").mkdir(parents=True)
        (folder / "roles" / role / "tasks" / "main.yml").write_text("---\n" + "".join(template % (i, i) for i in range(tasks)))
    (folder / "roles" / "with_spec" / "meta").mkdir()
    (folder / "roles" / "with_spec" / "meta" / "argument_specs.yml").write_text(SPEC)
    for number, (_name, play_hosts, role) in enumerate(CASES):
        (folder / ("case%d.yml" % number)).write_text("- hosts: %s\n  gather_facts: false\n  roles: [%s]\n" % (play_hosts, role))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=25)
    args = parser.parse_args()
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_project(folder, args.hosts, args.tasks)
        for number, (name, _play_hosts, _role) in enumerate(CASES):
            began = time.monotonic()
            subprocess.run([playbook, "-i", "inventory.json", "case%d.yml" % number], cwd=folder, check=True, stdout=subprocess.DEVNULL)
            rows.append((name, time.monotonic() - began))
    print("| case (%d hosts, %d run_once tasks) | wall |" % (args.hosts, args.tasks))
    print("|---|---:|")
    for name, seconds in rows:
        print("| %s | %.1f s |" % (name, seconds))


if __name__ == "__main__":
    main()
