# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/architecture.md's two rules for the test plumbing, checked on the files themselves (their syntax trees):

- tests/support uses the standard library, with the exceptions the page names (pytest in the pytest plugin, the
  fixture module and the tests; ansible-core in collection_path.import_through_ansible), and ./scripts/test's runner
  (stages.py) with everything it imports uses the standard library alone, so any python3 starts it;
- conftest.py files hold fixtures (and pytest hooks) only: no plain helper, class or constant a test could import.
"""

import ast
import sys

from shared_constants import REPO  # pylint: disable=import-error

SUPPORT = REPO / "tests" / "support"
# The folders on pytest.ini's pythonpath: their modules are the project's own, not third-party.
LOCAL_FOLDERS = ("tests/support", "tests/emulator", "tests/e2e", "tests/awx")
# The third-party imports tests/support may make, file by file (the tests, test_*.py, may import pytest).
ALLOWED = {"nondeterminism_guard.py": {"pytest"}, "redis_setup.py": {"pytest"}, "collection_path.py": {"ansible"}}
RUNNER = "stages.py"


def imported_modules(path):
    """The top-level names of every absolute import in the file, at any depth (a lazy import counts too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def local_modules():
    names = set()
    for folder in LOCAL_FOLDERS:
        for entry in (REPO / folder).iterdir():
            if entry.suffix == ".py" or (entry / "__init__.py").is_file():
                names.add(entry.stem)
    return names


def third_party(path, local):
    return imported_modules(path) - set(sys.stdlib_module_names) - local - {"__future__"}


def test_support_modules_use_the_standard_library_but_where_the_page_says():
    local = local_modules()
    found = {path.name: third_party(path, local) for path in sorted(SUPPORT.glob("*.py"))}
    beyond = {}
    for name, modules in found.items():
        allowed = ALLOWED.get(name, set()) | ({"pytest"} if name.startswith("test_") else set())
        if modules - allowed:
            beyond[name] = sorted(modules - allowed)
    assert beyond == {}, "tests/support imports beyond the standard library that docs/architecture.md does not name"
    # Each exception is still needed: a stale entry would let the page name an import nobody makes.
    assert {name: found[name] for name in ALLOWED} == ALLOWED


def test_the_runner_and_what_it_imports_use_the_standard_library_alone():
    local = local_modules()
    seen, todo = set(), [RUNNER]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(module + ".py" for module in imported_modules(SUPPORT / name) & local if (SUPPORT / (module + ".py")).is_file())
    assert {"stages.py", "process_groups.py", "shared_constants.py"} <= seen
    assert {name: sorted(third_party(SUPPORT / name, local)) for name in sorted(seen) if third_party(SUPPORT / name, local)} == {}


def test_a_lazy_third_party_import_is_seen(tmp_path):
    path = tmp_path / "helper.py"
    path.write_text("import os\n\n\ndef get():\n    import requests.adapters\n    from yaml import safe_load\n    return requests, safe_load\n")
    assert third_party(path, set()) == {"requests", "yaml"}


def is_fixture(node):
    return any(ast.unparse(decorator).split("(", maxsplit=1)[0] in ("pytest.fixture", "fixture") for decorator in node.decorator_list)


def public_names(node):
    """Names a statement binds at module level that a test could import (a leading underscore marks set-up state)."""
    names = []
    for target in ast.walk(node):
        if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store) and not target.id.startswith("_"):
            names.append(target.id)
    return names


def conftest_problems(path):
    """What in a conftest.py is not a fixture, a pytest hook, an import or module-private set-up."""
    problems = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not (is_fixture(node) or node.name.startswith("pytest_")):
                problems.append("%s (line %d): a function that is not a fixture" % (node.name, node.lineno))
            continue
        for inner in ast.walk(node):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                problems.append("%s (line %d): a helper %s" % (inner.name, inner.lineno, "class" if isinstance(inner, ast.ClassDef) else "function"))
        problems.extend("%s (line %d): a module-level name" % (name, node.lineno) for name in public_names(node))
    return problems


def conftest_files():
    return sorted(path for path in (REPO / "tests").rglob("conftest.py") if "output" not in path.relative_to(REPO).parts)


def test_conftest_files_hold_fixtures_only():
    files = conftest_files()
    assert len(files) >= 4  # tests/unit (twice), tests/e2e, tests/emulator_tests
    problems = {str(path.relative_to(REPO)): conftest_problems(path) for path in files}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_conftest_check_names_every_kind_of_helper(tmp_path):
    path = tmp_path / "conftest.py"
    path.write_text(
        '"""Doc."""\n'
        "import pytest\n"
        "VERSION = '1'\n"
        "_state = {}\n"
        "for _name in ('a',):\n"
        "    _state[_name] = 1\n"
        "try:\n"
        "    import json\n"
        "except ImportError:\n"
        "    def dumps(value):\n"
        "        return str(value)\n"
        "class Exit(Exception):\n"
        "    pass\n"
        "def helper():\n"
        "    return 1\n"
        "@pytest.fixture\n"
        "def fixture_one():\n"
        "    return helper()\n"
        "@pytest.fixture(scope='session')\n"
        "def fixture_two():\n"
        "    return 2\n"
        "def pytest_configure(config):\n"
        "    pass\n"
    )
    assert conftest_problems(path) == [
        "VERSION (line 3): a module-level name",
        "dumps (line 10): a helper function",
        "Exit (line 12): a helper class",
        "helper (line 14): a function that is not a fixture",
    ]
