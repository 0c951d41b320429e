# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: binding and unbinding key pairs on instances.

The flow is read -> plan -> (unless check mode) apply -> wait -> verify.
Planning is pure and shared by check mode and real runs, so the preview
cannot differ from what a run does. Applying is pipelined: each write is
tracked as soon as it returns, and polling reads for finished writes run
while later writes still wait for the rate limiter.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait as wait_futures

from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError

ASSOCIATE = "AssociateInstancesKeyPairs"
DISASSOCIATE = "DisassociateInstancesKeyPairs"
MAX_IDS_PER_CALL = 100
INSTANCE_ID_RE = re.compile(r"^ins-[a-z0-9]{8}$")
KEY_ID_RE = re.compile(r"^skey-[a-z0-9]{8}$")

# States in which the API refuses key changes whatever ForceStop says.
UNCHANGEABLE_STATES = frozenset(["SHUTDOWN", "TERMINATING", "LAUNCH_FAILED", "ISOLATING", "FREEZING", "BANNING"])
WRITE_WORKERS = 4
READ_WORKERS = 4


def unique(values):
    """Drop duplicates, keep the first occurrence's order."""
    seen = set()
    return [v for v in values if not (v in seen or seen.add(v))]


def chunked(values, size=MAX_IDS_PER_CALL):
    values = list(values)
    return [values[i:i + size] for i in range(0, len(values), size)]


def malformed(values, pattern):
    return [v for v in values if not isinstance(v, str) or not pattern.match(v)]


ID_EXAMPLES = {INSTANCE_ID_RE: "ins-1e4r6y8i", KEY_ID_RE: "skey-4e5ty7i8"}


def malformed_message(subject, bad, pattern):
    """'<subject>: 'x', 'y'. An ID is ...': the one wording for malformed IDs, whichever option or lookup found them."""
    example = ID_EXAMPLES[pattern]
    return "%s: %s. An ID is '%s-' followed by 8 lowercase letters or digits, like %s." % (
        subject, ", ".join(repr(v) for v in bad), example.split("-", 1)[0], example)


class InstanceView:
    """The parts of a DescribeInstances entry this collection uses, in plain names."""

    __slots__ = ("instance_id", "state", "os_name", "key_ids", "operation", "operation_state", "operation_request_id", "operation_error")

    def __init__(self, data):
        self.instance_id = data["InstanceId"]
        self.state = data.get("InstanceState") or ""
        self.os_name = data.get("OsName") or ""
        login = data.get("LoginSettings") or {}
        self.key_ids = tuple(sorted(login.get("KeyIds") or ()))
        self.operation = data.get("LatestOperation")
        self.operation_state = data.get("LatestOperationState")
        self.operation_request_id = data.get("LatestOperationRequestId")
        self.operation_error = data.get("LatestOperationErrorMsg")

    @property
    def is_windows(self):
        return "windows" in self.os_name.lower()


class InstancePlan:
    """What one instance has, and what must be bound and unbound to reach the goal."""

    __slots__ = ("instance", "before", "to_bind", "to_unbind")

    def __init__(self, instance, to_bind, to_unbind):
        self.instance = instance
        self.before = instance.key_ids
        self.to_bind = tuple(sorted(to_bind))
        self.to_unbind = tuple(sorted(to_unbind))

    @property
    def instance_id(self):
        return self.instance.instance_id

    @property
    def changes(self):
        return bool(self.to_bind or self.to_unbind)

    @property
    def after(self):
        return tuple(sorted((set(self.before) - set(self.to_unbind)) | set(self.to_bind)))


def plan_instance(instance, key_ids, state, exclusive):
    """The minimal change for one instance: present adds what is missing (and with exclusive drops the rest); absent drops what is there."""
    current = set(instance.key_ids)
    wanted = set(key_ids)
    if state == "present":
        return InstancePlan(instance, wanted - current, current - wanted if exclusive else ())
    return InstancePlan(instance, (), current & wanted)


class Write:
    """One Associate or Disassociate call: at most 100 instances and 100 keys."""

    __slots__ = ("action", "instance_ids", "key_ids", "force_stop")

    def __init__(self, action, instance_ids, key_ids, force_stop):
        self.action = action
        self.instance_ids = instance_ids
        self.key_ids = key_ids
        self.force_stop = force_stop

    def params(self):
        params = {"InstanceIds": list(self.instance_ids), "KeyIds": list(self.key_ids)}
        if self.force_stop:
            params["ForceStop"] = True
        return params


