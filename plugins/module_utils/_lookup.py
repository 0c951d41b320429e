# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the lookups layer, batched, paged reads of instances and key pairs.

The only code that reads instances and key pairs (by ID, by filter, or every
page), concurrently; the key changes engine and every module read through it.
Layer 4 (lookups and credentials). May import: _ids, _errors, _shared_limiter, _client (and the standard library); never _key_changes or _base.

Everything here only reads. Input that cannot be looked up as given raises
LookupInputError (a ValueError whose message names the bad value and the fix)
before any request is sent; API failures raise the client's CvmApiError.

Batching and paging follow the API's documented limits: at most 100 IDs per
request, at most 10 filters of at most 5 values each, Limit at most 100 with
Offset paging until TotalCount. Pages after the first, and ID batches, are
read by a few threads at once; the client's rate limiter keeps them within
the per-action limits.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ansible_collections.tencentcloud.cvm.plugins.module_utils._ids import (  # noqa: F401 (unique: re-exported for other plugins)
    INSTANCE,
    KEY_PAIR,
    MAX_IDS_PER_CALL,
    chunked,
    unique,
)

if TYPE_CHECKING:  # for the annotations only: the lookups take any client with call() and region
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi

MAX_FILTERS = 10
MAX_FILTER_VALUES = 5
# Requests of one lookup in flight at once; the client's rate limiter keeps them within the per-action limits.
READ_WORKERS = 4

# The DescribeInstances filters the API documents (api.json), plus tag:<key>.
INSTANCE_FILTER_NAMES = (
    "creation-end-time",
    "creation-start-time",
    "dedicated-cluster-id",
    "host-id",
    "instance-charge-type",
    "instance-id",
    "instance-name",
    "instance-state",
    "ipv6-address",
    "private-ip-address",
    "project-id",
    "public-ip-address",
    "security-group-id",
    "subnet-id",
    "tag-key",
    "tag-value",
    "uuid",
    "vpc-id",
    "zone",
)


class LookupInputError(ValueError):
    """Input that cannot be looked up as given. The message says what is wrong and how to fix it; nothing was sent."""


class FilterError(LookupInputError):
    """Instance filters the API would refuse. `problems` holds one sentence per bad filter."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class KeyNameError(LookupInputError):
    """Key pair names that do not resolve to exactly one key pair.

    `unknown`: names no key pair has, in the order given; `ambiguous`: {name: [key ids]} for names several key pairs share.
    """

    def __init__(self, unknown: Iterable[str], ambiguous: Mapping[str, list[str]], region: str | None = None) -> None:
        self.unknown = list(unknown)
        self.ambiguous = dict(ambiguous)
        where = " in region %s" % region if region else ""
        parts = []
        if self.unknown:
            text = "Key pair names not found%s: %s." % (where, ", ".join(repr(n) for n in self.unknown))
            id_like = [n for n in self.unknown if KEY_PAIR.match(n)]
            if id_like:
                text += (
                    " %s looks like a key pair ID, not a name: give it as a key ID." % id_like[0]
                    if len(id_like) == 1
                    else " %s look like key pair IDs, not names: give them as key IDs." % ", ".join(id_like)
                )
            else:
                text += " Check the names (exact, case-sensitive) and the region."
            parts.append(text)
        if self.ambiguous:
            parts.append(
                "Key pair names shared by several key pairs%s: %s. Give the key pair IDs instead."
                % (where, "; ".join("%r (%s)" % (name, ", ".join(ids)) for name, ids in sorted(self.ambiguous.items())))
            )
        super().__init__(" ".join(parts))


# -- conversions ---------------------------------------------------------------------------------------------------


class InstanceView:
    """The parts of a DescribeInstances entry this collection uses, in plain names."""

    __slots__ = ("instance_id", "state", "os_name", "key_ids", "operation", "operation_state", "operation_request_id", "operation_error")

    def __init__(self, data: Mapping[str, Any]) -> None:
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
    def is_windows(self) -> bool:
        return "windows" in self.os_name.lower()


def key_pair_dict(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeKeyPairs / CreateKeyPair entry as a plain snake_case dict (never with a private key)."""
    return {
        "key_id": raw["KeyId"],
        "key_name": raw.get("KeyName"),
        "project_id": raw.get("ProjectId"),
        "description": raw.get("Description") or "",
        "public_key": raw.get("PublicKey"),
        "associated_instance_ids": sorted(raw.get("AssociatedInstanceIds") or ()),
        "created_time": raw.get("CreatedTime"),
        "tags": {tag.get("Key"): tag.get("Value") for tag in raw.get("Tags") or ()},
    }


