# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The flake hunt's report: which tests failed in at least one of their repetitions (pytest-repeat, JUnit XML).

    python tests/support/flake_report.py --count 20 RESULTS.xml

Prints one line per test (its runs, its failures) for those that ever failed, and a last line
'N passed, N failed' over the distinct tests. Exits 1 when any test failed or the file holds no test.
"""

import argparse
import collections
import re
import sys
from xml.etree import ElementTree

# pytest-repeat names the k-th of N runs test[...-k-N] (or test[k-N] without other parameters).
REPEAT_SUFFIX = re.compile(r"(\[.*?)-?\d+-(\d+)\]$")


def distinct_name(classname, name):
    match = REPEAT_SUFFIX.search(name)
    if match:
        params = match.group(1)
        name = name[: match.start()] + (params + "]" if params != "[" else "")
    return "%s::%s" % (classname, name)


def tally(path):
    """{test: [runs, failures]} from a JUnit XML file."""
    counts = collections.defaultdict(lambda: [0, 0])
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        entry = counts[distinct_name(case.get("classname", ""), case.get("name", ""))]
        entry[0] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            entry[1] += 1
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True, help="the repetitions asked for")
    parser.add_argument("junit_xml")
    args = parser.parse_args(argv)
    counts = tally(args.junit_xml)
    flaky = {test: entry for test, entry in counts.items() if entry[1]}
    short = {test: entry for test, entry in counts.items() if entry[0] < args.count}
    print("Flake hunt: %d tests marked nondeterministic, each run %d times." % (len(counts), args.count))
    for test, (runs, failures) in sorted(flaky.items()):
        print("  FLAKY %s: failed %d of %d runs" % (test, failures, runs))
    for test, (runs, _failures) in sorted(short.items()):
        print("  SHORT %s: ran %d of %d times" % (test, runs, args.count))
    print("%d passed, %d failed" % (len(counts) - len(flaky), len(flaky)))
    return 1 if flaky or short or not counts else 0


if __name__ == "__main__":
    sys.exit(main())
