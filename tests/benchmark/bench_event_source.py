# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the event source tencentcloud.cvm.cvm_instances polling a large fleet (docs/performance.md, "The event source").

    PYTHONPATH=tests/support:tests/emulator python tests/benchmark/bench_event_source.py [--count 10000] [--seconds 120]
        [--read-rate 40] [--interval 1]

Starts an emulator with `count` instances spread over two regions (tests/emulator/fleet.py) and its default rate limits
(the documented 40 DescribeInstances a second per region), runs the source's main() in a child process (as ansible-rulebook
does, by the file's path) for `seconds`, then reports from the emulator's request log: DescribeInstances requests per
region, their rate (mean, and the most in any one-second window), the requests refused (RequestLimitExceeded), and the
child's peak RSS (the kernel's ru_maxrss of exactly that process). Prints one JSON document; never decides pass/fail.
Every process it starts is stopped.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import time

from collection_path import collections_path as _collections_path  # pylint: disable=import-error
from fleet import fleet_state  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

REGIONS = ("ap-guangzhou", "ap-shanghai")
SOURCE = REPO / "extensions" / "eda" / "plugins" / "event_source" / "cvm_instances.py"

# The child: the source's main() with a queue that only counts, stopped after `seconds` (a cancelled main, as
# ansible-rulebook cancels it); prints the event count as JSON.
CHILD = r"""
import asyncio, json, runpy, sys
source = runpy.run_path(sys.argv[1])
args = json.loads(sys.argv[2])
seconds = float(sys.argv[3])

class CountingQueue:
    events = 0
    async def put(self, event):
        CountingQueue.events += 1

async def run():
    try:
        await asyncio.wait_for(source["main"](CountingQueue(), args), seconds)
    except asyncio.TimeoutError:
        pass

asyncio.run(run())
print(json.dumps({"events": CountingQueue.events}))
"""


def max_in_one_second(times):
    times = sorted(times)
    return max((bisect.bisect_right(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--read-rate", type=int, default=40)
    parser.add_argument("--interval", type=int, default=1)
    options = parser.parse_args()
    collections = _collections_path()
    with EmulatorProcess(state=fleet_state(options.count, regions=REGIONS)) as emu:
        env = dict(os.environ, **emu.env())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [collections, env.get("PYTHONPATH")]))
        args = {"regions": list(REGIONS), "read_rate": options.read_rate, "interval": options.interval, "start_with": "changes"}
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(SOURCE), json.dumps(args), str(options.seconds)],  # pylint: disable=consider-using-with
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _pid, status, usage = os.wait4(child.pid, 0)
        finally:
            if child.returncode is None and child.poll() is None:
                child.kill()
                child.wait()
        elapsed = time.monotonic() - started
        output = json.loads(child.stdout.read().strip().splitlines()[-1]) if status == 0 else {"error": child.stderr.read()[-2000:]}
        log = emu.requests()["requests"]
    reads = [r for r in log if r["action"] == "DescribeInstances"]
    per_region = {}
    pages = -(-options.count // len(REGIONS) // 100)  # ceil(instances per region / 100)
    for region in REGIONS:
        times = [r["time"] for r in reads if r["region"] == region]
        span = (max(times) - min(times)) if len(times) > 1 else 0.0
        per_region[region] = {"requests": len(times), "mean_per_second": round(len(times) / span, 1) if span else None,
                              "most_in_one_second": max_in_one_second(times), "pages_per_poll": pages,
                              "whole_polls": len(times) // pages}
    print(json.dumps({
        "instances": options.count, "regions": list(REGIONS), "seconds": round(elapsed, 1), "read_rate": options.read_rate,
        "interval": options.interval, "documented_limit_per_region": 40, "per_region": per_region,
        "refused": sum(1 for r in log if r["error_code"] == "RequestLimitExceeded"),
        "errors": sum(1 for r in log if r["outcome"] != "ok"), "events": output.get("events"), "child_error": output.get("error"),
        "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1),
    }, indent=2))
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
