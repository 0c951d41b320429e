# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What docs/architecture.md says of connecting and exiting, checked in the source.

- One place builds the API client (_credentials._new_client, through build_clients): modules, the inventory plugin, the
  event source and STS all get theirs from it.
- No plugin changes the process environment (the controller's, for the inventory plugin and the event source).
- _base is for modules: nothing else imports it.
- finish() is a module's one exit: exit_json and fail_json are called there and nowhere else.

Each finder is also run on a small sample, so that a test cannot pass by seeing nothing.
"""

from __future__ import annotations

import ast
import os
import pathlib

import pytest

from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _credentials

ROOT = pathlib.Path(__file__).resolve().parents[4]
SOURCES = sorted(p for folder in ("plugins", "extensions") for p in (ROOT / folder).rglob("*.py"))
BASE = ROOT / "plugins" / "module_utils" / "_base.py"


def parsed(path):
    return ast.parse(path.read_text(encoding="utf-8"))


def client_constructions(tree):
    """Line numbers of calls to CvmApi (as a name or an attribute, like _client.CvmApi)."""
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "CvmApi"]


ENVIRON_WRITES = ("pop", "popitem", "clear", "update", "setdefault", "__setitem__", "__delitem__")


def _is_environ(node):
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", None) == "os"


def _writes_environ(node):
    """Whether one AST node writes to os.environ (see environment_changes)."""
    if isinstance(node, (ast.Assign, ast.Delete, ast.AugAssign)):
        targets = node.targets if not isinstance(node, ast.AugAssign) else [node.target]
        return any(isinstance(target, ast.Subscript) and _is_environ(target.value) for target in targets)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return (_is_environ(node.func.value) and node.func.attr in ENVIRON_WRITES) or (
            getattr(node.func.value, "id", None) == "os" and node.func.attr in ("putenv", "unsetenv")
        )
    return False


def environment_changes(tree):
    """Line numbers of writes to os.environ: item assignment or deletion, its mutating methods, os.putenv/os.unsetenv."""
    return sorted(node.lineno for node in ast.walk(tree) if _writes_environ(node))


def imports_base(tree):
    """Whether the file imports module_utils._base, in any import form."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if (node.module or "").endswith("module_utils._base") or (
                (node.module or "").endswith("module_utils") and any(alias.name == "_base" for alias in node.names)
            ):
                return True
        elif isinstance(node, ast.Import) and any(alias.name.endswith("module_utils._base") for alias in node.names):
            return True
    return False


def exits_outside(tree, allowed="finish"):
    """(function, line) of each exit_json/fail_json call that is not inside the function named `allowed`."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Call) and getattr(child.func, "attr", None) in ("exit_json", "fail_json") and function != allowed:
                found.append((function, child.lineno))
            visit(child, inner)

    visit(tree, None)
    return found


def test_one_place_builds_the_client():
    found = {str(path.relative_to(ROOT)): lines for path in SOURCES for lines in [client_constructions(parsed(path))] if lines}
    assert list(found) == ["plugins/module_utils/_credentials.py"] and len(found["plugins/module_utils/_credentials.py"]) == 1, found


def test_the_construction_finder_sees_both_forms():
    assert client_constructions(ast.parse("a = CvmApi(c, r)\nb = _client.CvmApi(c, r)\nc = CvmApiError('x')\n")) == [1, 2]


def test_no_plugin_changes_the_environment():
    found = {str(path.relative_to(ROOT)): lines for path in SOURCES for lines in [environment_changes(parsed(path))] if lines}
    assert found == {}


def test_the_environment_finder_sees_every_form():
    sample = (
        "import os\nos.environ['A'] = '1'\ndel os.environ['B']\nos.environ.pop('C', None)\nos.putenv('D', '')\n"
        "os.environ.update(E='1')\nx = os.environ.get('F')\nos.environ['G'] += 'x'\n"
    )
    assert environment_changes(ast.parse(sample)) == [2, 3, 4, 5, 6, 8]


def test_base_is_for_modules():
    importers = sorted(str(path.relative_to(ROOT)) for path in SOURCES if imports_base(parsed(path)))
    assert importers == sorted(str(path.relative_to(ROOT)) for path in (ROOT / "plugins" / "modules").glob("*.py") if imports_base(parsed(path)))
    assert all(name.startswith("plugins/modules/") for name in importers) and importers, importers


def test_the_base_import_finder_sees_every_form():
    package = "ansible_collections.tencentcloud.cvm.plugins.module_utils"
    for text in (
        "from %s import _base" % package,
        "from %s._base import TencentCloudModule" % package,
        "import %s._base" % package,
        "from ..module_utils import _base",
    ):
        assert imports_base(ast.parse(text)), text
    assert not imports_base(ast.parse("from %s import _client" % package))


def test_finish_is_the_one_exit():
    assert exits_outside(parsed(BASE)) == []
    elsewhere = {str(path.relative_to(ROOT)): exits_outside(parsed(path), allowed=None) for path in SOURCES if path != BASE}
    assert {name: calls for name, calls in elsewhere.items() if calls} == {}  # modules end through finish() too


def test_the_exit_finder_sees_an_exit_elsewhere():
    sample = "class M:\n    def finish(self):\n        self.module.exit_json(changed=False)\n    def fail(self, msg):\n        self.module.fail_json(msg=msg)\n"
    assert exits_outside(ast.parse(sample)) == [("fail", 5)]


@pytest.mark.parametrize("value, found", [("", None), ("7", "7")])
def test_an_empty_variable_is_not_set_and_stays_as_it_was(monkeypatch, value, found):
    """The AWX workaround, in the one env_fallback every connection option uses: '' means "not set"; nothing is deleted."""
    monkeypatch.setenv("TENCENTCLOUD_API_DEADLINE", value)
    if found is None:
        with pytest.raises(AnsibleFallbackNotFound):
            _credentials.env_fallback("TENCENTCLOUD_API_DEADLINE")
    else:
        assert _credentials.env_fallback("TENCENTCLOUD_API_DEADLINE") == found
    assert _credentials.connection_argument_spec()["api_deadline"]["fallback"] == (_credentials.env_fallback, ["TENCENTCLOUD_API_DEADLINE"])
    assert os.environ["TENCENTCLOUD_API_DEADLINE"] == value
