# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of tencentcloud.cvm.cvm_keypair_association against the local CVM emulator, for the targets of docs/performance.md.

Usually run through ./scripts/bench, which prepares .venv/ and the collection path. Directly:

    PYTHONPATH=tests/support:tests/emulator python tests/benchmark/run_benchmark.py [--sizes 1,100,1000,10000] [--pairs 10] [--out bench-results]

For each size N it starts an emulator with N generated STOPPED instances (--generate-instances N), the documented
rate limits (its defaults: 10/s writes, 40/s DescribeInstances) and --operation-latency 2, then runs three whole
`ansible-playbook` processes binding one key to all N instances: check mode, the real run (timed, peak RSS of the
module process measured), and an idempotent rerun. It also times `ansible localhost -m ansible.builtin.ping` against
the module with nothing to change, as alternating pairs. It prints the results with MET / NOT MET per target, writes
them as markdown to OUT/results.md and a chart to OUT/chart.png, and exits non-zero only on errors (a failed run, a
wrong end state, an emulator that does not start), never on a missed target. Every process it starts is stopped.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# tests/benchmark is this script's folder; tests/support and tests/emulator come from PYTHONPATH (scripts/bench).
import bench_fleet  # pylint: disable=import-error
import bench_model as model  # pylint: disable=import-error
from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from collection_path import collections_path as _collections_path  # pylint: disable=import-error
from cvm_emulator import KEY_BINDING_ACTIONS  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

HERE = Path(__file__).resolve().parent

MODULE = "tencentcloud.cvm.cvm_keypair_association"
KEY_ID = "skey-k1000003"              # in the emulator's default seed; generated instances have no key
NOOP_INSTANCE = "ins-a1000003"         # default seed: STOPPED, has skey-k1000001
NOOP_KEY = "skey-k1000001"
DEFAULT_SIZES = "1,100,1000,10000"

PLAYBOOK = """\
- name: "Benchmark: bind one key pair to every generated instance"
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Bind the key
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: "{{ bench_instance_ids }}"
        key_ids: [%s]
""" % KEY_ID


class BenchError(RuntimeError):
    """Something went wrong that makes a measurement meaningless (not a missed target)."""


def log(message):
    print(message, flush=True)


# -- running processes --------------------------------------------------------------------------------------------

class RunResult:
    """What one finished process gave: exit status, output, wall time (monotonic) and wall-clock start and end."""

    def __init__(self, rc, out, err, wall, start, end):
        self.rc, self.out, self.err, self.wall, self.start, self.end = rc, out, err, wall, start, end

    def tail(self):
        return "(rc=%d)\n%s\n%s" % (self.rc, self.out[-3000:], self.err[-3000:])


