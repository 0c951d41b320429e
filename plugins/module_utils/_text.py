# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: text from the API, made safe to print or to hand to Ansible.

Any name the API returns (instance names, tags, key pair names) was typed by someone who may not be the one running
Ansible. `printable` escapes the characters that would drive a terminal (C0 and C1 controls, ESC, CR, LF, DEL) so a
name shows as readable text like `web\\x1b[2J`; `has_template_marker` and `defuse_template` find and break the
markers that make Jinja2 (so Ansible) treat a string as a template.

Layer 1 (IDs). May import: the standard library only. Every other module_utils file, and the plugins, may import it.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls (NUL..US, so also TAB, LF, CR, ESC), DEL and the C1 controls (U+0080..U+009F), plus the Unicode line and
# paragraph separators, which some terminals and log viewers also break lines on.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What starts a Jinja2 block in Ansible's default syntax: {{ expression }}, {% statement %}, {# comment #}.
_MARKER_RE = re.compile(r"\{(?=[{%#])")
TEMPLATE_MARKERS = ("{{", "{%", "{#")


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return "\\x%02x" % code if code <= 0xFF else "\\u%04x" % code


def printable(text: Any) -> str:
    """`text` with every control character written as an escape (ESC -> \\x1b, LF -> \\x0a); other text unchanged.

    None gives ''; anything else that is not a string is turned into one first.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _CONTROL_RE.sub(_escape, text)


def has_template_marker(text: Any) -> bool:
    """Whether `text` (a string) holds {{, {% or {#: Ansible would render it as a template if it were ever trusted."""
    return isinstance(text, str) and _MARKER_RE.search(text) is not None


def defuse_template(text: Any) -> Any:
    """`text` with a space after each '{' that starts a marker ('{{ x }}' -> '{ { x }}'): no longer a template, still readable."""
    if not isinstance(text, str):
        return text
    return _MARKER_RE.sub("{ ", text)
