# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: what the event source tencentcloud.cvm.cvm_instances sees change between two polls.

Pure: no request, no clock, no logging. A RegionTracker holds one region's last poll as small WatchedInstance records and
turns the next poll into events (the format is in the event source's documentation and the user guide, "Keep keys
right continuously"). A KeyPolicy says which key IDs an instance must have and may have.
May import: the standard library only.
"""

from __future__ import annotations

# The changes an event can name, in the order they are listed in it.
APPEARED = "appeared"  # not seen by the previous poll (after the first)
EXISTING = "existing"  # seen by the first poll, reported because start_with asks for it
STATE = "state"  # InstanceState differs from the previous poll
KEYS = "keys"  # LoginSettings.KeyIds differs from the previous poll
POLICY = "policy"  # the key set is off policy, and was not (or differently) so before
GONE = "gone"  # seen by the previous poll, absent from a whole poll (terminated)
CHANGE_ORDER = (APPEARED, EXISTING, STATE, KEYS, POLICY, GONE)

# What start_with may say the first poll reports (besides remembering everything).
START_CHANGES = "changes"  # nothing: only what changes afterwards
START_VIOLATIONS = "violations"  # the instances whose keys are off policy
START_ALL = "all"  # every instance
START_CHOICES = (START_CHANGES, START_VIOLATIONS, START_ALL)

# The API can change keys only of a Linux instance that is running or stopped; in any other state (launching, stopping,
# being terminated) a policy check would only report what no one can repair yet. It is checked once the state settles.
POLICY_STATES = ("RUNNING", "STOPPED")


class WatchedInstance:
    """The parts of a DescribeInstances entry the event source compares and reports; small, because a fleet has thousands."""

    __slots__ = ("instance_id", "region", "state", "key_ids", "tags", "name", "os_name")

    def __init__(self, instance_id, region, state, key_ids=(), tags=(), name="", os_name=""):
        self.instance_id = instance_id
        self.region = region
        self.state = state
        self.key_ids = tuple(sorted(key_ids))
        self.tags = tuple(sorted(tags))  # (key, value) pairs
        self.name = name
        self.os_name = os_name

    @classmethod
    def from_api(cls, raw, region):
        login = raw.get("LoginSettings") or {}
        tags = ((tag.get("Key"), tag.get("Value")) for tag in raw.get("Tags") or ())
        return cls(
            raw["InstanceId"], region, raw.get("InstanceState") or "", login.get("KeyIds") or (), tags, raw.get("InstanceName") or "", raw.get("OsName") or ""
        )

    @property
    def is_windows(self):
        return "windows" in self.os_name.lower()

    def __eq__(self, other):
        return isinstance(other, WatchedInstance) and all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __hash__(self):
        return hash(self.instance_id)

    def __repr__(self):
        return "WatchedInstance(%s, %s, %s, %s)" % (self.instance_id, self.region, self.state, list(self.key_ids))


class KeyPolicy:
    """required: key IDs every instance must have; allowed: key IDs it may have besides them (None: any other key)."""

    def __init__(self, required=(), allowed=None):
        self.required = tuple(sorted(set(required)))
        self.allowed = None if allowed is None else tuple(sorted(set(allowed) | set(self.required)))

    @property
    def active(self):
        return bool(self.required) or self.allowed is not None

    def applies_to(self, record):
        return self.active and not record.is_windows and record.state in POLICY_STATES

    def check(self, record):
        """{"compliant", "missing_key_ids", "unexpected_key_ids", "required_key_ids", "allowed_key_ids"} for one instance."""
        have = set(record.key_ids)
        missing = sorted(set(self.required) - have)
        unexpected = [] if self.allowed is None else sorted(have - set(self.allowed))
        return {
            "compliant": not missing and not unexpected,
            "missing_key_ids": missing,
            "unexpected_key_ids": unexpected,
            "required_key_ids": list(self.required),
            "allowed_key_ids": None if self.allowed is None else list(self.allowed),
        }


def instance_event(record, changes, previous=None, policy=None):
    """The event for one instance: {"cvm_instance": {...}} (documented in the event source)."""
    return {
        "cvm_instance": {
            "instance_id": record.instance_id,
            "region": record.region,
            "instance_name": record.name,
            "state": record.state,
            "key_ids": list(record.key_ids),
            "tags": dict(record.tags),
            "os_name": record.os_name,
            "changes": [change for change in CHANGE_ORDER if change in changes],
            "previous": None if previous is None else {"state": previous.state, "key_ids": list(previous.key_ids)},
            "policy": policy,
        }
    }


class RegionTracker:
    """One region's last poll; update() turns the next one into the events it calls for.

    A policy violation is reported when it starts, and again only when what is missing or unexpected changes, not at
    every poll while it lasts (so a repair that cannot happen, such as a running instance without force_stop, does not
    trigger a run at every poll). An instance absent from a poll that was not whole (the fleet changed while it was
    read) is kept as it was, never reported gone.
    """

    def __init__(self, region, policy, start_with=START_CHANGES):
        if start_with not in START_CHOICES:
            raise ValueError("start_with must be one of %s, got %r." % (", ".join(START_CHOICES), start_with))
        self.region = region
        self.policy = policy
        self.start_with = start_with
        self.records = None  # {instance_id: WatchedInstance} of the last poll; None before the first
        self._violations = {}  # instance_id -> (missing, unexpected) last reported

    @property
    def started(self):
        return self.records is not None

    def update(self, records, complete=True):
        """records: every WatchedInstance the poll read (any order, duplicates allowed); complete: the poll saw the whole fleet.

        Returns the events, sorted by instance ID (gone ones last).
        """
        first = self.records is None
        previous = self.records or {}
        current = {}
        for record in records:
            current[record.instance_id] = record
        events = [event for event in (self._event(current[i], previous.get(i), first) for i in sorted(current)) if event]
        gone = sorted(set(previous) - set(current))
        if complete:
            for instance_id in gone:
                self._violations.pop(instance_id, None)
                events.append(instance_event(previous[instance_id], (GONE,), previous=previous[instance_id]))
        else:
            for instance_id in gone:
                current[instance_id] = previous[instance_id]
        self.records = current
        return events

    def _event(self, record, before, first):
        changes = set()
        if first:
            if self.start_with == START_ALL:
                changes.add(EXISTING)
        elif before is None:
            changes.add(APPEARED)
        else:
            if record.state != before.state:
                changes.add(STATE)
            if record.key_ids != before.key_ids:
                changes.add(KEYS)
        policy = self._policy_change(record, first, changes)
        if first and self.start_with == START_VIOLATIONS and POLICY in changes:
            changes.add(EXISTING)
        if not changes:
            return None
        return instance_event(record, changes, previous=before, policy=policy)

    def _policy_change(self, record, first, changes):
        """The policy check for the event (None when no policy applies); adds POLICY to changes when a violation is new."""
        if not self.policy.applies_to(record):
            self._violations.pop(record.instance_id, None)
            return None
        result = self.policy.check(record)
        if result["compliant"]:
            self._violations.pop(record.instance_id, None)
            return result
        signature = (tuple(result["missing_key_ids"]), tuple(result["unexpected_key_ids"]))
        if self._violations.get(record.instance_id) != signature:
            self._violations[record.instance_id] = signature
            if not (first and self.start_with == START_CHANGES):
                changes.add(POLICY)
        return result