def group_writes(plans, force_stop):
    """Group instances that need the same change, so each distinct change costs ceil(n/100) calls.

    Returns (binds, unbinds): binds go first, so an instance never passes
    through a moment with no key at all when keys are swapped.
    """
    steps = []
    for action, attr in ((ASSOCIATE, "to_bind"), (DISASSOCIATE, "to_unbind")):
        groups = {}
        for plan in plans:
            keys = getattr(plan, attr)
            if keys:
                groups.setdefault(keys, []).append(plan.instance)
        writes = []
        for keys in sorted(groups):
            for instances in chunked(sorted(groups[keys], key=lambda i: i.instance_id)):
                needs_force = force_stop and any(i.state != "STOPPED" for i in instances)
                for key_chunk in chunked(keys):
                    writes.append(Write(action, tuple(i.instance_id for i in instances), tuple(key_chunk), needs_force))
        steps.append(writes)
    return steps


def blocked_instances(plans, force_stop):
    """Instances that need a change the API would refuse; returned as {reason: [descriptions]}, empty when all is well."""
    problems = {}
    for plan in plans:
        if not plan.changes:
            continue
        inst = plan.instance
        if inst.is_windows:
            problems.setdefault("windows", []).append("%s (%s)" % (inst.instance_id, inst.os_name))
        elif inst.state in UNCHANGEABLE_STATES:
            problems.setdefault("unchangeable", []).append("%s (%s)" % (inst.instance_id, inst.state))
        elif inst.state != "STOPPED" and not force_stop:
            problems.setdefault("not_stopped", []).append("%s (%s)" % (inst.instance_id, inst.state))
    return problems


class Outcome:
    """What applying a plan did: request ids, final views, and what failed or is still pending."""

    def __init__(self):
        self.request_ids = []
        self.final = {}            # instance_id -> InstanceView read after its operation finished
        self.failed = {}           # instance_id -> {"request_id", "error_message"}
        self.pending = []          # instance ids still OPERATING at wait_timeout
        self.write_error = None    # CvmApiError that stopped the writes
        self.written = set()       # instance ids with at least one accepted write
        self.poll_error = None     # the last CvmApiError of a polling read, reported if waiting times out


class Binder:
    """Reads instances and applies grouped writes through a CvmApi, pipelining writes and polls."""

    FIRST_POLL = 0.5
    POLL_GROWTH = 1.5
    POLL_CAP = 5.0
    FINE_POLL = 0.25

    def __init__(self, api, clock=time.monotonic, sleep=time.sleep):
        self.api = api
        self._clock = clock
        self._sleep = sleep
        self._learned_latency = None

    # -- reading ---------------------------------------------------------
    def read_instances(self, instance_ids):
        """DescribeInstances in batches of 100, concurrently; returns {instance_id: InstanceView} for those that exist."""
        batches = chunked(instance_ids)
        if len(batches) == 1:
            return self._read_batch(batches[0])
        found = {}
        with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
            for views in pool.map(self._read_batch, batches):
                found.update(views)
        return found

    def _read_batch(self, ids):
        response = self.api.call("DescribeInstances", {"InstanceIds": list(ids), "Limit": MAX_IDS_PER_CALL})
        views = (InstanceView(item) for item in response.get("InstanceSet") or ())
        return {v.instance_id: v for v in views}

    def missing_key_ids(self, key_ids):
        """Key IDs that DescribeKeyPairs does not know, checked in batches of 100."""
        known = set()
        for batch in chunked(key_ids):
            response = self.api.call("DescribeKeyPairs", {"KeyIds": list(batch), "Limit": MAX_IDS_PER_CALL})
            known.update(k["KeyId"] for k in response.get("KeyPairSet") or ())
        return [k for k in key_ids if k not in known]

    # -- applying --------------------------------------------------------
    def apply(self, steps, wait, wait_timeout, restart_ids=frozenset()):
        """Send each step's writes; between steps, and at the end when `wait`, wait for the operations.

        restart_ids: instances that were RUNNING before a ForceStop, which must be RUNNING again when done.
        """
        outcome = Outcome()
        steps = [s for s in steps if s]
        for index, writes in enumerate(steps):
            last = index == len(steps) - 1
            self._run_step(writes, outcome, wait or not last, wait_timeout, restart_ids)
            if outcome.write_error or outcome.failed or outcome.pending:
                break
        return outcome

    def _run_step(self, writes, outcome, wait, wait_timeout, restart_ids):
        tracker = _OperationTracker(self, wait_timeout, restart_ids)
        with ThreadPoolExecutor(max_workers=WRITE_WORKERS) as pool:
            running = {pool.submit(self.api.call, w.action, w.params()): w for w in writes}
            while running or (wait and tracker.waiting):
                timeout = tracker.seconds_to_next_poll(self._clock()) if wait else None
                if running:
                    done = wait_futures(running, timeout=timeout, return_when=FIRST_COMPLETED).done
                    for future in done:
                        self._record_write(future, running.pop(future), outcome, tracker)
                    if outcome.write_error:
                        # Stop sending; what was already accepted is still followed to the end.
                        for future in running:
                            future.cancel()
                        running = {f: w for f, w in running.items() if not f.cancelled()}
                elif timeout:
                    self._sleep(timeout)
                if wait:
                    tracker.poll_due(self._clock(), outcome)

    def _record_write(self, future, write, outcome, tracker):
        try:
            response = future.result()
        except CvmApiError as exc:
            if outcome.write_error is None:
                outcome.write_error = exc
            return
        request_id = response.get("RequestId")
        outcome.request_ids.append(request_id)
        outcome.written.update(write.instance_ids)
        tracker.track(write, request_id, self._clock())

    def learn_latency(self, seconds):
        """Remember how long operations take, so later polls start when they are likely done."""
        if self._learned_latency is None or seconds < self._learned_latency:
            self._learned_latency = seconds

    def next_poll_interval(self, elapsed, previous):
        """Poll finely once an operation is expected to be over; until then (or with nothing learned yet), back off."""
        if self._learned_latency is not None and elapsed >= self._learned_latency * 0.9:
            return self.FINE_POLL
        return min(self.POLL_CAP, previous * self.POLL_GROWTH)

    def first_poll_delay(self):
        if self._learned_latency is None:
            return self.FIRST_POLL
        return max(self.FINE_POLL, self._learned_latency * 0.9)


