# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The repository stands alone: no tracked file points at one machine's folders or at a tracker item by number.

    python tests/support/repo_hygiene.py [ROOT]     (nox -s repo-hygiene; the checks stage of ./scripts/test)

Checks every file `git ls-files` lists (text files; changelog fragments are exempt: antsibull-changelog's
convention allows a reference there) and prints `path:line: rule: text` for each finding; exit status 1 if any.

The rules, and what they leave alone:

- machine-path: a folder of one machine's layout: a home folder (the superuser's, or a user's under the Linux or
  macOS home root), the workspace root of the machines this project was built on, or the shared folder beside the
  checkout. A bare home root in prose, without a folder under it, is not a path and passes.
- temp-path: a temporary folder that only existed on one machine: pytest's per-user base (`pytest-of-NAME`), a
  job folder, or a name made by mktemp or tempfile (a random suffix of 6 or more letters and digits). Fixed
  example paths under the temporary folder, as in `--output-path` of a build command, pass.
- issue-number: a reference to a tracker item by number ("issue", "issues", "bug" or "ticket" followed by a
  number, with or without "#"), or a bare "#" followed by 1 to 5 digits. HTML character references, shell
  parameters and CSS colours are not references and pass, and so do links to the tracker without a number.
- issue-without-number: a tracker item named without its number (the word issue after "the", "this" or "that"):
  it points at a text the reader does not have. Say the thing itself.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXEMPT_PREFIXES = ("changelogs/fragments/",)

# Each rule: (name, compiled pattern, what to do instead).
RULES = (
    (
        "machine-path",
        # The literal folder names are written as classes ([t], [e], ...) so that this file does not match itself.
        re.compile(r"(?<![\w.~$-])(?:/roo[t]/|/hom[e]/[A-Za-z_][\w.-]*/|/User[s]/[A-Za-z_][\w.-]*/|/wor[k]/|\.\./share[d]\b)"),
        "name the file inside the repository, or describe the location (e.g. ~/.cache/...)",
    ),
    (
        "temp-path",
        re.compile(
            r"/tmp/(?:pytest-of-[\w.-]+|bash_jobs[\w.-]*|[\w-]*?[._](?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,}\b"
            r"|tmp[a-z0-9_]{8}\b)"
        ),
        "a temporary folder of one run: use a fixed example path or a placeholder",
    ),
    (
        "issue-number",
        re.compile(r"(?i)\b(?:issues?|bugs?|tickets?)\s*(?:#\s*|no\.\s*|number\s*)?\d+\b|(?<![\w&#/$'\"{\\:])(?<!:\s)#\d{1,5}\b(?![\w-])"),
        "state the requirement or target itself, not a tracker number",
    ),
    (
        "issue-without-number",
        re.compile(r"(?i)\b(?:the|this|that)\s+issue(?:'s)?(?=[\s.,;:)])"),
        "state what the text relies on, in the repository's own words",
    ),
)


def tracked_files(root):
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True).stdout
    return [name for name in out.decode("utf-8").split("\0") if name]


def findings_in_text(text):
    """[(line number, rule name, advice, matched text)] for one file's text."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for name, pattern, advice in RULES:
            for match in pattern.finditer(line):
                found.append((number, name, advice, match.group(0)))
    return found


def check(root, names=None):
    """[(path, line, rule, advice, text)] for the tracked files of `root` (or the given relative paths)."""
    root = Path(root)
    findings = []
    for name in names if names is not None else tracked_files(root):
        if name.startswith(EXEMPT_PREFIXES):
            continue
        path = root / name
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (images)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        findings += [(name, line, rule, advice, matched) for line, rule, advice, matched in findings_in_text(text)]
    return findings


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2]
    findings = check(root)
    for name, line, rule, advice, matched in findings:
        print("%s:%d: %s: %r (%s)" % (name, line, rule, matched, advice))
    if findings:
        print("repo-hygiene: %d finding(s) in tracked files; changelog fragments are exempt." % len(findings), file=sys.stderr)
        return 1
    print("repo-hygiene: no machine path and no tracker reference in %d tracked files." % len(tracked_files(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
