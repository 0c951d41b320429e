# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the binding layer, binding and unbinding key pairs on instances.

Owns planning, grouping writes, applying them and tracking their operations;
it reads instances only through _lookup.
May import: _ids, _errors, _client and _lookup (and the standard library); never _base or a module.

The flow is read -> plan -> (unless check mode) apply -> wait -> verify.
Planning is pure and shared by check mode and real runs, so the preview
cannot differ from what a run does. Applying is pipelined: each write is
tracked as soon as it returns, and polling reads for finished writes run
while later writes still wait for the rate limiter.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait as wait_futures

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _errors, _lookup
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._ids import chunked

ASSOCIATE = "AssociateInstancesKeyPairs"
DISASSOCIATE = "DisassociateInstancesKeyPairs"

# States in which the API refuses key changes whatever ForceStop says.
UNCHANGEABLE_STATES = frozenset(["SHUTDOWN", "TERMINATING", "LAUNCH_FAILED", "ISOLATING", "FREEZING", "BANNING"])
WRITE_WORKERS = 4

# Refusals that say the request was stale rather than wrong (the sibling Lighthouse API's codes; CVM may use them too):
# the module settles them by reading what the instances have, never reports them as failures.
SETTLED_BY_READING = frozenset(["UnsupportedOperation.KeyPairBindDuplicate", "UnsupportedOperation.KeyPairNotBoundToInstance"])
# How often one planned write may be sent again after an ambiguous or stale answer (each time after a re-read).
MAX_RESENDS = 4


def is_ambiguous(error):
    """A failure after which the write may or may not have taken effect: InternalError, 5xx, dropped connection, timeout."""
    return _errors.retry_class(error.code) == _errors.TRANSIENT


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


def plan_instance(instance, key_ids, state, exclusive, full_sets=False):
    """The minimal change for one instance: present adds what is missing (and with exclusive drops the rest); absent drops what is there.

    full_sets: the API was seen to replace an instance's keys on bind, so a bind sends the whole set the instance must end with.
    """
    current = set(instance.key_ids)
    wanted = set(key_ids)
    if state == "present":
        missing = wanted - current
        if missing and full_sets:
            missing = wanted if exclusive else current | wanted
        return InstancePlan(instance, missing, current - wanted if exclusive else ())
    return InstancePlan(instance, (), current & wanted)


def plan_unbinds(views, key_ids, state, exclusive):
    """The unbinds still needed, planned from what the instances have now (after the binds): exclusive drops the keys
    not in key_ids, absent drops those in it. Under replace semantics a bind already dropped the old keys, so none is sent for them."""
    wanted = set(key_ids)
    plans = []
    for view in views:
        current = set(view.key_ids)
        to_unbind = current - wanted if state == "present" and exclusive else current & wanted if state == "absent" else ()
        plans.append(InstancePlan(view, (), to_unbind))
    return plans


def replaced_keys(plan, view):
    """Keys the instance lost in a bind although the plan did not unbind them: the sign of replace semantics."""
    return set(plan.before) - set(plan.to_unbind) - set(view.key_ids)


def repair_plan(plan, view):
    """After a bind replaced keys: bind the whole set the instance must have (its keys now, the lost ones, the planned ones)."""
    full = (set(view.key_ids) | set(plan.before) | set(plan.to_bind)) - set(plan.to_unbind)
    return InstancePlan(view, full, ())


class Write:
    """One Associate or Disassociate call: at most 100 instances and 100 keys.

    full_set: a bind of the whole key set (replace semantics); resending it never drops keys the instances already have.
    """

    __slots__ = ("action", "instance_ids", "key_ids", "force_stop", "full_set")

    def __init__(self, action, instance_ids, key_ids, force_stop, full_set=False):
        self.action = action
        self.instance_ids = tuple(instance_ids)
        self.key_ids = tuple(key_ids)
        self.force_stop = force_stop
        self.full_set = full_set

    def goal_reached(self, view):
        """Whether this write's change shows on the instance (bind: all its keys are there; unbind: none of them is)."""
        keys = set(view.key_ids)
        if self.action == ASSOCIATE:
            return keys.issuperset(self.key_ids)
        return not keys.intersection(self.key_ids)

    def still_needed(self, view):
        """The keys this write must still send for one instance, judged from what it has now."""
        keys = set(view.key_ids)
        if self.action == ASSOCIATE:
            return tuple(self.key_ids) if self.full_set and not self.goal_reached(view) else tuple(sorted(set(self.key_ids) - keys))
        return tuple(sorted(set(self.key_ids) & keys))

    def params(self):
        params = {"InstanceIds": list(self.instance_ids), "KeyIds": list(self.key_ids)}
        if self.force_stop:
            params["ForceStop"] = True
        return params


def group_writes(plans, force_stop, full_sets=False):
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
                    writes.append(Write(action, tuple(i.instance_id for i in instances), tuple(key_chunk), needs_force,
                                        full_sets and action == ASSOCIATE))
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