def _filter_name_problem(option, name, known):
    if not isinstance(name, str) or not name.strip():
        return "%s has an empty filter name %r: use names like 'zone' or 'tag:env'." % (option, name)
    if name.startswith("tag:"):
        if len(name) == 4:
            return "%s has the filter 'tag:' without a tag key: write 'tag:<key>', like 'tag:env'." % option
        return None
    if name in known:
        return None
    text = "%s has an unknown filter %r." % (option, name)
    import difflib  # pylint: disable=import-outside-toplevel  # only on this error path: it costs every module start-up several milliseconds otherwise

    guesses = difflib.get_close_matches(name.replace("_", "-").lower(), known, n=1, cutoff=0.6)
    if guesses:
        text += " Did you mean %r?" % guesses[0]
    return text + " Known filters: %s, tag:<key>." % ", ".join(known)


def _filter_values(option, name, value):
    """Return (values as strings, problem or None)."""
    label = "%s[%r]" % (option, name)
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values or value is None:
        return [], "%s has no value: give a value or a list of at most %d values." % (label, MAX_FILTER_VALUES)
    texts = []
    for item in values:
        if isinstance(item, bool):
            return [], (
                "%s has the boolean %s: YAML reads an unquoted yes/no/true/false as a boolean; quote the value (like 'yes') to match the text." % (label, item)
            )
        if isinstance(item, (str, int)) and not isinstance(item, bool) and str(item) != "":
            texts.append(str(item))
        else:
            return [], "%s has the value %r: each value must be a non-empty string or an integer." % (label, item)
    texts = unique(texts)
    if len(texts) > MAX_FILTER_VALUES:
        return [], (
            "%s has %d values: the API allows at most %d per filter. Split them over several runs, or select the "
            "instances by something they share, like a tag." % (label, len(texts), MAX_FILTER_VALUES)
        )
    return texts, None


def filters_to_api(filters: object, known: Sequence[str] = INSTANCE_FILTER_NAMES, option: str = "instance_filters") -> list[dict[str, Any]]:
    """Turn {"tag:env": "prod", "zone": ["ap-guangzhou-3", ...]} into the API's Filters list, sorted by name.

    Values are strings or integers, one or a list of at most 5 (ORed); filters (at most 10) are ANDed by the API.
    Raises FilterError naming every bad filter; `option` is the option name the messages use.
    """
    if not isinstance(filters, dict):
        raise FilterError(
            ["%s must be a mapping of filter name to value(s), like {'tag:env': 'prod', 'zone': 'ap-guangzhou-3'}; got %s." % (option, type(filters).__name__)]
        )
    if not filters:
        raise FilterError(["%s is empty: give at least one filter, like {'tag:env': 'prod'}, or leave the option out." % option])
    problems = []
    if len(filters) > MAX_FILTERS:
        problems.append("%s has %d filters: the API allows at most %d." % (option, len(filters), MAX_FILTERS))
    api_filters = []
    for name in sorted(filters, key=str):
        problem = _filter_name_problem(option, name, known)
        values, value_problem = _filter_values(option, name, filters[name])
        problems.extend(p for p in (problem, value_problem) if p)
        if not problem and not value_problem:
            api_filters.append({"Name": name, "Values": values})
    if problems:
        raise FilterError(problems)
    return api_filters


# -- requests ------------------------------------------------------------------------------------------------------


def _map(func, items):
    """func over items, concurrently when there is more than one; results in order; the first exception propagates."""
    items = list(items)
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(items))) as pool:
        return list(pool.map(func, items))


def _paged(api, action, params, set_name):
    """Every entry of a Describe action: the first page, then the remaining pages (by TotalCount) concurrently."""
    first = api.call(action, dict(params, Offset=0, Limit=MAX_IDS_PER_CALL), resend_safe=True)  # a read: safe to resend
    items = list(first.get(set_name) or ())
    total = first.get("TotalCount") or 0
    step = len(items)  # the page size the API actually used
    if step and total > step:

        def page(offset):
            return api.call(action, dict(params, Offset=offset, Limit=MAX_IDS_PER_CALL), resend_safe=True).get(set_name) or ()

        for entries in _map(page, range(step, total, step)):
            items.extend(entries)
    return items


def _unique_by(items, field):
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(item[field], item)
    return [seen[k] for k in sorted(seen)]


def _check_ids(values, kind):
    bad = kind.malformed(values)
    if bad:
        raise LookupInputError(kind.malformed_message("Malformed %s IDs" % kind.name, bad))


