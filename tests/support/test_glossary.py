# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/architecture.md's glossary holds one word per idea, and the names each idea no longer goes by. A retired name
that comes back (in code, in a message, in a page) would give an idea two words again, so none may appear in what
the collection ships or documents. Standard library only."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SEARCHED = ("plugins", "docs", "roles", "extensions", "README.md")
SUFFIXES = {".py", ".md", ".rst", ".yml", ".yaml", ".json", ".txt", ".j2"}


def glossary_section(text):
    """The text of the '## Glossary' section (up to the next '## ' heading)."""
    match = re.search(r"^## Glossary\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, "docs/architecture.md has no '## Glossary' section"
    return match.group(1)


def retired_names(section):
    """The code spans of the table's last column ('Retired'), row by row."""
    names = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and line.startswith("|") and not set(cells[0]) <= set("-"):
            names.extend(re.findall(r"`([^`]+)`", cells[-1]))
    return names


def pattern(name):
    """`name` as a whole: no letter, digit or underscore right before a name that starts with one (so `full_sets`
    is not found inside `bind_full_sets`), none right after a name that ends with one."""
    head = r"(?<![A-Za-z0-9_])" if re.match(r"\w", name) else ""
    tail = r"(?![A-Za-z0-9_])" if re.search(r"\w\Z", name) else ""
    return re.compile(head + re.escape(name) + tail)


def searched_texts():
    """(path relative to the repository, text) of every file searched; the glossary's own section left out."""
    for entry in SEARCHED:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        for file in files:
            text = file.read_text(encoding="utf-8", errors="replace")
            if file == ARCHITECTURE:
                text = text.replace(glossary_section(text), "")
            yield file.relative_to(ROOT).as_posix(), text


def findings(names, texts):
    found = []
    compiled = [(name, pattern(name)) for name in names]
    for path, text in texts:
        for number, line in enumerate(text.splitlines(), 1):
            found.extend("%s:%d: %s" % (path, number, name) for name, regex in compiled if regex.search(line))
    return found


def test_the_matcher_finds_a_retired_name_only_as_a_whole():
    texts = [("a.py", "goal = Goal(key_ids)\nplan.needs_change\nbind_full_sets=True\nBindingGoal(x)\n"), ("b.md", "send `full_sets` and p.changes\n")]
    assert findings(["Goal", "full_sets", "p.changes", "(or keep it), then"], texts) == ["a.py:1: Goal", "b.md:1: full_sets", "b.md:1: p.changes"]


def test_the_glossary_lists_retired_names():
    names = retired_names(glossary_section(ARCHITECTURE.read_text(encoding="utf-8")))
    assert {"Goal", "Outcome", "_Stop", "Wording", "full_sets", "plan.changes"} <= set(names), names


def test_no_retired_name_appears_in_the_code_the_messages_or_the_docs():
    names = retired_names(glossary_section(ARCHITECTURE.read_text(encoding="utf-8")))
    found = findings(names, searched_texts())
    assert not found, "retired names (docs/architecture.md, Glossary) found:\n" + "\n".join(found)


def test_the_shared_scaffold_of_the_engines_is_defined_once():
    definitions = []
    for path, text in searched_texts():
        if path.startswith("plugins/"):
            definitions.extend((path, name) for name in re.findall(r"^class (Failure|Stop)\b", text, re.M))
    assert sorted(definitions) == [("plugins/module_utils/_key_changes.py", "Failure"), ("plugins/module_utils/_key_changes.py", "Stop")]