def preflight_refusal(problems, windows_advice="", not_stopped_subject="These instances need a change but are not STOPPED"):
    """The one wording, for every module, of what blocked_instances found; None when nothing blocks the writes.

    windows_advice: a sentence after the Windows instances (with its leading space); not_stopped_subject: the words before them.
    """
    messages = []
    if "windows" in problems:
        messages.append("Windows instances do not support SSH key pairs: %s.%s" % (", ".join(problems["windows"]), windows_advice))
    if "unchangeable" in problems:
        messages.append("These instances cannot be changed in their state: %s." % ", ".join(problems["unchangeable"]))
    if "not_stopped" in problems:
        messages.append("%s: %s. Set force_stop: true to let the API stop them (running ones are started again), or stop them first."
                        % (not_stopped_subject, ", ".join(problems["not_stopped"])))
    if not messages:
        return None
    return " ".join(messages) + " Nothing was changed."


class Outcome:
    """What applying a plan did: request ids, final views, and what failed or is still pending."""

    def __init__(self):
        self.request_ids = []
        self.final = {}            # instance_id -> InstanceView read after its operation finished
        self.failed = {}           # instance_id -> {"request_id", "error_message"}
        self.pending = []          # instance ids still OPERATING at wait_timeout
        self.write_error = None    # CvmApiError that stopped the writes
        self.written = set()       # instance ids with at least one accepted write (or one that may have taken effect)
        self.poll_error = None     # the last CvmApiError of a polling read, reported if waiting times out
        self.resent = 0            # writes sent again after an ambiguous or stale answer (each after a re-read)

    def merge(self, other):
        self.request_ids.extend(other.request_ids)
        self.final.update(other.final)
        self.failed.update(other.failed)
        self.pending.extend(other.pending)
        self.write_error = self.write_error or other.write_error
        self.written.update(other.written)
        self.poll_error = other.poll_error or self.poll_error
        self.resent += other.resent

    def problems(self, wait_timeout, failed_subject="The operation failed"):
        """The one wording, for every module, of operations that failed or still ran at wait_timeout: a list of sentences."""
        problems = []
        if self.failed:
            problems.append("%s on %s." % (failed_subject, "; ".join("%s: %s" % (i, self.failed[i]["error_message"]) for i in sorted(self.failed))))
        if self.pending:
            problems.append("Still operating after wait_timeout=%ds: %s." % (wait_timeout, ", ".join(sorted(self.pending))))
            if self.poll_error:
                problems.append("The last status read failed: %s." % self.poll_error)
        return problems

    @property
    def stopped(self):
        """A write failed for good, an operation failed, or one is still running: the run goes no further."""
        return bool(self.write_error or self.failed or self.pending)


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
        """{instance_id: InstanceView} for those of instance_ids that exist (read through _lookup, 100 per call, concurrently)."""
        return _lookup.find_instance_views(self.api, instance_ids=instance_ids)

    def missing_key_ids(self, key_ids):
        """Key IDs that DescribeKeyPairs does not know, in the order given."""
        known = {pair["key_id"] for pair in _lookup.find_key_pairs(self.api, key_ids=key_ids)}
        return [k for k in key_ids if k not in known]

    # -- applying --------------------------------------------------------
    def apply(self, steps, wait, wait_timeout, restart_ids=frozenset(), views=None):
        """Send each step's writes; between steps, and at the end when `wait`, wait for the operations.

        restart_ids: instances that were RUNNING before a ForceStop, which must be RUNNING again when done.
        views: {instance_id: InstanceView} read before the writes; the operation each shows is the one the write's must be newer than.
        """
        outcome = Outcome()
        baselines = {i: v.operation_request_id for i, v in (views or {}).items()}
        steps = [s for s in steps if s]
        for index, writes in enumerate(steps):
            last = index == len(steps) - 1
            self._run_step(writes, outcome, wait or not last, wait_timeout, restart_ids, baselines)
            if outcome.stopped:
                break
            baselines.update((i, v.operation_request_id) for i, v in outcome.final.items())
        return outcome

    def _run_step(self, writes, outcome, wait, wait_timeout, restart_ids, baselines):
        tracker = _OperationTracker(self, wait_timeout, restart_ids, baselines)
        with ThreadPoolExecutor(max_workers=WRITE_WORKERS) as pool:
            running = {pool.submit(self._send, w, baselines, outcome): w for w in writes}
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
            sent = future.result()
        except CvmApiError as exc:
            if outcome.write_error is None:
                outcome.write_error = exc
            return
        for accepted, request_id in sent:
            if request_id:
                outcome.request_ids.append(request_id)
            outcome.written.update(accepted.instance_ids)
            tracker.track(accepted, request_id, self._clock())

    def _send(self, write, baselines, outcome):
        """Send one planned write; return [(Write, RequestId or None)] to follow, or raise CvmApiError when it fails for good.

        An ambiguous failure (the write may have taken effect) is never resent blindly, and a duplicate or not-bound
        refusal is not a failure: both are settled by re-reading the instances. Those that show the change, or an
        operation newer than the one seen before the write, are followed (RequestId unknown); only the rest is sent again,
        with just the keys each still needs.
        """
        sent = []
        queue = [write]
        resends = 0
        while queue:
            current = queue.pop(0)
            try:
                response = self.api.call(current.action, current.params(), retry_ambiguous=False)
            except CvmApiError as exc:
                if not (is_ambiguous(exc) or exc.code in SETTLED_BY_READING) or resends >= MAX_RESENDS:
                    raise
                resends += 1
                if exc.code in SETTLED_BY_READING:
                    # A duplicate refusal proves binds add here (under replace nothing is a duplicate): resend only what is missing.
                    current = Write(current.action, current.instance_ids, current.key_ids, current.force_stop)
                views = self.read_instances(current.instance_ids)
                took_effect, redo = self._settle_by_reading(current, views, baselines)
                if took_effect:
                    sent.append((Write(current.action, took_effect, current.key_ids, current.force_stop, current.full_set), None))
                queue.extend(redo)
                continue
            sent.append((current, response.get("RequestId")))
        outcome.resent += resends
        return sent

    @staticmethod
    def _settle_by_reading(write, views, baselines):
        """Split a write's instances into those where it (may have) taken effect, and writes for those where it has not."""
        took_effect = []
        redo = {}
        for instance_id in write.instance_ids:
            view = views.get(instance_id)
            if view is None:
                continue  # gone meanwhile: nothing to send; the run's verification reports it
            newer = view.operation_request_id and view.operation_request_id != baselines.get(instance_id)
            if write.goal_reached(view) or view.operation_state == "OPERATING" or newer:
                took_effect.append(instance_id)
                continue
            keys = write.still_needed(view)
            if keys:
                redo.setdefault(keys, []).append(instance_id)
        writes = [Write(write.action, chunk, keys, write.force_stop, write.full_set)
                  for keys, ids in sorted(redo.items()) for chunk in chunked(ids)]
        return tuple(took_effect), writes

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
    __slots__ = ("write", "request_id", "baseline", "sent_at", "deadline", "next_poll", "interval")

    def __init__(self, write, request_id, baseline, sent_at, deadline, first_delay):
        self.write = write
        self.request_id = request_id  # None when the answer was lost
        self.baseline = baseline  # LatestOperationRequestId seen before the write (None: none seen)
        self.sent_at = sent_at
        self.deadline = deadline
        self.next_poll = sent_at + first_delay
        self.interval = first_delay


