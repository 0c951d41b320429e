# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the shared rate limit across nodes (docs/performance.md, "Many nodes: the shared rate limit on Redis").

    PYTHONPATH=tests/support:tests/emulator python tests/benchmark/bench_nodes.py [--fleet 10000] [--nodes 4] [--latency 2]

Side by side in one run, each case on a fresh emulator (documented rate limits, `latency` s operations) with a fleet of
`fleet` STOPPED instances: one node without and with rate_limit_url, then `nodes` nodes without and with it. A node is one
ansible-playbook process with its own home, TMPDIR and rate limit folder and its share of the fleet, bound in one run_once
task (tests/support/node_fleet.py). A redis-server is started on 127.0.0.1 at a free port for the cases with the option
(tests/support/redis_setup.py), emptied between cases, and stopped at the end. Reports wall time, requests, requests
refused for rate, failed hosts and instances bound, as JSON and as a Markdown table; never decides pass/fail.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
from pathlib import Path

from collection_path import collections_path as _collections_path  # pylint: disable=import-error
from fleet import fleet_state  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from node_fleet import run_nodes  # pylint: disable=import-error
from redis_setup import RedisServer, ensure_redis_server  # pylint: disable=import-error


def flush(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        sock.recv(64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fleet", type=int, default=10000)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--latency", type=float, default=2.0)
    args = parser.parse_args()
    binary, reason = ensure_redis_server()
    if binary is None:
        parser.error(reason)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(binary, tmp).start()
        try:
            for nodes in (1, args.nodes):
                for with_option in (False, True):
                    document = fleet_state(args.fleet)
                    flush(server)
                    folder = Path(tmp) / ("case-%d-%s" % (nodes, "redis" if with_option else "folder"))
                    with EmulatorProcess(state=document, extra_args=["--operation-latency", str(args.latency)]) as emu:
                        row = run_nodes(emu, document, nodes, folder, _collections_path(), url=server.url if with_option else None)
                    row.update(nodes=nodes, option=with_option)
                    rows.append(row)
        finally:
            server.stop()
    print(json.dumps(rows, indent=1))
    print("\n| nodes | rate_limit_url | time | requests | refused for rate | failed hosts | bound |\n|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        shown = (row["nodes"], "redis" if row["option"] else "not set", row["wall"], row["requests"], row["refused"], row["refused_pct"],
                 row["failed"], row["bound"], row["instances"])
        print("| %d | %s | %.1f s | %d | %d (%.1f%%) | %d | %d/%d |" % shown)


if __name__ == "__main__":
    main()