def find_key_pairs(api: CvmApi, key_ids: Iterable[str] | None = None, key_names: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Key pairs of the region as plain dicts (see key_pair_dict), sorted by key_id, each once.

    key_ids: DescribeKeyPairs by KeyIds, 100 per request. key_names: by the key-name filter, 5 names per request,
    keeping only exact name matches. Both given: the key pairs matching either. Neither given (both None): every
    key pair of the region. An empty list selects nothing. IDs and names that match nothing are simply absent.
    """
    if key_ids is None and key_names is None:
        return [key_pair_dict(k) for k in _unique_by(_paged(api, "DescribeKeyPairs", {}, "KeyPairSet"), "KeyId")]
    key_ids = unique(key_ids or ())
    key_names = unique(key_names or ())
    _check_ids(key_ids, KEY_PAIR)
    bad_names = [n for n in key_names if not isinstance(n, str) or not n]
    if bad_names:
        raise LookupInputError("Key pair names must be non-empty strings, got %s." % ", ".join(repr(n) for n in bad_names))
    requests = [{"KeyIds": list(batch)} for batch in chunked(key_ids)]
    requests += [{"Filters": [{"Name": "key-name", "Values": list(batch)}]} for batch in chunked(key_names, MAX_FILTER_VALUES)]
    found = []
    for params, entries in zip(requests, _map(lambda p: _paged(api, "DescribeKeyPairs", p, "KeyPairSet"), requests)):
        if "Filters" in params:
            # Only exact matches: the API may match names more loosely than equality.
            wanted = set(params["Filters"][0]["Values"])
            entries = [e for e in entries if e.get("KeyName") in wanted]
        found.extend(entries)
    return [key_pair_dict(k) for k in _unique_by(found, "KeyId")]


def resolve_key_names(api: CvmApi, names: Iterable[str] | None) -> dict[str, str]:
    """{name: key_id} for key pair names; raises KeyNameError listing unknown and ambiguous names (nothing is written here)."""
    names = unique(names or ())
    pairs = find_key_pairs(api, key_names=names)
    by_name: dict[str, list[str]] = {}
    for pair in pairs:
        by_name.setdefault(pair["key_name"], []).append(pair["key_id"])
    unknown = [n for n in names if n not in by_name]
    ambiguous = {n: sorted(ids) for n, ids in by_name.items() if len(ids) > 1}
    if unknown or ambiguous:
        raise KeyNameError(unknown, ambiguous, getattr(api, "region", None))
    return {n: by_name[n][0] for n in names}


def find_instances(api: CvmApi, instance_ids: Iterable[str] | None = None, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Raw DescribeInstances entries (the API's CamelCase dicts), sorted by InstanceId, each once.

    instance_ids: by ID, 100 per request (unknown IDs are simply absent from the result; an empty list selects
    nothing). filters: a dict for filters_to_api, every page of the matches. Neither: every instance of the
    region. Both: LookupInputError (the API cannot combine them). Wrap entries in
    InstanceView (or use find_instance_views) for the key changes engine.
    """
    if instance_ids is not None and filters is not None:
        raise LookupInputError("Give instance IDs or instance filters, not both: the API cannot combine them.")
    if instance_ids is not None:
        instance_ids = unique(instance_ids)
        _check_ids(instance_ids, INSTANCE)
        pages = _map(lambda batch: _paged(api, "DescribeInstances", {"InstanceIds": list(batch)}, "InstanceSet"), chunked(instance_ids))
        found = [item for page in pages for item in page]
    elif filters is not None:
        found = _paged(api, "DescribeInstances", {"Filters": filters_to_api(filters)}, "InstanceSet")
    else:
        found = _paged(api, "DescribeInstances", {}, "InstanceSet")
    return _unique_by(found, "InstanceId")


def instance_pages(api: CvmApi, filters: Mapping[str, Any] | None = None) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Every page of DescribeInstances, one at a time, as (raw entries, that page's TotalCount); filters as for find_instances.

    For a caller that must not hold a whole fleet at once (the event source over thousands of instances): each page is
    read only when the caller asks for the next one, never ahead, so the caller can also space the requests. Instances
    that come or go between two pages shift the offsets: compare the pages' TotalCount to know whether the read is whole.
    """
    params = {"Filters": filters_to_api(filters)} if filters is not None else {}
    offset = 0
    while True:
        page = api.call("DescribeInstances", dict(params, Offset=offset, Limit=MAX_IDS_PER_CALL), resend_safe=True)
        entries = list(page.get("InstanceSet") or ())
        total = page.get("TotalCount") or 0
        yield entries, total
        offset += len(entries)
        if not entries or offset >= total:
            return


def find_instance_views(api: CvmApi, instance_ids: Iterable[str] | None = None, filters: Mapping[str, Any] | None = None) -> dict[str, InstanceView]:
    """Like find_instances, as {instance_id: InstanceView}."""
    return {item["InstanceId"]: InstanceView(item) for item in find_instances(api, instance_ids, filters)}
