"""Where each effective setting comes from (`config show --sources`), `config set`.

A value comes from the file, from the environment (`APERTURE_URL`), from a flag
(`--gateway`) or is the model's default. `config set` edits the file's own
settings by a dotted camelCase key, validates the result as a whole through the
Config model, and writes it atomically; when anything is wrong, the file is left
exactly as it was.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from aperture_proxy._config_errors import fields_by_key, inner_model, key_path, show
from aperture_proxy.config import (
    CONFIG_ENV,
    GATEWAY_ENV,
    Config,
    ConfigError,
    read_config_data,
    validate_config,
    write_text_atomic,
)

__all__ = [
    "KeyPath",
    "annotated_yaml",
    "parse_key",
    "save_data",
    "set_value",
    "value_sources",
]

KeyPath = tuple[str | int, ...]

DEFAULT = "default"
FILE = "file"

_SEGMENT_RE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<index>(\[\d+\])*)")
_COMMENT_RE = re.compile(r"(^|\s)#")


# --- sources ---


def _in_file(data: Any, path: KeyPath) -> bool:
    node = data
    for part in path:
        if isinstance(part, int):
            if isinstance(node, list) and part < len(node):
                node = node[part]
                continue
            return False
        if isinstance(node, dict):
            if part in node:
                node = node[part]
                continue
            # `baseUrl: …` is the file's way of writing a one-entry `baseUrls`.
            return part == "baseUrls" and "baseUrl" in node
        # A shorthand such as a plain provider id stands for the whole entry.
        return True
    return True


def value_sources(
    effective: Mapping[str, Any],
    data: Mapping[str, Any],
    overrides: Mapping[str, str] | None = None,
) -> Callable[[KeyPath], str]:
    """A function naming where the value at a key path came from.

    `overrides` maps top-level keys to what replaced the file's value, e.g.
    `{"baseUrl": "env APERTURE_URL"}`.

    >>> source = value_sources({}, {"proxy": {"listen": "127.0.0.1:9"}})
    >>> source(("proxy", "listen")), source(("proxy", "enabled"))
    ('file', 'default')
    """
    overrides = overrides or {}

    def source(path: KeyPath) -> str:
        if path and isinstance(path[0], str) and path[0] in overrides:
            return overrides[path[0]]
        return FILE if _in_file(data, path) else DEFAULT

    return source


def _flow(value: Any) -> str:
    """A value on one line, quoted only where YAML would misread it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6)
    return text.removesuffix("...\n").strip()


def _leaf(value: Any) -> bool:
    if isinstance(value, dict):
        return not value
    if isinstance(value, list):
        return all(not isinstance(item, dict | list) for item in value)
    return True


def _emit(
    mapping: Mapping[str, Any],
    path: KeyPath,
    prefixes: tuple[str, str],
    source: Callable[[KeyPath], str],
    out: list[str],
) -> None:
    first, rest = prefixes
    for number, (key, value) in enumerate(mapping.items()):
        prefix = first if number == 0 else rest
        here = (*path, key)
        if _leaf(value):
            out.append(f"{prefix}{key}: {_flow(value)}  # {source(here)}")
        elif isinstance(value, dict):
            out.append(f"{prefix}{key}:")
            _emit(value, here, (rest + "  ", rest + "  "), source, out)
        else:
            out.append(f"{prefix}{key}:  # {source(here)}")
            for index, item in enumerate(value):
                item_path = (*here, index)
                if isinstance(item, dict) and item:
                    _emit(item, item_path, (rest + "- ", rest + "  "), source, out)
                else:
                    out.append(f"{rest}- {_flow(item)}  # {source(item_path)}")


def annotated_yaml(
    effective: Mapping[str, Any], source: Callable[[KeyPath], str]
) -> str:
    """`effective` as YAML with a trailing `# source` comment on every value.

    >>> print(annotated_yaml({"a": {"b": 1}, "c": [{"d": "x"}]}, lambda p: "file"),
    ...       end="")
    a:
      b: 1  # file
    c:  # file
    - d: x  # file
    """
    out: list[str] = []
    _emit(effective, (), ("", ""), source, out)
    return "\n".join(out) + "\n"


def show_with_sources(
    path: Path,
    gateway_flag: str | None,
    env: Mapping[str, str],
    *,
    must_exist: bool = False,
) -> str:
    """The effective config for `config show --sources`, header included."""
    from aperture_proxy.config import load_config

    config = load_config(path, gateway=gateway_flag, env=env, must_exist=must_exist)
    data, _ = read_config_data(path)
    overrides = {}
    if gateway_flag:
        overrides["baseUrl"] = "flag --gateway"
    elif env.get(GATEWAY_ENV):
        overrides["baseUrl"] = f"env {GATEWAY_ENV}"
    where = f" (from {CONFIG_ENV})" if env.get(CONFIG_ENV) else ""
    state = "" if path.exists() else ", which does not exist: defaults"
    header = f"# the effective configuration; file: {path}{where}{state}\n"
    effective = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    return header + annotated_yaml(effective, value_sources(effective, data, overrides))


# --- config set ---


def parse_key(key: str) -> KeyPath:
    """`proxy.upstreamProviders[0].credentials` as its parts.

    >>> parse_key("proxy.upstreamProviders[0].credentials")
    ('proxy', 'upstreamProviders', 0, 'credentials')
    """
    parts: list[str | int] = []
    for segment in key.split("."):
        match = _SEGMENT_RE.fullmatch(segment)
        if match is None:
            raise ConfigError(
                f"{key!r} is not a key; expected dotted camelCase names with "
                "[N] for list items, such as proxy.listen or "
                "proxy.upstreamProviders[0].credentials"
            )
        parts.append(match["name"])
        parts += [int(n) for n in re.findall(r"\d+", match["index"])]
    return tuple(parts)


