"""The wording of config problems: one line per bad key, with its line number."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

# The model classes are passed in rather than imported: aperture_proxy.config
# imports this module to word its errors.

_EXPECTED = {
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "float_type": "expected a number",
    "int_type": "expected a whole number",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
    "invalid_key": "keys must be strings",
}
# For the strings people most often leave unquoted, say what the string looks like.
_EXPECTED_STRING = {
    "baseUrl": "expected a URL such as http://ai.example-tailnet.ts.net",
    "listen": "expected a quoted host:port such as '127.0.0.1:8080'",
}
_NO_MODE = (
    "there is no `mode` setting: proxy.enabled, dedicated.enabled and "
    "connectors.enabled switch each capability on its own"
)


def kind_of(value: Any) -> str:
    """`a mapping`, `a list`, or the value itself as `show` writes it."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return show(value)


def show(value: Any) -> str:
    """A value as JSON, cut to 60 characters; containers by their kind."""
    if isinstance(value, dict | list):
        return kind_of(value)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def key_path(loc: Sequence[int | str]) -> str:
    """A location as people write it: `proxy.upstreamProviders[0].id`."""
    text = ""
    for part in loc:
        text += (
            f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
        )
    return text or "(top level)"


def fields_by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The model's fields by the key that names them in a file."""
    return {(f.alias or n): f for n, f in model.model_fields.items()}


def inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly or as list items; None for plain values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is list:
        return inner_model(get_args(annotation)[0])
    return None


def known_keys(model: type[BaseModel]) -> list[str]:
    """Every key a file may use in `model`'s mapping, shorthands included."""
    return [*fields_by_key(model), *getattr(model, "shorthand_keys", ())]


def _model_at(
    root: type[BaseModel], loc: Sequence[int | str]
) -> type[BaseModel] | None:
    """The model class that validates the mapping found at `loc`."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        fields = fields_by_key(model) if model else {}
        if part not in fields:
            return None
        model = inner_model(fields[part].annotation)
    return model


def _did_you_mean(key: str, known: list[str]) -> str:
    lowered = {k.lower(): k for k in known}
    guess = lowered.get(to_camel(key).lower())
    if guess is None:
        close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
        guess = lowered[close[0]] if close else None
    return f"; did you mean {guess!r}?" if guess else ""


def _describe(root: type[BaseModel], error: Mapping[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    ctx = error.get("ctx") or {}
    got = f"got {show(error.get('input'))}"
    if kind == "extra_forbidden":
        if tuple(loc) == ("mode",):
            return f"unknown key; {_NO_MODE}"
        model = _model_at(root, loc[:-1])
        known = known_keys(model) if model else []
        hint = _did_you_mean(str(loc[-1]), known)
        listing = f" (known keys: {', '.join(known)})" if known and not hint else ""
        return f"unknown key{hint}{listing}"
    if kind == "missing":
        return "this key is required"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"{got}; expected one of {ctx.get('expected')}"
    if kind == "greater_than":
        return f"{got}; expected a number greater than {ctx.get('gt'):g}"
    expected = _EXPECTED.get(kind, str(error["msg"]).lower())
    if kind == "string_type" and loc and loc[-1] in _EXPECTED_STRING:
        expected = _EXPECTED_STRING[str(loc[-1])]
    return f"{got}; {expected}"


def _line_index(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the key or item at `loc` in the composed YAML."""
    node = root
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(part)]
            if not match:
                return line
            key_node, node = match[-1]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def describe_validation_error(
    exc: ValidationError, root: type[BaseModel], path: Path, text: str
) -> tuple[str, list[str]]:
    """The message for `exc` and its problems, one line per bad key, in file order.

    `root` is the model that validated the file at `path`; `text` is the file's
    text, used to find each key's line (empty when there is none).
    """
    yaml_root = _line_index(text) if text else None
    located = []
    for error in exc.errors():
        line = _line_of(yaml_root, error["loc"])
        where = f" (line {line})" if line else ""
        problem = f"{key_path(error['loc'])}{where}: {_describe(root, error)}"
        located.append((line or 0, problem))
    # In file order, so people can walk down the file fixing each one.
    problems = [p for _, p in sorted(located, key=lambda item: item[0])]
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    message = f"{path}: {count}:\n" + "\n".join(f"  {p}" for p in problems)
    return message, problems