class _OperationTracker:
    """Follows accepted writes until each instance's operation is over (or the deadline passes)."""

    def __init__(self, binder, wait_timeout, restart_ids, baselines):
        self.binder = binder
        self.wait_timeout = wait_timeout
        self.restart_ids = restart_ids
        self.baselines = baselines
        self.tracked = {}  # instance_id -> _Tracked

    @property
    def waiting(self):
        return bool(self.tracked)

    def track(self, write, request_id, now):
        for instance_id in write.instance_ids:
            self.tracked[instance_id] = _Tracked(write, request_id, self.baselines.get(instance_id), now, now + self.wait_timeout,
                                                 self.binder.first_poll_delay())

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
        """Whether the instance's part of the write is over: succeeded (in outcome.final) or failed (in outcome.failed).

        The write's own RequestId is the clearest sign, but no public source shows the API reports it, so it is not the
        only one. An operation newer than the one seen before the write that has finished settles it too: with the change
        there, it succeeded; without it, it failed, reported at once and naming that operation. Until something newer
        shows (the API lags, or shows null), the change being there and nothing running is enough.
        """
        seen = view.operation_request_id
        goal = tracked.write.goal_reached(view)
        if tracked.request_id and seen == tracked.request_id:
            if view.operation_state == "FAILED":
                outcome.failed[view.instance_id] = {"request_id": tracked.request_id, "error_message": view.operation_error or "operation failed"}
                return True
            if view.operation_state != "SUCCESS":
                return False
        elif view.operation_state == "OPERATING":
            return False  # the write's operation under another id, the restart after a ForceStop, or another client's
        elif seen and seen != tracked.baseline and view.operation_state in ("SUCCESS", "FAILED"):
            if not goal:
                outcome.failed[view.instance_id] = {
                    "request_id": tracked.request_id,
                    "error_message": "the change did not take effect: the latest operation is %s (%s, RequestId %s)%s" % (
                        view.operation or "unknown", view.operation_state, seen,
                        ": " + view.operation_error if view.operation_error else "")}
                return True
        elif not goal:
            return False  # nothing newer shows yet: the API lags (or shows null)
        if view.instance_id in self.restart_ids and view.state != "RUNNING":
            return False  # ForceStop restarts instances that were running: wait until they are back.
        outcome.final[view.instance_id] = view
        return True
