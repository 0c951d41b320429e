# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_text: names from the API as printable text, and template markers found and broken."""

from __future__ import annotations

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils._text import defuse_template, has_template_marker, printable


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("web-1", "web-1"),
        ("web\x1b[2J\x1b[31mroot", "web\\x1b[2J\\x1b[31mroot"),
        ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
        ("del\x7f c1\x9b nul\x00", "del\\x7f c1\\x9b nul\\x00"),
        ("line\u2028sep", "line\\u2028sep"),
        ("中文 café", "中文 café"),
        (None, ""),
        (42, "42"),
    ],
)
def test_printable_escapes_every_control_character(raw, shown):
    assert printable(raw) == shown


def test_printable_leaves_no_control_character():
    every = "".join(chr(code) for code in range(0x250))
    out = printable(every)
    assert not [c for c in out if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]


@pytest.mark.parametrize(
    "text, marked",
    [
        ("{{ lookup('pipe', 'id') }}", True),
        ("a{%if%}", True),
        ("{# c #}", True),
        ("{ {", False),
        ("{x}", False),
        ("", False),
        (None, False),
    ],
)
def test_has_template_marker(text, marked):
    assert has_template_marker(text) is marked


@pytest.mark.parametrize("text", ["{{ x }}", "{{{x}}}", "{%- if 1 %}", "{#{{", "a{{b{%c{#d"])
def test_defuse_template_leaves_no_marker(text):
    out = defuse_template(text)
    assert not has_template_marker(out)
    assert out.replace(" ", "") == text.replace(" ", "")  # only spaces added: still readable
