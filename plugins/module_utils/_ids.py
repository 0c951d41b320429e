# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the IDs layer, the bottom of module_utils.

Owns what an ID looks like (one IdKind record per kind: prefix, pattern,
example), the wording for malformed IDs, and the list helpers every layer
uses (unique, chunked by the API's 100 per call).

Layer 1 (IDs). May import: the standard library only. Every other module_utils file may import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# The API takes at most 100 IDs per request and returns at most 100 entries per page (Limit).
MAX_IDS_PER_CALL = 100


class IdKind:
    """One kind of ID: '<prefix>-' and 8 lowercase letters or digits, like `example`."""

    __slots__ = ("name", "prefix", "pattern", "example")

    def __init__(self, name: str, prefix: str, example: str) -> None:
        self.name = name
        self.prefix = prefix
        # \Z, not $: "$" also matches before a trailing newline, which the API would then receive.
        self.pattern = re.compile(r"%s-[a-z0-9]{8}\Z" % re.escape(prefix))
        self.example = example

    def match(self, value: Any) -> bool:
        """Whether `value` is a well-formed ID of this kind (any non-string is not)."""
        return isinstance(value, str) and self.pattern.match(value) is not None

    def malformed(self, values: Iterable[Any]) -> list[Any]:
        return malformed(values, self)

    def malformed_message(self, subject: str, bad: list[Any]) -> str:
        """'<subject>: 'x', 'y'. An ID is ...': the one wording for malformed IDs, whichever option or lookup found them."""
        return "%s: %s. An ID is '%s-' followed by 8 lowercase letters or digits, like %s." % (
            subject,
            ", ".join(shown(v) for v in bad[:MAX_SHOWN]) + (" and %d more" % (len(bad) - MAX_SHOWN) if len(bad) > MAX_SHOWN else ""),
            self.prefix,
            self.example,
        )


# A message shows at most this many bad values, each at most SHOWN_CHARACTERS long: a clear message, whatever the input.
MAX_SHOWN = 20
SHOWN_CHARACTERS = 60


def shown(value: Any) -> str:
    """repr(value), shortened to SHOWN_CHARACTERS with its length said, for messages about values a user gave."""
    text = repr(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return "%s... (%d characters)" % (text[: SHOWN_CHARACTERS - 3], len(value) if isinstance(value, str) else len(text))


INSTANCE = IdKind("instance", "ins", "ins-1e4r6y8i")
KEY_PAIR = IdKind("key pair", "skey", "skey-4e5ty7i8")
INSTANCE_ID_RE = INSTANCE.pattern
KEY_ID_RE = KEY_PAIR.pattern


def unique(values: Iterable[Any]) -> list[Any]:
    """Drop duplicates, keep the first occurrence's order."""
    seen: set[Any] = set()
    kept = []
    for value in values:
        if value not in seen:
            seen.add(value)
            kept.append(value)
    return kept


def chunked(values: Iterable[Any], size: int = MAX_IDS_PER_CALL) -> list[list]:
    """`values` in lists of at most `size` (the API's 100 IDs per call), in order."""
    values = list(values)
    return [values[i : i + size] for i in range(0, len(values), size)]


def malformed(values: Iterable[Any], kind: IdKind | re.Pattern) -> list[Any]:
    """The values `kind` (an IdKind, or a compiled pattern) does not accept, in order."""
    return [v for v in values if not isinstance(v, str) or not kind.match(v)]
