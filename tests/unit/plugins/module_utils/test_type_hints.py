# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every public function and method of plugins/module_utils carries type hints (its arguments and its return), so mypy
checks its callers. Files still on their way are listed in NOT_YET; the list may only shrink: a listed file that has
become fully hinted fails the test until it is taken off."""

from __future__ import annotations

import ast
import os

import pytest

MODULE_UTILS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "module_utils")
NOT_YET: set[str] = set()


def public_functions(tree):
    """(name, node) of the top-level functions and of the methods of top-level classes whose names have no leading underscore."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for inner in node.body:
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and not inner.name.startswith("_"):
                    yield "%s.%s" % (node.name, inner.name), inner


def unhinted(source):
    """The public functions of a module's source that miss a hint: 'name(argument)' or 'name -> (return)'."""
    missing = []
    for name, node in public_functions(ast.parse(source)):
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        if "." in name and arguments and arguments[0].arg in ("self", "cls"):
            arguments = arguments[1:]
        arguments += [arg for arg in (node.args.vararg, node.args.kwarg) if arg is not None]
        missing.extend("%s(%s)" % (name, arg.arg) for arg in arguments if arg.annotation is None)
        if node.returns is None:
            missing.append("%s -> (return)" % name)
    return missing


def files():
    return sorted(name for name in os.listdir(MODULE_UTILS) if name.endswith(".py") and name != "__init__.py")


@pytest.mark.parametrize("name", files())
def test_public_functions_of_module_utils_have_type_hints(name):
    with open(os.path.join(MODULE_UTILS, name), encoding="utf-8") as handle:
        missing = unhinted(handle.read())
    if name in NOT_YET:
        assert missing, "%s is fully hinted now: take it off NOT_YET" % name
    else:
        assert missing == []


def test_the_check_names_each_missing_hint():
    source = (
        "def done(a: int, *rest: str, **extra: bool) -> None: ...\n"
        "def open_one(a, b: int): ...\n"
        "def _private(a): ...\n"
        "class Thing:\n"
        "    def method(self, value) -> int: ...\n"
        "    def _helper(self, value): ...\n"
        "class _Hidden:\n"
        "    def method(self, value): ...\n"
    )
    assert unhinted(source) == ["open_one(a)", "open_one -> (return)", "Thing.method(value)"]
