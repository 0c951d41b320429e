# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail when a line Ansible writes itself (a host label, a play recap, a warning: the lines not indented) holds a raw control
character: a name from the API reached the terminal unescaped. (The indented lines are task results, values a play chose to
print, which the callback writes as JSON.) Also fail unless each given text appears in the output.
Usage: python files/check_output.py FILE [TEXT...]"""

from __future__ import annotations

import re
import sys

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def main():
    with open(sys.argv[1], encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    problems = ["line %d has the raw control character %r: %r" % (number, found.group(0), line)
                for number, line in enumerate(text.split("\n"), 1)
                for found in [CONTROL.search(line)] if found and not line.startswith((" ", "\t"))]
    flat = " ".join(text.split())  # warnings are wrapped at the terminal's width
    problems += ["the output lacks %r" % wanted for wanted in sys.argv[2:] if " ".join(wanted.split()) not in flat]
    if problems:
        sys.exit("\n".join(problems))


if __name__ == "__main__":
    main()
