# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the event source tencentcloud.cvm.cvm_instances, without its asyncio shell.

Its arguments are the modules' connection options (_credentials.connection_argument_spec, documented by the
tencentcloud.cvm.connection doc fragment: an option added there reaches the source too) plus its own (SOURCE_SPEC),
checked by ansible-core's ArgumentSpecValidator (through _credentials.validate_options) and the client's own checks before
any request. Each region gets an API client from the connection builder the modules use (_credentials.build_clients:
credentials chain, shared rate limit, api_deadline, error wording) and is read page by page through
_lookup.instance_pages, at most read_rate pages a second, into its RegionTracker. A region whose read fails gives an
error event, waits (doubling up to MAX_BACKOFF) and is read again; the other regions go on.
Every string of an event comes from the API (names, tags, an error's text) and ansible-rulebook hands the event to a
playbook as extra vars, which Ansible trusts and renders as templates: safe_event breaks each template marker ({{, {%, {#)
in it and lists where in `defused_fields`, so no event can run anything on the controller.
May import: module_utils (_client, _credentials, _ids, _lookup, _text; never _base, which is for modules) and _instance_changes;
the standard library.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.errors import UnsupportedError

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _lookup
from ansible_collections.tencentcloud.cvm.plugins.module_utils._ids import KEY_PAIR
from ansible_collections.tencentcloud.cvm.plugins.module_utils._text import defuse_template, has_template_marker, printable
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._instance_changes import (
    START_CHANGES,
    START_CHOICES,
    WatchedInstance,
    KeyPolicy,
    RegionTracker,
)

# The source's own options (DOCUMENTATION of extensions/eda/plugins/event_source/cvm_instances.py says what they mean).
SOURCE_SPEC: dict[str, dict[str, Any]] = dict(
    regions=dict(type="list", elements="str"),
    filters=dict(type="dict"),
    interval=dict(type="int", default=60),
    read_rate=dict(type="int", default=10),
    start_with=dict(type="str", default=START_CHANGES, choices=list(START_CHOICES)),
    required_keys=dict(type="list", elements="str", default=[]),
    allowed_keys=dict(type="list", elements="str"),
)
# ansible-rulebook adds this argument itself when a rulebook asks for feedback; it is not an option.
RULEBOOK_ARGS = ("eda_feedback_queue",)
# The documented limit of DescribeInstances (requests per second per region): read_rate can use at most all of it.
MAX_READ_RATE = _client.RATE_LIMITS["DescribeInstances"]
# The longest wait after failures before a region is read again (or interval, when that is longer).
MAX_BACKOFF = 600
MAX_REGION_WORKERS = 8
SECRET_MASK = "********"

log = logging.getLogger("tencentcloud.cvm.cvm_instances")


class SourceArgumentError(ValueError):
    """The source's arguments are unusable; the message names each bad value and the fix (never a secret). Nothing was sent."""


def argument_spec():
    spec = _credentials.connection_argument_spec()
    spec.update(SOURCE_SPEC)
    return spec


def _masked(text, secrets):
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, SECRET_MASK)
    return text


def _key_problems(option, values):
    """Sentences for entries of required_keys / allowed_keys that are neither a key pair ID nor a name."""
    values = list(values or ())
    problems = []
    if any(not value.strip() for value in values):
        problems.append("%s has an empty entry: give key pair IDs like %s, or key pair names." % (option, KEY_PAIR.example))
    id_like = [value for value in values if value.startswith(KEY_PAIR.prefix + "-") and not KEY_PAIR.match(value)]
    if id_like:
        problems.append(KEY_PAIR.malformed_message("Malformed key pair IDs in %s" % option, id_like))
    return problems


def _validation_message(error, spec, args):
    """ansible-core's message for one validation error, as a sentence; unknown options are named with a guess."""
    if isinstance(error, UnsupportedError):
        import difflib  # pylint: disable=import-outside-toplevel  # only on this error path

        known = sorted(spec)
        hints = [
            "%r (did you mean %r?)" % (name, guess[0]) if guess else repr(name)
            for name, guess in ((name, difflib.get_close_matches(name, known, n=1)) for name in sorted(set(map(str, args)) - set(spec)))
        ]
        return "Unknown options of tencentcloud.cvm.cvm_instances: %s. Known options: %s." % (", ".join(hints), ", ".join(known))
    text = str(error.msg).strip()
    return text if text.endswith(".") else text + "."


def parse_arguments(args):
    """The checked settings (a dict of every option) from the rulebook's source arguments; raises SourceArgumentError."""
    args = {name: value for name, value in dict(args or {}).items() if name not in RULEBOOK_ARGS}
    spec = argument_spec()
    result, refusals = _credentials.validate_options(spec, args)
    secrets = set(result._no_log_values)  # pylint: disable=protected-access  # the values no message may show
    if result.error_messages or refusals:  # (result.errors, an exception object, is true even when empty)
        raise SourceArgumentError(_masked(" ".join(refusals + [_validation_message(error, spec, args) for error in result.errors]), secrets))
    settings = result.validated_parameters
    problems = []
    interval_problem = _client.seconds_problem("interval", settings["interval"])
    if interval_problem:
        problems.append(interval_problem)
    if not 1 <= settings["read_rate"] <= MAX_READ_RATE:
        problems.append("read_rate must be from 1 to %d (DescribeInstances' documented limit per region), got %r." % (MAX_READ_RATE, settings["read_rate"]))
    region = settings["region"] or _credentials.profile_region(settings["profile"])
    regions = settings["regions"] or ([region] if region else [])
    if not regions:
        problems.append("regions is required: set the option regions (a list), or region or the environment variable TENCENTCLOUD_REGION, e.g. ap-guangzhou.")
    settings["regions"] = _lookup.unique(regions)
    try:
        for region in settings["regions"]:  # the clients' own checks, before any credential is looked up
            _client.check_settings(
                region,
                settings["endpoint"],
                settings["request_timeout"],
                settings["api_deadline"],
                settings["ca_bundle"],
                settings["rate_limit_url"],
                settings["rate_limit_ca_bundle"],
            )
    except _client.SettingsError as exc:
        problems.append(str(exc))
    if settings["filters"]:
        try:
            _lookup.filters_to_api(settings["filters"], option="filters")
        except _lookup.LookupInputError as exc:
            problems.append(str(exc))
    settings["filters"] = settings["filters"] or None
    problems += _key_problems("required_keys", settings["required_keys"]) + _key_problems("allowed_keys", settings["allowed_keys"])
    if problems:
        raise SourceArgumentError(_masked(" ".join(problems), secrets))
    settings["_secrets"] = secrets
    return settings


def connect(settings, warn):
    """{region: CvmApi}, built as the modules build theirs; raises SourceArgumentError for unusable settings."""
    if not _client.HAS_SDK:
        raise SourceArgumentError("The event source needs the Python packages %s: pip install them where ansible-rulebook runs." % _client.SDK_REQUIREMENT)
    try:
        # One identity for every region: the chain's, or the role it assumes (renewed before it expires).
        return _credentials.build_clients(settings, settings["regions"], warn=warn)
    except _client.SettingsError as exc:
        raise SourceArgumentError(_masked(str(exc), settings["_secrets"])) from None


def _split_keys(values):
    values = _lookup.unique(values or ())
    return [v for v in values if KEY_PAIR.match(v)], [v for v in values if not KEY_PAIR.match(v)]


def _defused(value, path, found):
    """`value` with every template marker of every string (keys too) broken; the path of each changed one goes into `found`."""
    if isinstance(value, str):
        if has_template_marker(value):
            found.append(path)
            return defuse_template(value)
        return value
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            marked = has_template_marker(key)
            key = defuse_template(key)
            here = "%s.%s" % (path, key) if path else str(key)
            if marked:
                found.append(here)
            result[key] = _defused(item, here, found)
        return result
    if isinstance(value, (list, tuple)):
        return [_defused(item, "%s[%d]" % (path, index), found) for index, item in enumerate(value)]
    return value


def safe_event(event):
    """The event with no template marker left in any string ({{ -> '{ {'); its one top-level payload gets `defused_fields`,
    the fields that held one (empty when none did), so a rule can tell."""
    ((kind, payload),) = event.items()
    found: list[str] = []
    payload = _defused(payload, "", found)
    payload["defused_fields"] = found
    return {kind: payload}


def error_event(region, error, retry_in):
    """{"cvm_instances_error": {...}}: a region's read failed; it is read again in retry_in seconds."""
    if isinstance(error, _client.CvmApiError):
        return {
            "cvm_instances_error": {
                "region": region.api.region,
                "code": error.code,
                "action": error.action,
                "request_id": error.request_id,
                "message": error.describe("read the instances of region %s" % region.api.region, region.api.region, region.api.endpoint_url),
                "retry_in": retry_in,
            }
        }
    # Not an API failure (a bug, an answer of an unexpected shape): named by its type only; its text could quote anything.
    return {
        "cvm_instances_error": {
            "region": region.api.region,
            "code": type(error).__name__,
            "action": "DescribeInstances",
            "request_id": None,
            "message": "Failed to read the instances of region %s: %s (unexpected; the source goes on)." % (region.api.region, type(error).__name__),
            "retry_in": retry_in,
        }
    }


class RegionWatch:
    """One region: its client, its tracker (made once the key names are resolved), when it is due and how often it failed."""

    def __init__(self, api, settings, clock):
        self.api = api
        self.settings = settings
        self.clock = clock
        self.pacer = _client.RateLimiter(settings["read_rate"])
        self.tracker = None
        self.next_at = clock()
        self.failures = 0
        self.requests = 0  # pages read, for the log

    def _policy(self):
        required_ids, required_names = _split_keys(self.settings["required_keys"])
        allowed = self.settings["allowed_keys"]
        allowed_ids, allowed_names = _split_keys(allowed)
        names = _lookup.resolve_key_names(self.api, required_names + allowed_names) if required_names or allowed_names else {}
        return KeyPolicy(required_ids + [names[n] for n in required_names], None if allowed is None else allowed_ids + [names[n] for n in allowed_names])

    def read(self):
        """(every WatchedInstance of the region, whether the read was whole): page by page, never more than one page held."""
        records: list[WatchedInstance] = []
        totals = set()
        pages = _lookup.instance_pages(self.api, self.settings["filters"])
        while True:
            slot = self.pacer.acquire()
            try:
                entries, total = next(pages)
            except StopIteration:
                break
            finally:
                self.pacer.release(slot)
            self.requests += 1
            totals.add(total)
            records.extend(WatchedInstance.from_api(raw, self.api.region) for raw in entries)
        complete = len(totals) <= 1 and len({r.instance_id for r in records}) == (totals.pop() if totals else 0)
        return records, complete

    def poll(self):
        """The events of one poll of this region; an error event (and a backoff) when the read fails."""
        started = self.clock()
        try:
            if self.tracker is None:
                self.tracker = RegionTracker(self.api.region, self._policy(), self.settings["start_with"])
            records, complete = self.read()
            events = [safe_event(event) for event in self.tracker.update(records, complete)]
        except _lookup.KeyNameError:
            raise  # bad input, not a passing failure: the source stops with the message
        except Exception as error:  # pylint: disable=broad-except  # any failure of one poll: report, back off, go on
            self.failures += 1
            interval = self.settings["interval"]
            retry_in = int(_client.exponential_delay(interval, max(interval, MAX_BACKOFF), self.failures))
            self.next_at = self.clock() + retry_in
            event = safe_event(error_event(self, error, retry_in))
            log.warning("%s Retrying in %d s.", printable(event["cvm_instances_error"]["message"]), retry_in)
            return [event]
        self.failures = 0
        self.next_at = started + self.settings["interval"]
        log.info("region %s: %d instances%s, %d events", self.api.region, len(records), "" if complete else " (the fleet changed while read)", len(events))
        return events


class FleetWatch:
    """Every region of the source; poll_due() polls those whose time has come (concurrently) and returns their events."""

    def __init__(self, settings, apis, clock=time.monotonic):
        self.settings = settings
        self.clock = clock
        self.regions = [RegionWatch(apis[region], settings, clock) for region in settings["regions"]]

    @classmethod
    def from_arguments(cls, args, warn=log.warning):
        settings = parse_arguments(args)
        return cls(settings, connect(settings, warn))

    def poll_due(self):
        now = self.clock()
        due = [region for region in self.regions if region.next_at <= now]
        if len(due) <= 1:
            return [event for region in due for event in region.poll()]
        with ThreadPoolExecutor(max_workers=min(MAX_REGION_WORKERS, len(due))) as pool:
            return [event for events in pool.map(lambda region: region.poll(), due) for event in events]

    def seconds_until_due(self):
        return max(0.0, min(region.next_at for region in self.regions) - self.clock())