class Runs:
    """Starts ansible processes in their own process group and makes sure none outlives the benchmark."""

    def __init__(self):
        self.running = set()
        self.lock = threading.Lock()

    def run(self, cmd, env, timeout):
        """Run cmd to the end; return a RunResult."""
        started_wall = time.time()
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        with self.lock:
            self.running.add(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(proc)
            raise BenchError("timed out after %ds: %s" % (timeout, " ".join(cmd[:4]))) from None
        finally:
            if proc.poll() is None:
                self.stop(proc)
            with self.lock:
                self.running.discard(proc)
        return RunResult(proc.returncode, out, err, time.monotonic() - started, started_wall, time.time())

    @staticmethod
    def stop(proc):
        """Terminate the process group we created for proc (its id is proc.pid), then kill whatever is left in it."""
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group's other members (module processes), if any
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.wait(5)

    def stop_all(self):
        with self.lock:
            procs = list(self.running)
        for proc in procs:
            self.stop(proc)


RUNS = Runs()


# -- ansible environment ------------------------------------------------------------------------------------------

def collections_path(tmp):
    """A collections path holding this checkout as tencentcloud.cvm (scripts/bench exports one; otherwise link one)."""
    return _collections_path(root=Path(tmp) / "collections")


def make_shim(tmp):
    """An executable that ansible can use as its Python interpreter: it execs rss_wrapper.py with our Python."""
    shim = Path(tmp) / "python-rss"
    shim.write_text('#!/bin/sh\nexec "%s" -S -E "%s" "$@"\n' % (sys.executable, HERE / "rss_wrapper.py"))
    shim.chmod(0o755)
    return str(shim)


# -- the emulator's request log ---------------------------------------------------------------------------------

def is_throttled(record):
    return (record.get("error_code") or "").startswith("RequestLimitExceeded")


def analyse_log(records):
    """Counts by action, reads before the first write, polling reads after it, throttled answers, phase times."""
    records = sorted(records, key=lambda r: r["seq"])
    counts, ok_counts = {}, {}
    for r in records:
        counts[r["action"]] = counts.get(r["action"], 0) + 1
        if r["outcome"] == "ok":
            ok_counts[r["action"]] = ok_counts.get(r["action"], 0) + 1
    writes = [r for r in records if r["action"] in KEY_BINDING_ACTIONS]
    first_write_seq = writes[0]["seq"] if writes else None
    reads = [r for r in records if r["action"] == "DescribeInstances"]
    reads_before = [r for r in reads if first_write_seq is None or r["seq"] < first_write_seq]
    polls = [r for r in reads if first_write_seq is not None and r["seq"] > first_write_seq]
    times = sorted(r["time"] for r in records)
    return {
        "counts": counts,
        "ok_counts": ok_counts,
        "reads_before": len(reads_before),
        "polling_reads": len(polls),
        "writes_sent": len(writes),
        "writes_ok": sum(1 for r in writes if r["outcome"] == "ok"),
        "throttled": sum(1 for r in records if is_throttled(r)),
        "throttled_by_action": _count_by(r["action"] for r in records if is_throttled(r)),
        "errors": sum(1 for r in records if r["outcome"] != "ok"),
        "first_request": times[0] if times else None,
        "last_request": times[-1] if times else None,
        "first_write": min((r["time"] for r in writes), default=None),
        "last_write": max((r["time"] for r in writes), default=None),
        "last_read_before_write": max((r["time"] for r in reads_before), default=None),
        "max_gap_in_writes": _max_gap(sorted(r["time"] for r in writes)),
    }


def _count_by(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _max_gap(times):
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)


# -- peak RSS of the module process ----------------------------------------------------------------------------

class RssWatch:
    """Cross-check of rss_wrapper's ru_maxrss: polls /proc/<pid>/status (VmHWM, the kernel's high-water mark of the
    resident set) of the module process announced in the wrapper's log, every `interval` seconds."""

    def __init__(self, log_path, interval=0.05):
        self.log_path = log_path
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _pids(self):
        try:
            with open(self.log_path, encoding="utf-8") as handle:
                return [json.loads(line)["pid"] for line in handle if '"start"' in line]
        except OSError:
            return []

    def _run(self):
        pids = []
        while not self._stop.is_set():
            if not pids:
                pids = self._pids()
            for pid in pids:
                try:
                    with open("/proc/%d/status" % pid, encoding="ascii") as handle:
                        for line in handle:
                            if line.startswith("VmHWM:"):
                                self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                except (OSError, ValueError):
                    pass
            self._stop.wait(self.interval)


def read_rss_log(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except OSError:
        return []


# -- one size --------------------------------------------------------------------------------------------------

def generated_ids(emu, n):
    ids = emu.generated_instance_ids()
    if len(ids) != n:
        raise BenchError("the emulator generated %d instances, expected %d" % (len(ids), n))
    return ids


def check_bound(emu, ids):
    missing = [i for i in (x for x in emu.state()["instances"] if x["InstanceId"] in ids)
               if KEY_ID not in ((i.get("LoginSettings") or {}).get("KeyIds") or [])]
    if missing:
        raise BenchError("%d instances do not have %s after the run (e.g. %s)" % (len(missing), KEY_ID, missing[0]["InstanceId"]))


def run_size(n, args, tmp, colls, shim):
    size_tmp = Path(tmp) / ("n%d" % n)
    size_tmp.mkdir()
    playbook = size_tmp / "bind.yml"
    playbook.write_text(PLAYBOOK)
    timeout = 600 + n // 5
    row = {"n": n, "latency": args.latency}
    emu_args = ["--generate-instances", str(n), "--operation-latency", str(args.latency)]
    with EmulatorProcess(extra_args=emu_args) as emu:
        ids = generated_ids(emu, n)
        vars_file = size_tmp / "ids.json"
        vars_file.write_text(json.dumps({"bench_instance_ids": ids}))
        cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), "-e", "@" + str(vars_file)]

        # 1. Check mode on the fresh state: must report a change and send no write.
        emu.reset(everything=True)
        env = ansible_environment(size_tmp, colls, emulator=emu)
        result = RUNS.run(cmd + ["--check"], env, timeout)
        if result.rc != 0 or "changed: [localhost]" not in result.out:
            raise BenchError("check-mode run failed or reported no change " + result.tail())
        row["check"] = dict(analyse_log(emu.requests()["requests"]), wall=result.wall)

        # 2. The real run, timed as a whole ansible-playbook process, with the module's peak RSS (--repeat times,
        #    each from the fresh state; the run with the median wall time is the one reported in detail).
        applies = []
        for repetition in range(args.repeat):
            applies.append(timed_apply(emu, ids, cmd, colls, shim, size_tmp / ("rss-%d.jsonl" % repetition), timeout))
        applies.sort(key=lambda a: a["wall"])
        apply = dict(applies[(len(applies) - 1) // 2])
        apply["walls"] = [a["wall"] for a in applies]
        apply["rss_mb"] = max(a["rss_mb"] for a in applies)
        apply["rss_hwm_mb"] = max(a["rss_hwm_mb"] for a in applies)
        apply["throttled_all_runs"] = sum(a["throttled"] for a in applies)
        apply["user_saw_throttling"] = any(a["user_saw_throttling"] for a in applies)
        timeline = apply.pop("timeline")
        for other in applies:
            other.pop("timeline", None)
        # The raw timeline, for looking at gaps between requests (docs/performance.md).
        (Path(args.out) / ("timeline-%d.json" % n)).write_text(json.dumps(timeline))
        row["apply"] = apply

        # 3. Rerun: nothing to change, so no write.
        emu.clear_requests()
        env = ansible_environment(size_tmp, colls, emulator=emu)
        result = RUNS.run(cmd, env, timeout)
        if result.rc != 0 or "ok: [localhost]" not in result.out:
            raise BenchError("the rerun failed or reported a change " + result.tail())
        row["rerun"] = dict(analyse_log(emu.requests()["requests"]), wall=result.wall)
    row["bound"] = model.lower_bound(n, args.latency)
    row["minimal"] = model.minimal_counts(n)
    row["tf_time"] = model.terraform_time(n, args.latency, parallelism=args.tf_parallelism)
    row["tf_requests"] = model.terraform_requests(n)
    return row


def timed_apply(emu, ids, cmd, colls, shim, rss_log, timeout):
    """One real run from the emulator's starting state; returns its facts (wall time, requests, phases, peak RSS)."""
    emu.reset(everything=True)  # fresh state, request log and rate-limit windows
    env = ansible_environment(rss_log.parent, colls, emulator=emu, ANSIBLE_PYTHON_INTERPRETER=shim, TCCVM_BENCH_RSS_LOG=rss_log,
                              TCCVM_BENCH_REAL_PYTHON=sys.executable)
    load = os.getloadavg()[0]
    with RssWatch(str(rss_log)) as watch:
        result = RUNS.run(cmd, env, timeout)
    if result.rc != 0 or "changed: [localhost]" not in result.out:
        raise BenchError("the run failed or reported no change " + result.tail())
    records = emu.requests()["requests"]
    check_bound(emu, set(ids))
    apply = analyse_log(records)
    ends = [r for r in read_rss_log(rss_log) if r["event"] == "end"]
    if len(ends) != 1:
        raise BenchError("expected one module process in the RSS log, found %d" % len(ends))
    module_proc = ends[0]
    apply.update(
        wall=result.wall,
        load=load,
        user_saw_throttling=("RequestLimitExceeded" in result.out) or ("RequestLimitExceeded" in result.err),
        warnings=[line for line in (result.out + result.err).splitlines() if "[WARNING]" in line],
        rss_mb=module_proc["maxrss_kib"] / 1024.0,
        rss_hwm_mb=watch.peak_kib / 1024.0,
        module_cpu_s=module_proc["user_s"] + module_proc["sys_s"],
        phases=phases(result.start, result.end, module_proc, apply),
        timeline={"playbook_start": result.start, "playbook_end": result.end, "module_start": module_proc["start_time"],
                  "module_end": module_proc["time"],
                  "requests": [{k: r.get(k) for k in ("seq", "time", "action", "outcome", "error_code")} for r in records]},
    )
    return apply


def phases(wall_start, wall_end, module_proc, log_facts):
    """Where the wall time went, from the wall clock, the module process' start/end and the emulator's log."""
    m_start, m_end = module_proc["start_time"], module_proc["time"]
    first, last = log_facts["first_request"], log_facts["last_request"]
    first_w, last_w = log_facts["first_write"], log_facts["last_write"]
    out = {
        "controller_to_module": m_start - wall_start,       # ansible-playbook start, parse, template, AnsiballZ build
        "module_to_first_request": first - m_start,          # interpreter, imports, argument parsing, client setup
        "reads": (first_w - first) if first_w else last - first,   # DescribeInstances + DescribeKeyPairs, planning
        "writes": (last_w - first_w) if first_w else 0.0,     # first to last write (rate limited)
        "drain": (last - last_w) if last_w else 0.0,          # last write to last poll (operation latency)
        "module_finish": m_end - last,                       # building and printing the result, exit
        "controller_finish": wall_end - m_end,               # ansible reads the result, callbacks, exit
    }
    return {k: round(v, 3) for k, v in out.items()}


# -- per-task overhead ------------------------------------------------------------------------------------------

def run_pairs(pairs, tmp, colls):
    pair_tmp = Path(tmp) / "pairs"
    pair_tmp.mkdir()
    ping = [str(BIN / "ansible"), "localhost", "-m", "ansible.builtin.ping"]
    noop = [str(BIN / "ansible"), "localhost", "-m", MODULE, "-a",
            json.dumps({"instance_ids": [NOOP_INSTANCE], "key_ids": [NOOP_KEY]})]
    result = {"ping": [], "module": [], "ratios": [], "pairs": pairs}
    with EmulatorProcess() as emu:
        env = ansible_environment(pair_tmp, colls, emulator=emu)

        def timed(cmd, what):
            result = RUNS.run(cmd, env, 300)
            if result.rc != 0 or "SUCCESS" not in result.out or '"changed": false' not in result.out:
                raise BenchError("%s failed or changed something %s" % (what, result.tail()))
            return result.wall

        timed(ping, "ping")          # warm-up: byte-compile caches, page cache
        timed(noop, "the module")
        emu.clear_requests()
        for index in range(pairs):
            order = ((ping, "ping"), (noop, "module")) if index % 2 == 0 else ((noop, "module"), (ping, "ping"))
            times = {}
            for cmd, what in order:
                times[what] = timed(cmd, what)
            result["ping"].append(times["ping"])
            result["module"].append(times["module"])
            result["ratios"].append(times["module"] / times["ping"])
        facts = analyse_log(emu.requests()["requests"])
    result["writes"] = facts["writes_sent"]
    result["requests_per_module_run"] = {k: v / float(pairs) for k, v in facts["counts"].items()} if pairs else {}
    result["median_ratio"] = statistics.median(result["ratios"])
    result["median_ping"] = statistics.median(result["ping"])
    result["median_module"] = statistics.median(result["module"])
    result["ratio_of_medians"] = result["median_module"] / result["median_ping"]
    return result


# -- reporting ----------------------------------------------------------------------------------------------------

def fmt_counts(facts):
    counts = facts["counts"]
    return ", ".join("%s %d" % (short(a), counts[a]) for a in sorted(counts)) or "none"


def short(action):
    return {"DescribeInstances": "DI", "DescribeKeyPairs": "DKP", "AssociateInstancesKeyPairs": "Assoc",
            "DisassociateInstancesKeyPairs": "Disassoc"}.get(action, action)


def verdict(ok):
    return "MET" if ok else "NOT MET"


def evaluate(rows, pairs):
    """[(target, verdict, detail)] for the targets of docs/performance.md."""
    targets = []
    if pairs:
        targets.append(("Per-task overhead <= %.2fx ping" % model.OVERHEAD_TARGET, verdict(pairs["median_ratio"] <= model.OVERHEAD_TARGET),
                        "median of %d alternating pairs: %.3fx (module %.2f s, ping %.2f s medians; ratio of medians %.3fx)" % (
                            pairs["pairs"], pairs["median_ratio"], pairs["median_module"], pairs["median_ping"], pairs["ratio_of_medians"])))
    for row in rows:
        a, mins = row["apply"], row["minimal"]
        ok = (a["reads_before"] == mins["reads_before"] and a["writes_sent"] == mins["writes"] and a["writes_ok"] == mins["writes"]
              and row["check"]["writes_sent"] == 0 and row["rerun"]["writes_sent"] == 0)
        targets.append(("Requests, N=%d" % row["n"], verdict(ok),
                        "reads before first write %d (min %d), write calls %d sent / %d ok (min %d), polling reads %d (min %d), "
                        "RequestLimitExceeded answers %d, check-mode writes %d, rerun writes %d" % (
                            a["reads_before"], mins["reads_before"], a["writes_sent"], a["writes_ok"], mins["writes"],
                            a["polling_reads"], mins["writes"], a["throttled"], row["check"]["writes_sent"], row["rerun"]["writes_sent"])))
    for row in rows:
        if row["n"] != model.SCALE_TARGET_N:
            continue
        a = row["apply"]
        ratio = a["wall"] / row["bound"]
        targets.append(("Scale: N=%d within %.2fx of the lower bound, no throttling reaching the user" % (row["n"], model.SCALE_TARGET),
                        verdict(ratio <= model.SCALE_TARGET and not a["user_saw_throttling"]),
                        "%.2f s / %.2f s = %.3fx (limit %.2f s)%s; RequestLimitExceeded: %d in the emulator log%s, %s to the user" % (
                            a["wall"], row["bound"], ratio, row["bound"] * model.SCALE_TARGET,
                            "" if len(a["walls"]) == 1 else ", median of %d runs (%.2f-%.2f s)" % (len(a["walls"]), a["walls"][0], a["walls"][-1]),
                            a["throttled_all_runs"], "" if len(a["walls"]) == 1 else " over all runs",
                            "some" if a["user_saw_throttling"] else "none")))
        targets.append(("Memory: module peak RSS at N=%d < %.0f MB" % (row["n"], model.MEMORY_TARGET_MB),
                        verdict(a["rss_mb"] < model.MEMORY_TARGET_MB),
                        "%.1f MB (ru_maxrss via wait4); /proc VmHWM sampling saw %.1f MB" % (a["rss_mb"], a["rss_hwm_mb"])))
    return targets


def markdown(rows, pairs, targets, meta):
    lines = ["# Benchmark results", "",
             "Run on %s (%s); %s." % (meta["date"], meta["host"], meta["command"]), ""]
    if meta.get("busy"):
        lines += ["**Warning:** %s" % meta["busy"], ""]
    lines += ["Emulator: documented rate limits (10/s writes, 40/s DescribeInstances), operation latency %g s, "
              "N generated STOPPED instances, one key bound to all of them by one `ansible-playbook` process." % meta["latency"], ""]
    lines += ["| N | wall s | lower bound s | ratio | reads before 1st write | polling reads | DescribeKeyPairs | "
              "writes sent / ok | RequestLimitExceeded (log / user) | peak RSS MB | Terraform model s | Terraform / ours |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        a = row["apply"]
        walls = a["walls"]
        wall_text = "%.2f" % a["wall"] if len(walls) == 1 else "%.2f (%.2f-%.2f)" % (a["wall"], walls[0], walls[-1])
        lines.append("| %s | %s | %.2f | %.2fx | %d | %d | %d | %d / %d | %d / %s | %.1f | %s | %sx |" % (
            "{:,}".format(row["n"]), wall_text, row["bound"], a["wall"] / row["bound"], a["reads_before"], a["polling_reads"],
            a["counts"].get("DescribeKeyPairs", 0), a["writes_sent"], a["writes_ok"], a["throttled"],
            "yes" if a["user_saw_throttling"] else "0", a["rss_mb"], "{:,.0f}".format(row["tf_time"]),
            "{:,.0f}".format(row["tf_time"] / a["wall"])))
    lines += ["", "Check mode and idempotent rerun (same playbook, same emulator):", "",
              "| N | check mode s | check mode requests (RequestLimitExceeded) | rerun s | rerun requests (RequestLimitExceeded) |",
              "|---:|---:|---|---:|---|"]
    for row in rows:
        c, r = row["check"], row["rerun"]
        lines.append("| %s | %.2f | %s (%d) | %.2f | %s (%d) |" % (
            "{:,}".format(row["n"]), c["wall"], fmt_counts(c), c["throttled"], r["wall"], fmt_counts(r), r["throttled"]))
    lines += ["", "Where the wall time of the real run went (seconds; from the wall clock, the module process' start and end, "
              "and the emulator's request log):", "",
              "| N | start to module | module to 1st request | reads + plan | writes (1st to last) | last write to last poll | "
              "module finish | controller finish | module CPU s | load avg |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        p = row["apply"]["phases"]
        lines.append("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f |" % (
            "{:,}".format(row["n"]), p["controller_to_module"], p["module_to_first_request"], p["reads"], p["writes"], p["drain"],
            p["module_finish"], p["controller_finish"], row["apply"]["module_cpu_s"], row["apply"]["load"]))
    if pairs:
        lines += ["", "Per-task overhead: `ansible localhost -m ansible.builtin.ping` against `ansible localhost -m %s` with nothing "
                  "to change on one instance, %d pairs in alternating order:" % (MODULE, pairs["pairs"]), "",
                  "| | median s | min s | max s |", "|---|---:|---:|---:|",
                  "| ping | %.3f | %.3f | %.3f |" % (pairs["median_ping"], min(pairs["ping"]), max(pairs["ping"])),
                  "| module, nothing to change | %.3f | %.3f | %.3f |" % (pairs["median_module"], min(pairs["module"]), max(pairs["module"])),
                  "", "Median of the per-pair ratios: **%.3fx** (ratio of the medians %.3fx); requests per module run: %s; writes: %d." % (
                      pairs["median_ratio"], pairs["ratio_of_medians"],
                      ", ".join("%s %g" % (short(k), v) for k, v in sorted(pairs["requests_per_module_run"].items())), pairs["writes"])]
    lines += ["", "Terraform model: T_tf(N) = max(ceil(N / P) * max(S, L), 2N / R) with S = %g s sleep after each bind, "
              "P = %d resources at once, R = %g requests/s, L = %g s (see docs/performance.md)." % (
                  model.TF_SLEEP, meta["tf_parallelism"], model.TF_RATE, meta["latency"])]
    lines += ["", "## Targets", "", "| target | verdict | measured |", "|---|---|---|"]
    for name, v, detail in targets:
        lines.append("| %s | **%s** | %s |" % (name, v, detail))
    lines += ["", "Machine: %s; load average before / after: %s / %s." % (meta["machine"], meta["load_before"], meta["load_after"]), ""]
    return "\n".join(lines)


def chart(rows, path):
    """Two panels: wall time against the bounds (log-log), and where the time went per N."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        log("warning: matplotlib is not installed, no chart (./scripts/bench installs it)")
        return False
    ns = [r["n"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(ns, [r["apply"]["wall"] for r in rows], "o-", label="tencentcloud.cvm (whole ansible-playbook)")
    left.plot(ns, [r["bound"] for r in rows], "s--", label="lower bound: max(W/10, R/40) + latency")
    left.plot(ns, [r["bound"] * model.SCALE_TARGET for r in rows], ":", label="1.25 x lower bound")
    left.plot(ns, [r["tf_time"] for r in rows], "^-", label="Terraform model")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("instances (N)")
    left.set_ylabel("seconds")
    left.set_title("Binding one key to N instances")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    names = [("controller_to_module", "ansible start to module"), ("module_to_first_request", "module start to 1st request"),
             ("reads", "reads + plan"), ("writes", "writes (rate limited)"), ("drain", "last write to last poll"),
             ("module_finish", "module result + exit"), ("controller_finish", "controller finish")]
    labels = ["{:,}".format(n) for n in ns]
    bottom = [0.0] * len(rows)
    for key, label in names:
        values = [max(0.0, r["apply"]["phases"][key]) for r in rows]
        right.bar(labels, values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values)]
    for index, row in enumerate(rows):
        right.hlines(row["bound"], index - 0.45, index + 0.45, colors="k", linestyles="--", label="lower bound" if index == 0 else None)
    right.set_xlabel("instances (N)")
    right.set_ylabel("seconds")
    right.set_title("Where the wall time goes")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def print_rows(rows):
    for row in rows:
        a = row["apply"]
        log("  N=%-6d wall %.2f s, bound %.2f s (%.2fx), requests: %s, polling reads %d, throttled %d, peak RSS %.1f MB, "
            "Terraform model %.0f s" % (
                row["n"], a["wall"], row["bound"], a["wall"] / row["bound"], fmt_counts(a), a["polling_reads"], a["throttled"],
                a["rss_mb"], row["tf_time"]))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated instance counts (default: %(default)s)")
    parser.add_argument("--pairs", type=int, default=10, help="ping/module pairs for the per-task overhead; 0 skips it (default: 10)")
    parser.add_argument("--out", default=str(REPO / "bench-results"), help="where results.md and chart.png go (default: bench-results/)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="real runs per size; the median wall time is reported, with the range (default: 3)")
    parser.add_argument("--latency", type=float, default=2.0, help="the emulator's --operation-latency in seconds (default: 2)")
    parser.add_argument("--tf-parallelism", type=int, default=model.TF_PARALLELISM,
                        help="P of the Terraform model: resources Terraform works on at once (default: %(default)s)")
    parser.add_argument("--fleet", type=int, default=200, help="hosts of the fleet rows (per-host tasks against one task); 0 skips them "
                        "(default: %(default)s)")
    parser.add_argument("--fleet-forks", default="1,10,50", help="forks of the per-host fleet rows; none: only the run_once row "
                        "(default: %(default)s)")
    parser.add_argument("--fleet-compare", metavar="REF", help="also run 100 hosts per host with forks 50 with the collection at this "
                        "git ref (e.g. main) and with this checkout: refusals before and after")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip() and s.strip() != "none"]
        args.fleet_forks = [int(f) for f in args.fleet_forks.split(",") if f.strip() and f.strip() != "none"]
    except ValueError:
        parser.error("--sizes and --fleet-forks take comma-separated integers, like 1,100 (--sizes none skips the size rows)")
    if any(n < 1 for n in args.sizes) or any(f < 1 for f in args.fleet_forks):
        parser.error("--sizes and --fleet-forks take positive integers")
    if not args.sizes and not args.fleet:
        parser.error("nothing to run: give --sizes or --fleet")
    if args.repeat < 1:
        parser.error("--repeat takes a positive integer")
    if args.pairs < 0 or args.pairs == 1 or (args.pairs and args.pairs < 10):
        log("note: the overhead target asks for at least 10 pairs; %d given" % args.pairs)
    return args


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "command": "`%s`" % " ".join([os.environ.get("TCCVM_BENCH_COMMAND") or "python tests/benchmark/run_benchmark.py"]
                                     + list(sys.argv[1:] if argv is None else argv)),
        "host": platform.node() or "host",
        "machine": "%s, %d CPUs, Python %s, ansible-core %s" % (
            platform.platform(), os.cpu_count() or 0, platform.python_version(), _version("ansible-core")),
        "latency": args.latency,
        "tf_parallelism": args.tf_parallelism,
        "load_before": "%.2f" % os.getloadavg()[0],
    }
    errors = []
    rows, pairs, fleet_rows = [], None, []
    # SIGTERM: stop like Ctrl-C, so the finally clauses stop the emulators and ansible processes.
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="tccvm-bench-") as tmp:
        try:
            colls = collections_path(tmp)
            shim = make_shim(tmp)
            for n in args.sizes:
                log("N=%d: check mode, run, rerun (emulator: --generate-instances %d --operation-latency %g) ..." % (n, n, args.latency))
                try:
                    rows.append(run_size(n, args, tmp, colls, shim))
                    print_rows(rows[-1:])
                except BenchError as exc:
                    errors.append("N=%d: %s" % (n, exc))
                    log("error: N=%d: %s" % (n, exc))
            if args.fleet:
                ctx = {"RUNS": RUNS, "BenchError": BenchError, "latency": args.latency, "tmp": tmp, "colls": colls}
                try:
                    fleet_rows = bench_fleet.run_fleet(ctx, args.fleet, args.fleet_forks, args.fleet_compare, log=log)
                except BenchError as exc:
                    errors.append("fleet: %s" % exc)
                    log("error: fleet: %s" % exc)
            if args.pairs:
                log("Per-task overhead: %d alternating pairs of ping and the module with nothing to change ..." % args.pairs)
                try:
                    pairs = run_pairs(args.pairs, tmp, colls)
                    log("  module %.3f s, ping %.3f s (medians); median ratio %.3fx" % (pairs["median_module"], pairs["median_ping"], pairs["median_ratio"]))
                except BenchError as exc:
                    errors.append("overhead pairs: %s" % exc)
                    log("error: overhead pairs: %s" % exc)
        except KeyboardInterrupt:
            RUNS.stop_all()
            log("interrupted")
            return 130
        finally:
            RUNS.stop_all()
    meta["load_after"] = "%.2f" % os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    loads = [r["apply"]["load"] for r in rows] + [float(meta["load_before"]), float(meta["load_after"])]
    if max(loads) > cpus + 1:  # the benchmark itself keeps about one CPU busy (module, emulator, ansible)
        meta["busy"] = ("the machine was busy (load average up to %.1f on %d CPUs): other processes competed for the CPUs, "
                        "so times are inflated and throttling more likely; compare with a run on a quiet machine." % (max(loads), cpus))
        log("warning: " + meta["busy"])
    targets = evaluate(rows, pairs)
    text = markdown(rows, pairs, targets, meta) if rows or pairs else "# Benchmark results\n\nRun on %s (%s); %s.\n" % (
        meta["date"], meta["host"], meta["command"])
    if fleet_rows:
        text += "\n" + bench_fleet.markdown(fleet_rows, args.latency)
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows, "pairs": pairs, "targets": targets, "fleet": fleet_rows},
                                                 indent=1))
    made_chart = bool(rows) and chart(rows, out / "chart.png")
    log("")
    log(text)
    log("Written: %s%s" % (out / "results.md", (", " + str(out / "chart.png")) if made_chart else ""))
    if errors:
        log("\nErrors:\n  " + "\n  ".join(e.splitlines()[0] for e in errors))
        return 1
    return 0


def _interrupt(signum, frame):  # pylint: disable=unused-argument
    raise KeyboardInterrupt


def _version(dist):
    try:
        from importlib.metadata import version  # pylint: disable=import-outside-toplevel
        return version(dist)
    except Exception:  # pylint: disable=broad-except
        return "?"


if __name__ == "__main__":
    sys.exit(main())
