# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Weighs the key changes engine's machinery: the 10,000-instance run of docs/performance.md with and without each piece.

    PYTHONPATH=tests/support:tests/emulator python tests/benchmark/bench_engine_variants.py --ref REF [--n 10000] [--repeat 5] [--out DIR]

The collection is taken as it is at the git ref REF (git archive; nothing in the checkout is touched), once per variant,
and a variant's copy gets a few lines appended to its _key_changes.py that switch one mechanism off:
- as is: nothing changed;
- no pipelining: every write of a step is sent first (same pool of WRITE_WORKERS, same rate limit), then the
  operations are followed; without it polls run while later writes still wait for the rate limiter;
- no latency learning: polls back off from FIRST_POLL (x POLL_GROWTH, up to POLL_CAP) and never learn how long
  operations take; with it polls start at 90% of the shortest latency seen, then come every FINE_POLL;
- neither: both off;
- with --compare REF2, the collection at REF2 as it is (the code that replaced them, say).
Both mechanisms were taken out of the code after this measurement, so REF must be a commit that still has them
(docs/architecture.md names the one measured). One emulator (--generate-instances N, documented rate limits,
--operation-latency 2, reset before every run) serves all runs. The variants are interleaved, in an order rotated
every repeat, so that load from other processes on the machine falls on all of them alike. Reported per variant:
median wall time of the whole ansible-playbook process, median API span (the emulator's first to last request of
the run), requests, and each median's ratio to "as is". Timing decides nothing: the script fails only when a run
fails or leaves an instance without the key.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_fleet  # pylint: disable=import-error
from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from run_benchmark import PLAYBOOK, RUNS, BenchError, analyse_log, check_bound, generated_ids  # pylint: disable=import-error

ENGINE = Path("plugins/module_utils/_key_changes.py")

NO_PIPELINING = '''

def _bench_run_step_unpipelined(self, writes, outcome, wait, wait_timeout, restart_ids, baselines):
    """Benchmark variant: every write first, then follow the operations."""
    tracker = _OperationTracker(self, wait_timeout, restart_ids, baselines)
    with ThreadPoolExecutor(max_workers=WRITE_WORKERS) as pool:
        futures = [(pool.submit(self._send, w, baselines, outcome), w) for w in writes]
        wait_futures([f for f, _ in futures])
    for future, write in futures:
        self._record_write(future, write, outcome, tracker)
    while wait and tracker.waiting:
        timeout = tracker.seconds_to_next_poll(self._clock())
        if timeout:
            self._sleep(timeout)
        tracker.poll_due(self._clock(), outcome)


Binder._run_step = _bench_run_step_unpipelined
'''
NO_LEARNING = '''

Binder.learn_latency = lambda self, seconds: None  # benchmark variant: polls only back off
'''
VARIANTS = {"as is": "", "no pipelining": NO_PIPELINING, "no latency learning": NO_LEARNING, "neither": NO_PIPELINING + NO_LEARNING}


def variant_collection(ref, tmp, name, patch):
    """The collection at `ref`, with `patch` appended to its engine; refuses a ref without the mechanisms."""
    root = Path(bench_fleet.collection_at(ref, Path(tmp) / re.sub(r"[^A-Za-z0-9]+", "-", name)))
    engine = root / "ansible_collections" / "tencentcloud" / "cvm" / ENGINE
    source = engine.read_text()
    for needed in ("def _run_step(", "def learn_latency("):
        if needed not in source:
            raise BenchError("%s at %s has no %s: give --ref a commit that still has the machinery" % (ENGINE, ref, needed))
    engine.write_text(source + patch)
    return root


def reset(emu, tries=3):
    """Fresh state, request log and rate-limit windows; resetting 10,000 instances can outlast the harness's 30 s
    answer timeout on a busy machine, so it is asked again (a reset is idempotent)."""
    for attempt in range(tries):
        try:
            return emu.reset(everything=True)
        except (TimeoutError, OSError):
            if attempt == tries - 1:
                raise
            time.sleep(5)
    return None


