# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils is layered: every file imports only from the layers below it.

One numbering, shared by three places: LAYERS here, each file's docstring ("Layer N (name)."), and the layer table of
docs/architecture.md. A new file is one line in LAYERS, one sentence in its docstring and one row in the table.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGE = "ansible_collections.tencentcloud.cvm.plugins.module_utils"

# Layer names, lowest first.
LAYER_NAMES = {1: "IDs", 2: "errors and rate limit", 3: "client", 4: "lookups and credentials", 5: "key changes", 6: "key pairs", 7: "base"}
# Each file's layer; a file may import files of lower layers only (never its own layer's other files, never a higher one).
LAYERS = {
    "_ids": 1,
    "_text": 1,  # printable() and the template markers of text from the API
    "_errors": 2,
    "_shared_limiter": 2,  # the cross-process rate limit that _client uses
    "_client": 3,
    "_lookup": 4,
    "_credentials": 4,  # the credential chain and STS AssumeRole, through _client
    "_key_changes": 5,
    "_key_pairs": 6,  # creates, imports and deletes a key pair; unbinds it first through _key_changes
    "_base": 7,
}


def module_utils_imports(path):
    """The module_utils files `path` imports, by name (from ... import, import ..., relative imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from . import _ids / from ._ids import x
                module = PACKAGE + ("." + module if module else "")
            if module == PACKAGE:
                names.update(alias.name for alias in node.names)
            elif module.startswith(PACKAGE + "."):
                names.add(module.partition(PACKAGE + ".")[2].split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    names.add(alias.name.partition(PACKAGE + ".")[2].split(".")[0])
    return names


def docstring_layer(path):
    """(number, name) from the file's docstring sentence "Layer N (name).", or None."""
    found = re.search(r"^Layer (\d+) \(([^)]+)\)\.", ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "", re.M)
    return (int(found.group(1)), found.group(2).lower()) if found else None


def architecture_table(text):
    """{file stem: (number, name)} from the page's layer table: rows like | 2. Errors and rate limit | `_errors.py` | ..."""
    rows = {}
    for number, name, stem in re.findall(r"^\| *(\d+)\. ([^|]+?) *\| *`(_\w+)\.py` *\|", text, re.M):
        assert stem not in rows, "%s is in the layer table twice" % stem
        rows[stem] = (int(number), name.lower())
    return rows


FILES = sorted(p for p in MODULE_UTILS.glob("*.py") if p.name != "__init__.py")


def test_every_module_utils_file_has_a_layer():
    assert {p.stem for p in FILES} - set(LAYERS) == set(), "add new module_utils files to LAYERS (and docs/architecture.md)"
    assert set(LAYERS.values()) == set(LAYER_NAMES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_imports_only_from_lower_layers(path):
    layer = LAYERS[path.stem]
    upward = sorted(name for name in module_utils_imports(path) if LAYERS.get(name, 0) >= layer)
    assert upward == [], "%s (layer %d) imports from its own or a higher layer: %s" % (path.name, layer, upward)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_docstring_names_the_files_layer(path):
    number = LAYERS[path.stem]
    assert docstring_layer(path) == (number, LAYER_NAMES[number].lower()), "%s's docstring must say 'Layer %d (%s).'" % (path.name, number, LAYER_NAMES[number])


def test_the_architecture_page_has_the_same_layers():
    if not ARCHITECTURE.is_file():
        pytest.skip("docs/ is not part of this test run's copy of the collection")
    expected = {stem: (number, LAYER_NAMES[number].lower()) for stem, number in LAYERS.items()}
    assert architecture_table(ARCHITECTURE.read_text(encoding="utf-8")) == expected


def test_the_table_parser_reads_every_row():
    """The page test must see each row, or it could pass while checking nothing."""
    text = (
        "| Layer | File | Owns |\n|---|---|---|\n| 1. IDs | `_ids.py` | kinds |\n"
        "| 2. Errors and rate limit | `_errors.py` | codes |\n| 2. Errors and rate limit | `_shared_limiter.py` | limits |\n"
    )
    assert architecture_table(text) == {"_ids": (1, "ids"), "_errors": (2, "errors and rate limit"), "_shared_limiter": (2, "errors and rate limit")}


def test_the_checker_sees_an_upward_import(tmp_path):
    """The parser must catch each import form, or the layer test above could pass while checking nothing."""
    sample = tmp_path / "_ids.py"
    sample.write_text(
        "from %s import _lookup\nfrom %s._base import X\nimport %s._client\nfrom . import _errors\n" % (PACKAGE, PACKAGE, PACKAGE), encoding="utf-8"
    )
    assert module_utils_imports(sample) == {"_lookup", "_base", "_client", "_errors"}


MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))


def api_calls(path):
    """Line numbers of every `<something>.call(...)` in a file: the client's one way to send a request."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "call"
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_send_no_request_of_their_own(path):
    """Modules map options to a goal and an outcome to a result: reads go through _lookup, writes through the engines."""
    assert api_calls(path) == [], "%s calls the client directly; put the request in module_utils (_lookup, _key_changes, _key_pairs)" % path.name


def test_the_call_finder_sees_a_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("x = 1\nself.module.api.call('DeleteKeyPairs', {}, resend_safe=False)\n", encoding="utf-8")
    assert api_calls(sample) == [2]