def _unknown(path: KeyPath, model: type[Any]) -> ConfigError:
    known = [*fields_by_key(model), *getattr(model, "shorthand_keys", ())]
    name = str(path[-1])
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"{key_path(path)}: unknown key{hint} (known keys here: {', '.join(known)})"
    )


def _target(path: KeyPath) -> Any:
    """The type annotation of the setting at `path`; ConfigError when none is."""
    model: Any = Config
    annotation: Any = Config
    for depth, part in enumerate(path):
        here = path[: depth + 1]
        if isinstance(part, int):
            if get_origin(annotation) is not list:
                raise ConfigError(f"{key_path(path[:depth])} is not a list; drop [N]")
            annotation = get_args(annotation)[0]
            model = inner_model(annotation)
            continue
        if model is None:
            raise ConfigError(
                f"{key_path(path[:depth])} holds a value, not keys; "
                f"{key_path(here)} does not exist"
            )
        fields = fields_by_key(model)
        if part in getattr(model, "shorthand_keys", ()):
            annotation = str
            model = None
            continue
        if part not in fields:
            raise _unknown(here, model)
        annotation = fields[part].annotation
        model = inner_model(annotation)
    return annotation


def _wants_text(annotation: Any) -> bool:
    """Whether a setting holds a string (so `8080` there means the text 8080)."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return len(options) == 1 and _wants_text(options[0])
    if get_origin(annotation) is Literal:
        return all(isinstance(a, str) for a in get_args(annotation))
    return annotation is str


def _value(text: str, annotation: Any) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    if value is not None and not isinstance(value, str) and _wants_text(annotation):
        return text
    return value


def _step(node: Any, part: str | int) -> Any:
    if isinstance(part, int):
        return node[part] if isinstance(node, list) and part < len(node) else None
    return node.get(part) if isinstance(node, dict) else None


def _assign(data: dict[str, Any], effective: Any, path: KeyPath, value: Any) -> str:
    """Put `value` at `path` in `data` (None removes the key); the old value shown."""
    node: Any = data
    for depth, part in enumerate(path[:-1]):
        effective = _step(effective, part)
        child = _step(node, part)
        wanted = list if isinstance(path[depth + 1], int) else dict
        if not isinstance(child, wanted):
            # A missing list starts as the one in effect, so [N] means what
            # `config show` lists; a shorthand entry (a plain id) is expanded.
            # A missing mapping starts empty: its defaults stay defaults.
            child = copy.deepcopy(effective)
            if not isinstance(child, wanted) or (
                wanted is dict and _step(node, part) is None
            ):
                child = wanted()
            if isinstance(part, int):
                _check_index(node, part, path[: depth + 1])
                if part == len(node):
                    node.append(child)
                else:
                    node[part] = child
            else:
                node[part] = child
        node = child
    last = path[-1]
    old = _step(node, last)
    if isinstance(last, int):
        _check_index(node, last, path)
        if value is None:
            if last < len(node):
                del node[last]
        elif last == len(node):
            node.append(value)
        else:
            node[last] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value
        if last == "baseUrl":
            node.pop("baseUrls", None)
        elif last == "baseUrls":
            node.pop("baseUrl", None)
    return "(not set)" if old is None else show(old)


def _check_index(node: list[Any], index: int, path: KeyPath) -> None:
    if index > len(node):
        entries = f"{len(node)} entr" + ("y" if len(node) == 1 else "ies")
        raise ConfigError(
            f"{key_path(path)}: the list has {entries}; use an index up to "
            f"{len(node)} ([{len(node)}] adds one)"
        )


def save_data(data: Mapping[str, Any], path: Path, old_text: str) -> Path | None:
    """Write `data` as YAML; returns the backup of a file whose comments go.

    PyYAML cannot keep comments, so a file that had some is first copied to
    `<name>.bak` next to it.
    """
    backup = None
    if any(_COMMENT_RE.search(line) for line in old_text.splitlines()):
        backup = path.with_name(path.name + ".bak")
        write_text_atomic(backup, old_text, mode=0o600)
    text = yaml.safe_dump(
        dict(data), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    try:
        write_text_atomic(path, text, mode=0o600)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot write the configuration ({exc.strerror or exc})",
            path=path,
        ) from None
    return backup


def set_value(path: Path, key: str, text: str) -> tuple[str, str, Path | None]:
    """Set `key` to `text` (parsed as YAML) in the file at `path`.

    `null` removes the key, so its default applies again. Returns the old and
    new values as shown, and the backup written (if any). Raises ConfigError,
    naming the key path and what is expected, and then writes nothing.
    """
    parts = parse_key(key)
    annotation = _target(parts)
    value = _value(text, annotation)
    data, old_text = read_config_data(path)
    current = validate_config_or_none(data, path)
    effective = (
        current.model_dump(mode="json", by_alias=True, exclude_none=True)
        if current
        else {}
    )
    new_data = copy.deepcopy(data)
    old = _assign(new_data, effective, parts, value)
    try:
        validate_config(new_data, path, "")
    except ConfigError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        raise ConfigError(
            f"config set {key} {text}: rejected; {path} is unchanged:\n{lines}",
            path=path,
            problems=exc.problems,
        ) from None
    backup = save_data(new_data, path, old_text)
    return old, "(default)" if value is None else show(value), backup


def validate_config_or_none(data: dict[str, Any], path: Path) -> Config | None:
    """`data` as a Config, or None when it is not valid (yet)."""
    try:
        return validate_config(data, path, "")
    except ConfigError:
        return None