def one_run(emu, ids, cmd, colls, tmp):
    reset(emu)
    env = ansible_environment(tmp, colls, emulator=emu)
    result = RUNS.run(cmd, env, 3600)
    if result.rc != 0 or "changed: [localhost]" not in result.out:
        raise BenchError("the run failed or reported no change " + result.tail())
    check_bound(emu, set(ids))
    facts = analyse_log(emu.requests()["requests"])
    return {"wall": result.wall, "api": facts["last_request"] - facts["first_request"], "requests": sum(facts["counts"].values()),
            "polls": facts["polling_reads"], "throttled": facts["throttled"],
            # The part the two mechanisms act on, from the emulator's clock: the last write to the last poll.
            "drain": facts["last_request"] - facts["last_write"], "writes": facts["last_write"] - facts["first_write"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", required=True, help="git ref of the collection to measure (one that has both mechanisms)")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--compare", metavar="REF2", help="one more variant: the collection as it is at REF2, unchanged")
    parser.add_argument("--report", metavar="JSON", help="only print the table of an earlier run's OUT/engine-variants.json")
    args = parser.parse_args(argv)
    if args.report:
        runs = json.loads(Path(args.report).read_text())
        args.repeat = min(len(rows) for rows in runs.values())
        runs = {name: rows[:args.repeat] for name, rows in runs.items()}  # whole repeats only
        print(markdown(runs, args))
        return 0
    Path(args.out).mkdir(parents=True, exist_ok=True)
    runs = {name: [] for name in VARIANTS}
    try:
        with tempfile.TemporaryDirectory(prefix="tccvm-variants-") as tmp:
            colls = {name: variant_collection(args.ref, tmp, name, patch) for name, patch in VARIANTS.items()}
            if args.compare:
                colls["at " + args.compare] = Path(bench_fleet.collection_at(args.compare, Path(tmp) / "compare"))
                runs["at " + args.compare] = []
            playbook = Path(tmp) / "bind.yml"
            playbook.write_text(PLAYBOOK)
            with EmulatorProcess(extra_args=["--generate-instances", str(args.n), "--operation-latency", str(args.latency)]) as emu:
                ids = generated_ids(emu, args.n)
                vars_file = Path(tmp) / "ids.json"
                vars_file.write_text(json.dumps({"bench_instance_ids": ids}))
                cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), "-e", "@" + str(vars_file)]
                names = list(colls)
                one_run(emu, ids, cmd, colls["as is"], tmp)  # warm-up: page cache, byte-compiled ansible
                for repetition in range(args.repeat):
                    order = names[repetition % len(names):] + names[:repetition % len(names)]
                    for name in order:
                        row = one_run(emu, ids, cmd, colls[name], tmp)
                        runs[name].append(row)
                        (Path(args.out) / "engine-variants.json").write_text(json.dumps(runs, indent=1))  # so far
                        print("repeat %d, %s: %.2f s wall, %.2f s API, %.2f s writes, %.2f s last write to last poll, %d requests, "
                              "%d polls, %d throttled" % (repetition + 1, name, row["wall"], row["api"], row["writes"], row["drain"],
                                                          row["requests"], row["polls"], row["throttled"]), flush=True)
    finally:
        RUNS.stop_all()
    (Path(args.out) / "engine-variants.json").write_text(json.dumps(runs, indent=1))
    print(markdown(runs, args))
    return 0


def markdown(runs, args):
    """One row per variant: medians, their ratio to "as is", and the median of the ratios within each repeat (a variant
    against the "as is" run of the same repeat, minutes apart at most: the figure least moved by load that drifts)."""
    base = runs["as is"]
    base_wall = statistics.median(r["wall"] for r in base)
    base_api = statistics.median(r["api"] for r in base)
    lines = ["%d instances, operation latency %g s, %d interleaved repeats, at %s" % (args.n, args.latency, args.repeat, args.ref), "",
             "| variant | median wall s (min-max) | ratio of medians | median of paired ratios | median API span s | ratio "
             "| median last write to last poll s | requests | polling reads |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, rows in runs.items():
        walls = [r["wall"] for r in rows]
        wall, api = statistics.median(walls), statistics.median(r["api"] for r in rows)
        paired = statistics.median(r["wall"] / b["wall"] for r, b in zip(rows, base))
        drain = "%.2f" % statistics.median(r["drain"] for r in rows) if all("drain" in r for r in rows) else "-"
        lines.append("| %s | %.2f (%.2f-%.2f) | %.3f | %.3f | %.2f | %.3f | %s | %d | %d |" % (
            name, wall, min(walls), max(walls), wall / base_wall, paired, api, api / base_api, drain,
            statistics.median(r["requests"] for r in rows), statistics.median(r["polls"] for r in rows)))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
