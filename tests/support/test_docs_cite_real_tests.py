# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docs back their statements with tests named in backticks (docs/reliability.md: "checked by a test named in
brackets"). A renamed or removed test would leave the statement unchecked while the page still claims it is, so
every cited test function must still be defined under tests/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = sorted(ROOT.glob("docs/*.md")) + [ROOT / "README.md"]

# A test function's name inside a code span; test file names (test_x.py) and globs (test_*.py) are not functions.
CITED = re.compile(r"\b(test_\w+)\b(?![.*\w])")


def cited_tests(text):
    """The test function names cited in a Markdown text's code spans."""
    names = set()
    for span in re.findall(r"`([^`\n]+)`", text):
        names.update(CITED.findall(span))
    return names


def defined_tests():
    names = set()
    for path in (ROOT / "tests").rglob("*.py"):
        names.update(re.findall(r"^\s*(?:async\s+)?def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M))
    return names


def test_cited_names_are_found_in_code_spans_and_file_names_are_not():
    text = (
        "checked by [`tests/e2e/test_bad_input.py`, `test_a_b`] and [unit `test_c_d`,\n`test_e`; `tests/emulator_tests/test_*.py`] but not test_outside_a_span"
    )
    assert cited_tests(text) == {"test_a_b", "test_c_d", "test_e"}


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_test_a_doc_cites_is_defined(doc):
    missing = sorted(cited_tests(doc.read_text(encoding="utf-8")) - defined_tests())
    assert not missing, f"{doc.relative_to(ROOT)} cites tests that no file under tests/ defines: {missing}"


def test_the_docs_do_cite_tests():
    # Guards the check above against passing vacuously (a pattern that stopped matching, docs moved).
    cited = set().union(*(cited_tests(doc.read_text(encoding="utf-8")) for doc in DOC_FILES))
    assert len(cited) >= 20, sorted(cited)
