# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Request parameters, declared in api.json's terms so that tests/emulator_tests/test_contract.py can compare them:
Param, required/optional, INPUT_OBJECTS and the validation of a request against its declaration.
May import: errors.
"""

import collections
import json

from .errors import ApiError


Param = collections.namedtuple("Param", "type member required")


def required(type_, member):
    return Param(type_, member, True)


def optional(type_, member):
    return Param(type_, member, False)


INPUT_OBJECTS = {
    "Filter": {"Name": required("string", "string"), "Values": required("list", "string")},
    "Tag": {"Key": required("string", "string"), "Value": required("string", "string")},
    "TagSpecification": {"ResourceType": required("string", "string"), "Tags": required("list", "Tag")},
}

SCALAR_TYPES = {"string": "string", "int64": "int", "uint64": "int", "int": "int", "bool": "bool"}


def describe_type(type_, member):
    if type_ == "list":
        return "a list of %s" % ("strings" if member == "string" else member + " objects" if member in INPUT_OBJECTS else member)
    if type_ == "object":
        return "a %s object" % member
    return {"string": "a string", "int": "an integer", "bool": "a boolean"}[type_]


def json_type_name(value):
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object"}
    return names.get(type(value), type(value).__name__)


def scalar_matches(kind, value):
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a number here
    return isinstance(value, bool)


def wrong_type(path, type_, member, value):
    shown = json.dumps(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ApiError("InvalidParameter", "The value of parameter `%s` has the wrong type: expected %s, got %s `%s`."
                    % (path, describe_type(type_, member), json_type_name(value), shown))


def validate_member(value, member, path):
    """Check one list element or object value against its api.json member type."""
    if member in INPUT_OBJECTS:
        if not isinstance(value, dict):
            raise wrong_type(path, "object", member, value)
        return validate_params(value, INPUT_OBJECTS[member], path + ".")
    if not scalar_matches(SCALAR_TYPES[member], value):
        raise wrong_type(path, SCALAR_TYPES[member], member, value)
    return value


def validate_value(value, param, path):
    if param.type == "list":
        if not isinstance(value, list):
            raise wrong_type(path, "list", param.member, value)
        return [validate_member(item, param.member, "%s.%d" % (path, index)) for index, item in enumerate(value)]
    if param.type == "object":
        return validate_member(value, param.member, path)
    if not scalar_matches(param.type, value):
        raise wrong_type(path, param.type, param.member, value)
    return value


def validate_params(params, declared, prefix=""):
    """Check a request (or a nested object) against its declared parameters; return it without null members.

    An empty list counts as missing: in Tencent's wire format `InstanceIds.N` with no N is an absent parameter.
    """
    for name in params:
        if name not in declared:
            raise ApiError("UnknownParameter", "The parameter `%s%s` is not recognized." % (prefix, name))
    clean = {}
    for name, param in declared.items():
        value = params.get(name)
        if value is None or (param.required and value == []):
            if param.required:
                raise ApiError("MissingParameter", "The request is missing a required parameter `%s%s`." % (prefix, name))
            continue
        clean[name] = validate_value(value, param, prefix + name)
    return clean
