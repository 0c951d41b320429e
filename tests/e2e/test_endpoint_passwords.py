# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A password in the endpoint option appears in no output of any program that words an endpoint.

The two shapes a reviewer found (a second '://' after the password, or before it) and a seeded fuzz of similar ones go
through every place an endpoint is shown: a module's result, warnings and errors at -vvvv (ansible-playbook), the inventory
plugin's error (ansible-inventory -vvvv) and the event source's error (its main(), as ansible-rulebook calls it). Each is
refused naming the endpoint with ***@ in the password's place, and nothing is sent to the emulator.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

from ansible_env import BIN  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

PASSWORD = "S3cretPw0rd"
EMU = "{emulator}"  # replaced by the emulator's host:port


def endpoints():
    shapes = ["admin:%s@%s/https://cvm.tencentcloudapi.com" % (PASSWORD, EMU), "http://admin:%s@%s/://x" % (PASSWORD, EMU)]
    rng = random.Random(7)
    pieces = ["/", "://", "/https://", "?", "#", "x"]
    for _n in range(4):
        scheme = rng.choice(["", "http://", "https://"])
        shapes.append(scheme + rng.choice(pieces) + "admin:" + PASSWORD + "@" + EMU + rng.choice(pieces) + rng.choice(["", "h", EMU]))
    return shapes


def concrete(emu):
    host = emu.url.partition("://")[2]
    return [shape.replace(EMU, host) for shape in endpoints()]


def test_module_results_warnings_and_errors_at_vvvv_hide_the_password(emulator, playbook):
    tasks = "".join("""
      - name: endpoint %d
        tencentcloud.cvm.cvm_keypair_association:
          endpoint: %s
          instance_ids: [ins-a1000004]
          key_ids: [skey-k1000003]
        ignore_errors: true
      - name: keypair endpoint %d
        tencentcloud.cvm.cvm_keypair:
          endpoint: %s
          name: pw_key
        ignore_errors: true
    """ % (n, json.dumps(endpoint), n, json.dumps(endpoint)) for n, endpoint in enumerate(concrete(emulator)))
    rc, results, stdout, stderr = playbook(emulator, """
    - hosts: localhost
      gather_facts: false
      tasks:
    """ + tasks, verbosity=4, env={"ANSIBLE_INJECT_INVOCATION": "1"})
    assert rc == 0, stderr  # every failure ignored
    assert len(results) == 2 * len(endpoints())
    for name, result in results.items():
        assert result.get("failed") and "endpoint" in result["msg"] and "***@" in result["msg"], (name, result)
    assert "ins-a1000004" in stdout  # the output really is verbose
    for text in (stdout, stderr, json.dumps(results)):
        assert PASSWORD not in text
    assert emulator.requests()["counts"] == {}


def test_the_inventory_plugin_error_hides_the_password(emulator, ansible_env, tmp_path):
    for n, endpoint in enumerate(concrete(emulator)):
        path = tmp_path / ("pw%d.cvm.yml" % n)
        path.write_text("plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nendpoint: %s\n" % json.dumps(endpoint))
        proc = subprocess.run([str(BIN / "ansible-inventory"), "-vvvv", "-i", str(path), "--list"],
                              env=ansible_env(emulator, {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}),
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode != 0 and "***@" in proc.stderr, proc.stderr
        assert PASSWORD not in proc.stdout + proc.stderr
    assert emulator.requests()["counts"] == {}


EVENT_SOURCE = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import cvm_instances
for endpoint in json.loads(sys.argv[2]):
    try:
        asyncio.run(cvm_instances.main(None, {"endpoint": endpoint, "region": "ap-guangzhou"}))
    except Exception as exc:
        print("%s: %s" % (type(exc).__name__, exc))
"""


def test_the_event_source_error_hides_the_password(emulator, ansible_env):
    shapes = concrete(emulator)
    proc = subprocess.run([sys.executable, "-c", EVENT_SOURCE, str(REPO / "extensions" / "eda" / "plugins" / "event_source"), json.dumps(shapes)],
                          env=ansible_env(emulator, {"PYTHONPATH": ":".join(p for p in sys.path if p)}),
                          capture_output=True, text=True, timeout=300, check=False)
    lines = proc.stdout.splitlines()
    assert len(lines) == len(shapes), proc.stdout + proc.stderr
    for line in lines:
        assert line.startswith("SourceArgumentError: ") and "endpoint" in line and "***@" in line, line
    assert PASSWORD not in proc.stdout + proc.stderr
    assert emulator.requests()["counts"] == {}