class _Tracked:
    __slots__ = ("write", "request_id", "sent_at", "deadline", "next_poll", "interval")

    def __init__(self, write, request_id, sent_at, deadline, first_delay):
        self.write = write
        self.request_id = request_id
        self.sent_at = sent_at
        self.deadline = deadline
        self.next_poll = sent_at + first_delay
        self.interval = first_delay


class _OperationTracker:
    """Follows accepted writes until each instance's operation is over (or the deadline passes)."""

    def __init__(self, binder, wait_timeout, restart_ids):
        self.binder = binder
        self.wait_timeout = wait_timeout
        self.restart_ids = restart_ids
        self.tracked = {}  # instance_id -> _Tracked

    @property
    def waiting(self):
        return bool(self.tracked)

    def track(self, write, request_id, now):
        for instance_id in write.instance_ids:
            self.tracked[instance_id] = _Tracked(write, request_id, now, now + self.wait_timeout, self.binder.first_poll_delay())

    def seconds_to_next_poll(self, now):
        if not self.tracked:
            return None
        return max(0.0, min(t.next_poll for t in self.tracked.values()) - now)

    def poll_due(self, now, outcome):
        due = sorted(i for i, t in self.tracked.items() if t.next_poll <= now)
        if not due:
            return
        try:
            views = self.binder.read_instances(due)
        except CvmApiError as exc:
            # A poll that fails even after its retries is not the operation failing: look again later, until the deadline.
            views = {}
            outcome.poll_error = exc
        now = self.binder._clock()
        for instance_id in due:
            self._settle(instance_id, views.get(instance_id), now, outcome)

    def _settle(self, instance_id, view, now, outcome):
        tracked = self.tracked[instance_id]
        if view is not None and self._finished(tracked, view, outcome):
            del self.tracked[instance_id]
            self.binder.learn_latency(now - tracked.sent_at)
            return
        if now >= tracked.deadline:
            del self.tracked[instance_id]
            outcome.pending.append(instance_id)
            return
        tracked.interval = self.binder.next_poll_interval(now - tracked.sent_at, tracked.interval)
        tracked.next_poll = min(now + tracked.interval, tracked.deadline)

    def _finished(self, tracked, view, outcome):
        if view.operation_request_id == tracked.request_id:
            if view.operation_state == "FAILED":
                outcome.failed[view.instance_id] = {"request_id": tracked.request_id, "error_message": view.operation_error or "operation failed"}
                return True
            if view.operation_state != "SUCCESS":
                return False
        elif view.operation_state == "OPERATING" or not self._goal_reached(tracked.write, view):
            # Still showing an earlier operation (the API lags), or another client's: keep looking.
            return False
        if view.instance_id in self.restart_ids and view.state != "RUNNING":
            return False  # ForceStop restarts instances that were running: wait until they are back.
        outcome.final[view.instance_id] = view
        return True

    @staticmethod
    def _goal_reached(write, view):
        keys = set(view.key_ids)
        if write.action == ASSOCIATE:
            return keys.issuperset(write.key_ids)
        return not keys.intersection(write.key_ids)
