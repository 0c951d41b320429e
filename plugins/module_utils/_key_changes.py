# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the key changes engine, the one owner of binding and unbinding key pairs on instances.

Layer 5 (key changes). May import: _ids, _errors, _shared_limiter, _client, _lookup (and the standard library); never _base or a module.

converge_bindings() runs the whole workflow for one BindingGoal and returns one BindingOutcome:
read the instances (through _lookup) -> plan -> preflight -> (unless check mode)
apply -> track -> verify -> repair what a replacing bind dropped -> re-plan
instances another client changed meanwhile, at most MAX_ROUNDS rounds.
Callers (cvm_keypair_association, cvm_keypair's unbind before a delete) map
their options to a BindingGoal and the BindingOutcome to their result; none keeps a loop or
a write call of its own. Failure and Stop are the scaffold both engines share (the key pair engine imports them).

Planning is pure and shared by check mode and real runs, so the preview
cannot differ from what a run does. Applying is pipelined: each write is
tracked as soon as it returns, and polling reads for finished writes run
while later writes still wait for the rate limiter; the polls back off from
FIRST_POLL (learning the operations' latency did not pay for itself at 10,000
instances: docs/architecture.md, "Weighing the engine"). No write is resent
blindly: an ambiguous answer is settled by reading the instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait as wait_futures
from typing import Any

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _errors, _lookup
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi, CvmApiError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._ids import chunked, unique

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
# A run re-plans for instances whose verification failed (another client changed them meanwhile) at most this often.
MAX_ROUNDS = 3


def is_ambiguous(error: CvmApiError) -> bool:
    """A failure after which the write may or may not have taken effect: InternalError, 5xx, dropped connection, timeout."""
    return _errors.retry_class(error.code) == _errors.TRANSIENT


class InstancePlan:
    """What one instance has, and what must be bound and unbound to reach the goal."""

    __slots__ = ("instance", "before", "to_bind", "to_unbind")

    def __init__(self, instance: _lookup.InstanceView, to_bind: Iterable[str], to_unbind: Iterable[str]) -> None:
        self.instance = instance
        self.before = instance.key_ids
        self.to_bind = tuple(sorted(to_bind))
        self.to_unbind = tuple(sorted(to_unbind))

    @property
    def instance_id(self) -> str:
        return self.instance.instance_id

    @property
    def needs_change(self) -> bool:
        """Whether anything must be bound or unbound on this instance."""
        return bool(self.to_bind or self.to_unbind)

    @property
    def after(self) -> tuple[str, ...]:
        """The keys the instance has once the plan is carried out."""
        return tuple(sorted((set(self.before) - set(self.to_unbind)) | set(self.to_bind)))


def plan_instance(instance: _lookup.InstanceView, key_ids: Iterable[str], state: str, exclusive: bool, bind_full_sets: bool = False) -> InstancePlan:
    """The minimal change for one instance: present adds what is missing (and with exclusive drops the rest); absent drops what is there.

    bind_full_sets: the API was seen to replace an instance's keys on bind, so a bind sends the whole set the instance must end with.
    """
    current = set(instance.key_ids)
    wanted = set(key_ids)
    if state == "present":
        missing = wanted - current
        if missing and bind_full_sets:
            missing = wanted if exclusive else current | wanted
        return InstancePlan(instance, missing, current - wanted if exclusive else ())
    return InstancePlan(instance, (), current & wanted)


def plan_unbinds(views: Iterable[_lookup.InstanceView], key_ids: Iterable[str], state: str, exclusive: bool) -> list[InstancePlan]:
    """The unbinds still needed, planned from what the instances have now (after the binds): exclusive drops the keys
    not in key_ids, absent drops those in it. Under replace semantics a bind already dropped the old keys, so none is sent for them."""
    wanted = set(key_ids)
    plans = []
    for view in views:
        current = set(view.key_ids)
        to_unbind = current - wanted if state == "present" and exclusive else current & wanted if state == "absent" else ()
        plans.append(InstancePlan(view, (), to_unbind))
    return plans


def replaced_keys(plan: InstancePlan, view: _lookup.InstanceView) -> set[str]:
    """Keys the instance lost in a bind although the plan did not unbind them: the sign of replace semantics."""
    return set(plan.before) - set(plan.to_unbind) - set(view.key_ids)


def repair_plan(plan: InstancePlan, view: _lookup.InstanceView) -> InstancePlan:
    """After a bind replaced keys: bind the whole set the instance must have (its keys now, the lost ones, the planned ones)."""
    full = (set(view.key_ids) | set(plan.before) | set(plan.to_bind)) - set(plan.to_unbind)
    return InstancePlan(view, full, ())


class Write:
    """One Associate or Disassociate call: at most 100 instances and 100 keys.

    bind_full_sets: a bind of the whole key set (replace semantics); resending it never drops keys the instances already have.
    """

    __slots__ = ("action", "instance_ids", "key_ids", "force_stop", "bind_full_sets")

    def __init__(self, action: str, instance_ids: Iterable[str], key_ids: Iterable[str], force_stop: bool, bind_full_sets: bool = False) -> None:
        self.action = action
        self.instance_ids = tuple(instance_ids)
        self.key_ids = tuple(key_ids)
        self.force_stop = force_stop
        self.bind_full_sets = bind_full_sets

    def goal_reached(self, view: _lookup.InstanceView) -> bool:
        """Whether this write's change shows on the instance (bind: all its keys are there; unbind: none of them is)."""
        keys = set(view.key_ids)
        if self.action == ASSOCIATE:
            return keys.issuperset(self.key_ids)
        return not keys.intersection(self.key_ids)

    def still_needed(self, view: _lookup.InstanceView) -> tuple[str, ...]:
        """The keys this write must still send for one instance, judged from what it has now."""
        keys = set(view.key_ids)
        if self.action == ASSOCIATE:
            return tuple(self.key_ids) if self.bind_full_sets and not self.goal_reached(view) else tuple(sorted(set(self.key_ids) - keys))
        return tuple(sorted(set(self.key_ids) & keys))

    def params(self) -> dict[str, Any]:
        """The request's parameters."""
        params: dict[str, Any] = {"InstanceIds": list(self.instance_ids), "KeyIds": list(self.key_ids)}
        if self.force_stop:
            params["ForceStop"] = True
        return params


def group_writes(plans: Iterable[InstancePlan], action: str, force_stop: bool, bind_full_sets: bool = False) -> list[Write]:
    """The writes of one action (ASSOCIATE: the plans' to_bind; DISASSOCIATE: their to_unbind), grouping instances that need
    the same change, so each distinct change costs ceil(n/100) calls of at most 100 instances and 100 keys."""
    attr = "to_bind" if action == ASSOCIATE else "to_unbind"
    groups: dict[tuple[str, ...], list[_lookup.InstanceView]] = {}
    for plan in plans:
        keys = getattr(plan, attr)
        if keys:
            groups.setdefault(keys, []).append(plan.instance)
    writes = []
    for keys in sorted(groups):
        for instances in chunked(sorted(groups[keys], key=lambda i: i.instance_id)):
            needs_force = force_stop and any(i.state != "STOPPED" for i in instances)
            for key_chunk in chunked(keys):
                writes.append(Write(action, tuple(i.instance_id for i in instances), tuple(key_chunk), needs_force, bind_full_sets and action == ASSOCIATE))
    return writes


def blocked_instances(plans: Iterable[InstancePlan], force_stop: bool) -> dict[str, list[str]]:
    """Instances that need a change the API would refuse; returned as {reason: [descriptions]}, empty when all is well."""
    problems: dict[str, list[str]] = {}
    for plan in plans:
        if not plan.needs_change:
            continue
        inst = plan.instance
        if inst.is_windows:
            problems.setdefault("windows", []).append("%s (%s)" % (inst.instance_id, inst.os_name))
        elif inst.state in UNCHANGEABLE_STATES:
            problems.setdefault("unchangeable", []).append("%s (%s)" % (inst.instance_id, inst.state))
        elif inst.state != "STOPPED" and not force_stop:
            problems.setdefault("not_stopped", []).append("%s (%s)" % (inst.instance_id, inst.state))
    return problems


def preflight_refusal(problems: dict[str, list[str]]) -> str | None:
    """The one wording of what blocked_instances found; None when nothing blocks the writes."""
    messages = []
    if "windows" in problems:
        messages.append("Windows instances do not support SSH key pairs: %s. Leave them out." % ", ".join(problems["windows"]))
    if "unchangeable" in problems:
        messages.append("These instances cannot be changed in their state: %s." % ", ".join(problems["unchangeable"]))
    if "not_stopped" in problems:
        messages.append(
            "These instances need a change but are not STOPPED: %s. Set force_stop: true to let the API stop them (running "
            "ones are started again), or stop them first." % ", ".join(problems["not_stopped"])
        )
    if not messages:
        return None
    return " ".join(messages) + " Nothing was changed."


class StepOutcome:
    """What one step (the writes of one action, and following them) did: request ids, final views, what failed or is pending."""

    def __init__(self) -> None:
        self.request_ids: list[str] = []
        self.final: dict[str, _lookup.InstanceView] = {}  # read after its operation finished
        self.failed: dict[str, dict[str, Any]] = {}  # instance_id -> {"request_id", "error_message"}
        self.pending: list[str] = []  # instance ids still OPERATING at wait_timeout
        self.write_error: CvmApiError | None = None  # what stopped the writes
        self.written: set[str] = set()  # instance ids with at least one accepted write (or one that may have taken effect)
        self.poll_error: CvmApiError | None = None  # the last failure of a polling read, reported if waiting times out

    def merge(self, other: StepOutcome) -> None:
        """Add what another step did to this one."""
        self.request_ids.extend(other.request_ids)
        self.final.update(other.final)
        self.failed.update(other.failed)
        self.pending.extend(other.pending)
        self.write_error = self.write_error or other.write_error
        self.written.update(other.written)
        self.poll_error = other.poll_error or self.poll_error

    def problems(self, wait_timeout: int) -> list[str]:
        """The one wording of operations that failed or still ran at wait_timeout: a list of sentences."""
        problems = []
        if self.failed:
            problems.append("The operation failed on %s." % ("; ".join("%s: %s" % (i, self.failed[i]["error_message"]) for i in sorted(self.failed))))
        if self.pending:
            problems.append("Still operating after wait_timeout=%ds: %s." % (wait_timeout, ", ".join(sorted(self.pending))))
            if self.poll_error:
                problems.append("The last status read failed: %s." % self.poll_error)
        return problems

    @property
    def stopped(self) -> bool:
        """A write failed for good, an operation failed, or one is still running: the run goes no further."""
        return bool(self.write_error or self.failed or self.pending)


class Binder:
    """Reads instances and applies grouped writes through a CvmApi, pipelining writes and polls."""

    # Polls of an operation: the first this long after its write was accepted, then each interval POLL_GROWTH times the
    # last, at most POLL_CAP.
    FIRST_POLL = 0.5
    POLL_GROWTH = 1.5
    POLL_CAP = 5.0

    def __init__(self, api: CvmApi, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.api = api
        self._clock = clock
        self._sleep = sleep

    # -- reading ---------------------------------------------------------
    def read_instances(self, instance_ids: Iterable[str]) -> dict[str, _lookup.InstanceView]:
        """{instance_id: InstanceView} for those of instance_ids that exist (read through _lookup, 100 per call, concurrently)."""
        return _lookup.find_instance_views(self.api, instance_ids=instance_ids)

    def missing_key_ids(self, key_ids: list[str]) -> list[str]:
        """Key IDs that DescribeKeyPairs does not know, in the order given."""
        known = {pair["key_id"] for pair in _lookup.find_key_pairs(self.api, key_ids=key_ids)}
        return [k for k in key_ids if k not in known]

    # -- applying --------------------------------------------------------
    def apply(
        self,
        writes: list[Write],
        wait: bool,
        wait_timeout: int,
        restart_ids: frozenset[str] = frozenset(),
        views: dict[str, _lookup.InstanceView] | None = None,
    ) -> StepOutcome:
        """Send the writes of one step; with `wait`, follow their operations until each is over (or wait_timeout passes).

        restart_ids: instances that were RUNNING before a ForceStop, which must be RUNNING again when done.
        views: {instance_id: InstanceView} read before the writes; the operation each shows is the one the write's must be newer than.
        """
        outcome = StepOutcome()
        baselines = {i: v.operation_request_id for i, v in (views or {}).items()}
        if writes:
            self._run_step(writes, outcome, wait, wait_timeout, restart_ids, baselines)
        return outcome

    def _run_step(self, writes, outcome, wait, wait_timeout, restart_ids, baselines):
        """Send the writes (WRITE_WORKERS at a time, as the rate limiter lets them through) and, with `wait`, poll the
        accepted ones meanwhile: polls of finished writes run while later writes still wait for the limiter, so only the
        last writes' operations are left to follow when the sending ends (measured: docs/architecture.md, "Weighing the
        engine"). The first write that fails for good stops the sending; what was accepted before it is still followed."""
        tracker = _OperationTracker(self, wait_timeout, restart_ids, baselines)
        with ThreadPoolExecutor(max_workers=WRITE_WORKERS) as pool:
            running = {pool.submit(self._send, w, baselines): w for w in writes}
            while running or (wait and tracker.waiting):
                timeout = tracker.seconds_to_next_poll(self._clock()) if wait else None
                if running:
                    done = wait_futures(running, timeout=timeout, return_when=FIRST_COMPLETED).done
                    for future in done:
                        running.pop(future)
                        self._record_write(future, outcome, tracker)
                    if outcome.write_error:
                        for future in running:
                            future.cancel()
                        running = {f: w for f, w in running.items() if not f.cancelled()}
                elif timeout:
                    self._sleep(timeout)
                if wait:
                    tracker.poll_due(self._clock(), outcome)

    def _record_write(self, future, outcome, tracker):
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

    def _send(self, write, baselines):
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
                response = self.api.call(current.action, current.params(), resend_safe=False)
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
                    sent.append((Write(current.action, took_effect, current.key_ids, current.force_stop, current.bind_full_sets), None))
                queue.extend(redo)
                continue
            sent.append((current, response.get("RequestId")))
        return sent

    @staticmethod
    def _settle_by_reading(write, views, baselines):
        """Split a write's instances into those where it (may have) taken effect, and writes for those where it has not."""
        took_effect = []
        redo: dict[tuple[str, ...], list[str]] = {}
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
        writes = [Write(write.action, chunk, keys, write.force_stop, write.bind_full_sets) for keys, ids in sorted(redo.items()) for chunk in chunked(ids)]
        return tuple(took_effect), writes


class _Tracked:
    __slots__ = ("write", "request_id", "baseline", "deadline", "next_poll", "interval")

    def __init__(self, write, request_id, baseline, sent_at, deadline, first_delay):
        self.write = write
        self.request_id = request_id  # None when the answer was lost
        self.baseline = baseline  # LatestOperationRequestId seen before the write (None: none seen)
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
            self.tracked[instance_id] = _Tracked(write, request_id, self.baselines.get(instance_id), now, now + self.wait_timeout, self.binder.FIRST_POLL)

    def seconds_to_next_poll(self, now):
        if not self.tracked:
            return None
        return max(0.0, min(t.next_poll for t in self.tracked.values()) - now)

    def poll_due(self, now, outcome):
        """Read the instances whose next poll is due and settle each one that finished."""
        due = sorted(i for i, t in self.tracked.items() if t.next_poll <= now)
        if not due:
            return
        try:
            views = self.binder.read_instances(due)
        except CvmApiError as exc:
            # A poll that fails even after its retries is not the operation failing: look again later, until the deadline.
            views = {}
            outcome.poll_error = exc
        now = self.binder._clock()  # pylint: disable=protected-access  # the binder's clock, shared by its tracker
        for instance_id in due:
            self._settle(instance_id, views.get(instance_id), now, outcome)

    def _settle(self, instance_id, view, now, outcome):
        tracked = self.tracked[instance_id]
        if view is not None and self._finished(tracked, view, outcome):
            del self.tracked[instance_id]
            return
        if now >= tracked.deadline:
            del self.tracked[instance_id]
            outcome.pending.append(instance_id)
            return
        tracked.interval = min(self.binder.POLL_CAP, tracked.interval * self.binder.POLL_GROWTH)
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
                    "error_message": "the change did not take effect: the latest operation is %s (%s, RequestId %s)%s"
                    % (view.operation or "unknown", view.operation_state, seen, ": " + view.operation_error if view.operation_error else ""),
                }
                return True
        elif not goal:
            return False  # nothing newer shows yet: the API lags (or shows null)
        if view.instance_id in self.restart_ids and view.state != "RUNNING":
            return False  # ForceStop restarts instances that were running: wait until they are back.
        outcome.final[view.instance_id] = view
        return True


# -- the engine: one goal in, one outcome out ------------------------------------------------------------------------


class BindingGoal:
    """What a run must reach, on which instances, and how it may get there.

    instance_ids: instances to work on. must_exist: those the user listed must exist (a missing one refuses the run before
    any write); False for instances the caller found itself (a key pair's bound instances), which are skipped when gone,
    since an instance that no longer exists holds no key. instance_filters: DescribeInstances filters selecting more.
    key_ids, state, exclusive: present binds key_ids (exclusive: and unbinds every other key), absent unbinds them.
    bind_full_sets: every bind sends the whole key set an instance must end with. force_stop, wait, wait_timeout: as the options.
    """

    def __init__(
        self,
        key_ids: Iterable[str],
        instance_ids: Iterable[str] = (),
        instance_filters: dict[str, Any] | None = None,
        must_exist: bool = True,
        state: str = "present",
        exclusive: bool = False,
        bind_full_sets: bool = False,
        force_stop: bool = False,
        wait: bool = True,
        wait_timeout: int = 360,
    ) -> None:
        self.key_ids = list(key_ids)
        self.instance_ids = list(instance_ids)
        self.instance_filters = instance_filters or None
        self.must_exist = must_exist
        self.state = state
        self.exclusive = exclusive
        self.bind_full_sets = bind_full_sets
        self.force_stop = force_stop
        self.wait = wait
        self.wait_timeout = wait_timeout

    def reached(self, key_ids: Iterable[str]) -> bool:
        """Whether an instance with these keys is where the goal wants it."""
        keys, wanted = set(key_ids), set(self.key_ids)
        if self.state == "absent":
            return not keys & wanted
        return keys == wanted if self.exclusive else keys >= wanted


# Failure kinds: what stopped a run, and so how its caller words it.
REFUSED = "refused"  # before any write: input the API would refuse, or that names what does not exist
READ_FAILED = "read_failed"  # a read failed for good (error, attempting)
WRITE_FAILED = "write_failed"  # a write failed for good (error); what was accepted before it was followed to the end
OPERATIONS = "operations"  # operations failed, or still ran at wait_timeout (message; extra: failed_instances, pending_instance_ids)
UNSETTLED = "unsettled"  # after MAX_ROUNDS, instances still did not have the goal's keys (another client kept changing them)


class Failure:
    """Why a run stopped: its kind, the sentence(s) saying it (none for an API error: the caller words that with
    CvmApiError.describe), the error and what was being attempted, and extra result fields."""

    def __init__(
        self, kind: str, message: str | None = None, error: CvmApiError | None = None, attempting: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.kind = kind
        self.message = message
        self.error = error
        self.attempting = attempting
        self.extra = extra or {}


class Stop(Exception):
    """Raised inside a run (of this engine or the key pair engine) to end it with a Failure; the run's converge catches it."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


class BindingOutcome:
    """What a run did, for the caller to report: the first plans (their `before` is what each instance had), the keys each
    instance has after the run (read back, or expected when not read), what was written, the RequestIds, the warnings to
    show, and the Failure that stopped the run (None when it reached the goal)."""

    def __init__(self, check_mode: bool) -> None:
        self.check_mode = check_mode
        self.plans: dict[str, InstancePlan] = {}  # the first round's
        self.final: dict[str, tuple[str, ...]] = {}  # key ids after the run
        self.verified: set[str] = set()  # instance ids whose `final` was read back from the API
        self.written: set[str] = set()  # instance ids with at least one accepted write (or one that may have taken effect)
        self.request_ids: list[str] = []  # of the accepted writes, in the order they were accepted
        self.warnings: list[str] = []
        self.failure: Failure | None = None

    def changed_ids(self) -> set[str]:
        """Instances whose keys are known to differ from what they had, or that were written but could not be re-read."""
        if self.check_mode:
            return {i for i, p in self.plans.items() if p.needs_change}
        return {i for i in self.written if i not in self.verified or tuple(self.final[i]) != tuple(self.plans[i].before)}

    def keys_after(self, instance_id: str) -> list[str]:
        """The keys the instance has after the run (what it had, when the run did not change it)."""
        return list(self.final.get(instance_id, self.plans[instance_id].before))


def converge_bindings(api: CvmApi, goal: BindingGoal, check_mode: bool = False) -> BindingOutcome:
    """Run the whole workflow for `goal` through `api` and return its BindingOutcome; never raises for API failures."""
    return _BindingRun(api, goal, check_mode).run()


class _BindingRun:
    """One converge_bindings() call: read -> plan -> preflight -> apply -> track -> verify -> repair -> re-plan, rounds bounded."""

    def __init__(self, api, goal, check_mode):
        self.api = api
        self.goal = goal
        self.binder = Binder(api)
        self.outcome = BindingOutcome(check_mode)
        # Send whole key sets in binds: asked for, or the API was seen to replace keys on bind (then for the rest of the run).
        self.bind_full_sets = goal.bind_full_sets

    def run(self):
        """Converge: rounds of plan, preflight, apply, track and verify; returns the outcome."""
        outcome = self.outcome
        try:
            plans = self.plan(self.select())
            outcome.plans = {p.instance_id: p for p in plans}
            if outcome.check_mode or not any(p.needs_change for p in plans):
                outcome.final = {p.instance_id: p.after for p in plans}
                return outcome
            for round_number in range(1, MAX_ROUNDS + 1):
                unverified = self.apply(plans)
                if not unverified:
                    break
                if round_number == MAX_ROUNDS:
                    raise Stop(
                        Failure(
                            UNSETTLED,
                            "Could not verify the keys of %s after %d rounds: another client keeps changing them. "
                            "Keys now: %s." % (", ".join(sorted(unverified)), MAX_ROUNDS, self.describe_keys(unverified)),
                        )
                    )
                # Another client changed these between our read and our write: plan again from what they have now.
                plans = [p for p in self.plan(self.read(sorted(unverified))) if p.needs_change]
        except Stop as stop:
            outcome.failure = stop.failure
        return outcome

    # -- read, plan, preflight -------------------------------------------------------------------------------------
    def select(self):
        """The listed instances and those the filters match; a listed one that is missing refuses the run if it must exist."""
        goal, region = self.goal, self.api.region
        views = self.read(goal.instance_ids) if goal.instance_ids else {}
        missing = [i for i in goal.instance_ids if i not in views]
        if missing and goal.must_exist:
            raise Stop(
                Failure(REFUSED, "Instances not found in region %s: %s. Check instance_ids and region; nothing was changed." % (region, ", ".join(missing)))
            )
        if goal.instance_filters:
            try:
                matched = _lookup.find_instance_views(self.api, filters=goal.instance_filters)
            except CvmApiError as exc:
                raise Stop(Failure(READ_FAILED, error=exc, attempting="find the instances matching instance_filters")) from None
            if not matched:
                self.outcome.warnings.append("instance_filters matched no instance in region %s: nothing to do for them." % region)
            views.update(matched)
        return views

    def read(self, instance_ids):
        try:
            return self.binder.read_instances(instance_ids)
        except CvmApiError as exc:
            raise Stop(Failure(READ_FAILED, error=exc, attempting="read the instances")) from None

    def plan(self, views):
        goal = self.goal
        plans = [plan_instance(views[i], goal.key_ids, goal.state, goal.exclusive, self.bind_full_sets) for i in sorted(views)]
        self.preflight(plans)
        return plans

    def preflight(self, plans):
        """Refuse, before any write, what the API would refuse for a whole batch."""
        refusal = preflight_refusal(blocked_instances(plans, self.goal.force_stop))
        if refusal:
            raise Stop(Failure(REFUSED, refusal))
        to_bind = unique(k for p in plans for k in p.to_bind)
        if to_bind:
            try:
                missing_keys = self.binder.missing_key_ids(to_bind)
            except CvmApiError as exc:
                raise Stop(Failure(READ_FAILED, error=exc, attempting="read the key pairs")) from None
            if missing_keys:
                raise Stop(
                    Failure(
                        REFUSED,
                        "Key pairs not found in region %s: %s. Check key_ids and region; nothing was changed." % (self.api.region, ", ".join(missing_keys)),
                    )
                )

    # -- apply, track, verify, repair ----------------------------------------------------------------------------------
    def apply(self, plans):
        """Bind, repair what a replacing bind dropped, then unbind what the instances still have that must go.

        Returns the instance ids whose result could not be verified (empty with wait=false: nothing is read back).
        """
        goal, outcome = self.goal, self.outcome
        changing = [p for p in plans if p.needs_change]
        views = {p.instance_id: p.instance for p in plans}
        step = StepOutcome()
        binds = [p for p in changing if p.to_bind]
        unbinding = any(p.to_unbind for p in changing)
        if binds:
            # Waiting is what shows whether the API replaced keys; skip it only when there is nothing a replace could drop.
            wait = goal.wait or unbinding or any(set(p.before) - set(p.to_unbind) for p in binds)
            step.merge(self.write(binds, ASSOCIATE, wait, views))
            if wait and not step.stopped:
                step.merge(self.repair_replaced(binds, step, views))
        if unbinding and not step.stopped:
            current = [views[p.instance_id] for p in changing]
            unbinds = [p for p in plan_unbinds(current, goal.key_ids, goal.state, goal.exclusive) if p.to_unbind]
            if unbinds:
                step.merge(self.write(unbinds, DISASSOCIATE, goal.wait, views))
        for plan in changing:
            view = step.final.get(plan.instance_id)
            if view is not None:
                outcome.final[plan.instance_id] = view.key_ids
                outcome.verified.add(plan.instance_id)
            elif not goal.wait and plan.instance_id in step.written:
                outcome.final[plan.instance_id] = plan.after  # accepted, not awaited: the expected keys
        if goal.wait or step.stopped:
            self.refresh([p.instance_id for p in changing if p.instance_id in step.written and p.instance_id not in step.final])
        self.check(step)
        if not goal.wait:
            return set()
        return {p.instance_id for p in changing if not goal.reached(outcome.final.get(p.instance_id, p.before))}

    def write(self, plans, action, wait, views):
        """Send one action's grouped writes for `plans` and follow them; `views` is updated with what the instances show after."""
        writes = group_writes(plans, action, self.goal.force_stop, self.bind_full_sets)
        restart_ids = frozenset(p.instance_id for p in plans if p.instance.state == "RUNNING")
        step = self.binder.apply(writes, wait, self.goal.wait_timeout, restart_ids, views)
        self.outcome.request_ids.extend(step.request_ids)
        self.outcome.written.update(step.written)
        views.update(step.final)
        return step

    def repair_replaced(self, binds, step, views):
        """When a bind dropped keys it was not asked to touch, the API replaces keys on bind: bind the full sets for those
        instances (one more write per batch), send full sets for the rest of the run, and say so once."""
        repairs = []
        lost = {}
        for plan in binds:
            view = step.final.get(plan.instance_id)
            if view is not None and replaced_keys(plan, view):
                lost[plan.instance_id] = replaced_keys(plan, view)
                repairs.append(repair_plan(plan, view))
        if not repairs:
            return StepOutcome()
        if not self.bind_full_sets:
            example = sorted(lost)[0]
            self.outcome.warnings.append(
                "AssociateInstancesKeyPairs replaced the key pairs of %d instance(s) instead of adding to them (for example %s lost %s, "
                "which it was not asked to unbind): on this API a bind sets an instance's whole key list. The module bound the full key "
                "sets again and sends full sets for the rest of this run." % (len(lost), example, ", ".join(sorted(lost[example])))
            )
        self.bind_full_sets = True
        return self.write(repairs, ASSOCIATE, True, views)

    def refresh(self, instance_ids):
        """Read what instances whose operation failed or timed out really have now, to report it truthfully."""
        if not instance_ids:
            return
        try:
            views = self.binder.read_instances(instance_ids)
        except CvmApiError:
            return  # reported as written but unverified
        for instance_id, view in views.items():
            self.outcome.final[instance_id] = view.key_ids
            self.outcome.verified.add(instance_id)

    def check(self, step):
        """Stop the run when a write failed for good, or an operation failed or still ran at wait_timeout."""
        extra = {}
        if step.failed:
            extra["failed_instances"] = [dict(instance_id=i, **step.failed[i]) for i in sorted(step.failed)]
        if step.pending:
            extra["pending_instance_ids"] = sorted(step.pending)
        if step.write_error:
            raise Stop(Failure(WRITE_FAILED, error=step.write_error, extra=extra))
        problems = step.problems(self.goal.wait_timeout)
        if problems:
            raise Stop(Failure(OPERATIONS, " ".join(problems), extra=extra))

    def describe_keys(self, instance_ids):
        return "; ".join("%s: [%s]" % (i, ", ".join(self.outcome.final.get(i, ()))) for i in sorted(instance_ids))
