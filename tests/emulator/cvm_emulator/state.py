# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""State: the World (credentials, regions, instances, key pairs, bindings) and its asynchronous operations
on a lazy clock that can be held.
May import: constants, helpers, resources.
"""

import copy
import time

from .constants import DEFAULT_REGION
from .helpers import base36, unique
from .resources import InstanceRecord, StateError, check_instance_keys, instance_defaults, load_credentials, load_instance, load_key_pair


class Operation:
    """An accepted asynchronous operation: timed steps that run lazily, in order, from its start time."""

    __slots__ = ("started", "steps", "next_step")

    def __init__(self, started, steps):
        self.started = started
        self.steps = steps  # [(seconds after start, callable)], in time order
        self.next_step = 0

    def advance(self, now):
        while self.next_step < len(self.steps) and self.started + self.steps[self.next_step][0] <= now:
            self.steps[self.next_step][1]()
            self.next_step += 1
        return self.next_step == len(self.steps)


class OperationClock:
    """Monotonic time that stands still while operations are held (config hold_operations)."""

    def __init__(self):
        self.held_since = None
        self.held_total = 0.0

    def now(self):
        base = self.held_since if self.held_since is not None else time.monotonic()
        return base - self.held_total

    @property
    def held(self):
        return self.held_since is not None

    def hold(self, on):
        if on and self.held_since is None:
            self.held_since = time.monotonic()
        elif not on and self.held_since is not None:
            self.held_total += time.monotonic() - self.held_since
            self.held_since = None


class StopLog:
    """When force-stopped instances were down (from STOPPING until RUNNING again), on the operations' clock.

    Intervals are recorded with their scheduled times when the operation starts, not when lazy time runs its steps, so
    the count of instances down at once does not depend on when the emulator was asked: it is the largest number of
    intervals that overlap (an interval ending when another begins does not overlap it).
    """

    def __init__(self):
        self.intervals = []  # (down from, up again, instance id)

    def record(self, instance_id, begin, end):
        self.intervals.append((begin, end, instance_id))

    def document(self, now):
        events = sorted([(end, -1) for begin, end, _id in self.intervals] + [(begin, 1) for begin, end, _id in self.intervals])
        down = most = 0
        for _time, step in events:  # at equal times an end (-1) sorts before a begin (+1)
            down += step
            most = max(most, down)
        return {"force_stopped": len(self.intervals), "max_stopped_at_once": most,
                "stopped_now": sorted(instance_id for begin, end, instance_id in self.intervals if begin <= now < end)}


class World:
    """Credentials, regions, instances and key pairs, with the running operations. Callers hold the lock."""

    def __init__(self):
        self.credentials = {}  # secret_id -> {"secret_key", "token"}
        self.regions = []
        self.instances = {}  # instance_id -> InstanceRecord, in a stable (insertion) order
        self.key_pairs = {}  # key_id -> KeyPairRecord
        self.bindings = {}  # key_id -> set of instance ids bound to it
        self.pending = set()  # ids of instances with an unfinished operation
        self.clock = OperationClock()
        self.lingering = {}  # key_id -> {instance_id: monotonic time until which the key still counts as in use}
        self.observer = None  # SSH mode (ssh_hosts.SshHosts): told about loads, state and key changes, removals
        self.stops = StopLog()

    # -- loading and dumping -----------------------------------------------------------------------------------------

    def load(self, document, default_credentials, default_regions):
        """Replace everything by a state document (see docs/emulator.md); raises StateError and then changes nothing."""
        if not isinstance(document, dict):
            raise StateError("a state document is a JSON object")
        unknown = set(document) - {"credentials", "regions", "instances", "key_pairs"}
        if unknown:
            raise StateError("unknown state document keys: %s" % ", ".join(sorted(unknown)))
        credentials = load_credentials(document["credentials"]) if "credentials" in document else dict(default_credentials)
        regions = list(document.get("regions") or default_regions)
        key_pairs = {}
        for raw in document.get("key_pairs") or []:
            pair = load_key_pair(raw)
            if pair.data["KeyId"] in key_pairs:
                raise StateError("duplicate key pair %s" % pair.data["KeyId"])
            key_pairs[pair.data["KeyId"]] = pair
        instances = {}
        for raw in document.get("instances") or []:
            instance = load_instance(raw, len(instances))
            if instance.instance_id in instances:
                raise StateError("duplicate instance %s" % instance.instance_id)
            check_instance_keys(instance, key_pairs)
            instances[instance.instance_id] = instance
        for resource in list(instances.values()) + list(key_pairs.values()):
            if resource.region not in regions:
                regions.append(resource.region)
        self.credentials, self.regions, self.instances, self.key_pairs = credentials, regions, instances, key_pairs
        self.pending = set()
        self.bindings = {}
        self.lingering = {}
        self.stops = StopLog()
        for instance in instances.values():
            for key_id in instance.key_ids:
                self.bindings.setdefault(key_id, set()).add(instance.instance_id)
        if self.observer is not None:
            self.observer.on_load(self)

    def dump(self):
        """The state document of the current state (credentials are left out: they hold secrets)."""
        self.advance()
        return {
            "regions": list(self.regions),
            "instances": [dict(self.instance_view(instance), Region=instance.region) for instance in self.instances.values()],
            "key_pairs": [dict(self.key_pair_view(pair), Region=pair.region) for pair in self.key_pairs.values()],
        }

    def add_generated_instances(self, count, region=DEFAULT_REGION):
        """Add `count` STOPPED Linux instances with deterministic IDs (ins- + base36 counter) for scale tests."""
        if region not in self.regions:
            self.regions.append(region)
        zones = [region + "-3", region + "-4", region + "-6"]
        counter = 0
        for number in range(1, count + 1):
            counter += 1
            while "ins-" + base36(counter).rjust(8, "0") in self.instances:
                counter += 1
            instance_id = "ins-" + base36(counter).rjust(8, "0")
            data = instance_defaults(instance_id, region, len(self.instances))
            data["InstanceName"] = "gen-%05d" % number
            data["Placement"]["Zone"] = zones[number % len(zones)]
            data["Tags"] = [{"Key": "bench", "Value": "true"}]
            self.instances[instance_id] = InstanceRecord(data, region)
        if self.observer is not None:
            self.observer.on_load(self)

    def add_instance(self, raw):
        """Add one instance given in the state document's format (as if launched elsewhere); raises StateError, then changes nothing."""
        instance = load_instance(raw, len(self.instances))
        if instance.instance_id in self.instances:
            raise StateError("instance %s already exists" % instance.instance_id)
        if instance.region not in self.regions:
            raise StateError("region %s is not a region of this emulator (%s)" % (instance.region, ", ".join(self.regions)))
        check_instance_keys(instance, self.key_pairs)
        self.instances[instance.instance_id] = instance
        for key_id in instance.key_ids:
            self.bindings.setdefault(key_id, set()).add(instance.instance_id)
        if self.observer is not None:
            self.observer.on_load(self)
        return instance

    # -- views -------------------------------------------------------------------------------------------------------

    def instance_view(self, instance):
        return copy.deepcopy(instance.data)

    def key_pair_view(self, pair):
        view = copy.deepcopy(pair.data)
        key_id = pair.data["KeyId"]
        view["AssociatedInstanceIds"] = sorted(set(self.bindings.get(key_id, ())) | set(self.lingering_instance_ids(key_id)))
        return view

    def lingering_instance_ids(self, key_id):
        """Instances a key was unbound from (or that were terminated) less than the key deletion lag ago."""
        now = time.monotonic()
        lingering = self.lingering.get(key_id) or {}
        for instance_id in [i for i, until in lingering.items() if until <= now]:
            del lingering[instance_id]
        return sorted(lingering)

    def linger(self, key_id, instance_id, seconds):
        if seconds > 0:
            self.lingering.setdefault(key_id, {})[instance_id] = time.monotonic() + seconds

    def terminate(self, instance_id, lag):
        """Remove an instance (as TerminateInstances would); its keys stay 'in use' for the deletion lag."""
        instance = self.instances.pop(instance_id)
        for key_id in instance.key_ids:
            self.bindings.get(key_id, set()).discard(instance_id)
            self.linger(key_id, instance_id, lag)
        self.pending.discard(instance_id)
        if self.observer is not None:
            self.observer.on_remove(instance_id)

    def state_changed(self, instance):
        if self.observer is not None:
            self.observer.on_state(instance)

    # -- operations --------------------------------------------------------------------------------------------------

    def advance(self):
        """Run every operation step that is due; cheap because only instances with an operation are visited."""
        if not self.pending:
            return
        now = self.clock.now()
        for instance_id in list(self.pending):
            instance = self.instances.get(instance_id)
            if instance is None or instance.operation is None or instance.operation.advance(now):
                if instance is not None:
                    instance.operation = None
                self.pending.discard(instance_id)

    def start_operation(self, instance, steps):
        """Start the timed steps; returns the operation's start time on the operations' clock."""
        instance.operation = Operation(self.clock.now(), steps)
        started = instance.operation.started
        self.pending.add(instance.instance_id)
        if instance.operation.advance(self.clock.now()):  # steps due at once (zero latency) run now
            instance.operation = None
            self.pending.discard(instance.instance_id)
        return started

    def operating_instance_ids(self):
        """Instances with a running operation, plus any loaded from a state document as OPERATING (stuck for good)."""
        self.advance()
        stuck = {instance_id for instance_id, instance in self.instances.items() if instance.data.get("LatestOperationState") == "OPERATING"}
        return sorted(self.pending | stuck)

    # -- key bindings ------------------------------------------------------------------------------------------------

    def set_instance_keys(self, instance, key_ids, deletion_lag=0.0):
        """Set an instance's KeyIds (null when none, as the real API) and keep the key pairs' view consistent.

        A key that goes keeps counting as in use by the instance for `deletion_lag` seconds (reading key_deletion_lag).
        """
        key_ids = [key_id for key_id in unique(key_ids) if key_id in self.key_pairs]  # a key deleted meanwhile is gone
        for key_id in instance.key_ids:
            self.bindings.get(key_id, set()).discard(instance.instance_id)
            if key_id not in key_ids:
                self.linger(key_id, instance.instance_id, deletion_lag)
        for key_id in key_ids:
            self.bindings.setdefault(key_id, set()).add(instance.instance_id)
            self.lingering.get(key_id, {}).pop(instance.instance_id, None)
        instance.data["LoginSettings"]["KeyIds"] = key_ids or None
        if self.observer is not None:
            self.observer.on_keys(instance)

    def bound_instance_ids(self, key_id):
        return sorted(self.bindings.get(key_id, ()))
