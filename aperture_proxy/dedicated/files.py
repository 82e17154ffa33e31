"""Reading agents' config files, writing them atomically, numbers and diffs.

Numbers are written as plain decimals, never in exponent form::

    >>> plain_number(Decimal("3E-7"))
    '0.0000003'
    >>> dump_json({"cost": {"input": Decimal("3.000000"), "cacheRead": 0.3}})
    '{\\n  "cost": {\\n    "input": 3,\\n    "cacheRead": 0.3\\n  }\\n}\\n'
"""

from __future__ import annotations

import difflib
import json
import shutil
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import json5
import yaml

from aperture_proxy.config import write_text_atomic

__all__ = [
    "OutputError",
    "dump_json",
    "dump_yaml",
    "parse_json_document",
    "parse_yaml_document",
    "plain_number",
    "read_existing",
    "unified_diff",
    "write_output",
]


class OutputError(Exception):
    """An output file that cannot be read, parsed or written; nothing was written."""


# --- numbers ---


def plain_number(value: Decimal | int | float) -> str:
    """A JSON/YAML number without an exponent; integral values without a point."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number here")
    if isinstance(value, int):
        return str(value)
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    if not number.is_finite():
        raise ValueError(f"{value!r} cannot be written as a JSON number")
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _float_free(value: Any) -> Any:
    """Floats as Decimals (by their shortest repr), so no exponent reaches a file."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _float_free(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_float_free(v) for v in value]
    return value


# --- JSON ---


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | str | int | float | Decimal)


def _scalar_text(value: Any) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    return plain_number(value)


def _json(value: Any, indent: str, level: int, out: list[str]) -> None:
    pad = indent * (level + 1)
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{\n")
        for index, (key, item) in enumerate(value.items()):
            out.append(f"{pad}{json.dumps(str(key), ensure_ascii=False)}: ")
            _json(item, indent, level + 1, out)
            out.append(",\n" if index < len(value) - 1 else "\n")
        out.append(f"{indent * level}}}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        if all(_scalar(item) for item in value):
            # Short lists of plain values read best on one line, as people write them.
            inline = "[" + ", ".join(_scalar_text(item) for item in value) + "]"
            if len(inline) <= 60:
                out.append(inline)
                return
        out.append("[\n")
        for index, item in enumerate(value):
            out.append(pad)
            _json(item, indent, level + 1, out)
            out.append(",\n" if index < len(value) - 1 else "\n")
        out.append(f"{indent * level}]")
    elif _scalar(value):
        out.append(_scalar_text(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dump_json(value: Any, indent: int = 2) -> str:
    """Pretty JSON like `json.dumps(indent=2)`, with plain decimal numbers."""
    out: list[str] = []
    _json(value, " " * indent, 0, out)
    return "".join(out) + "\n"


def parse_json_document(text: str, path: Path) -> tuple[dict[str, Any], bool]:
    """The top-level object of a JSON file, and whether it had comments.

    Pi and opencode accept `//` comments and trailing commas, so those are read
    too (they cannot be kept: the caller warns). Numbers stay exact (Decimal).
    """
    try:
        data = json.loads(text, parse_float=Decimal)
        lenient = False
    except json.JSONDecodeError as strict:
        try:
            data = json5.loads(text, parse_float=Decimal)
        except ValueError:
            raise OutputError(
                f"{path}: line {strict.lineno}, column {strict.colno}: {strict.msg} "
                "— not valid JSON; fix it or move it away, it was left untouched"
            ) from None
        lenient = True
    if not isinstance(data, dict):
        raise OutputError(
            f"{path}: the top level is not a JSON object; fix it or move it away, "
            "it was left untouched"
        )
    return data, lenient


# --- YAML ---


class _Dumper(yaml.SafeDumper):
    """A safe dumper that writes Decimals as plain numbers."""


def json_section(
    old: str | None, path: Path, key: str
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The parsed JSON file, its object under ``key`` (empty when absent) and
    whether comments were lost; an existing ``key`` that is not an object is an
    error that leaves the file alone."""
    doc, lossy = parse_json_document(old, path) if old is not None else ({}, False)
    section = doc.get(key, {})
    if not isinstance(section, dict):
        raise OutputError(
            f"{path}: {key} is not an object; fix it or move the file away, it was "
            "left untouched"
        )
    return doc, section, lossy


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = plain_number(value)
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(Decimal, _represent_decimal)


def dump_yaml(value: Any) -> str:
    """Block-style YAML in the given key order, numbers in plain decimal form."""
    return yaml.dump(
        _float_free(value),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )


def parse_yaml_document(text: str, path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise OutputError(
            f"{path}: {where}{problem} — not valid YAML; fix it or move it away, it "
            "was left untouched"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OutputError(
            f"{path}: the top level is not a mapping; fix it or move it away, it was "
            "left untouched"
        )
    return data


# --- files ---


def read_existing(path: Path) -> str | None:
    """The file's text, or None when it does not exist yet."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise OutputError(
            f"{path}: is a directory; pass a file with --output"
        ) from None
    except UnicodeDecodeError as exc:
        raise OutputError(
            f"{path}: is not UTF-8 text (byte {exc.start}); it was left untouched"
        ) from None
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot be read ({exc.strerror or exc}); check its permissions"
        ) from None


def unified_diff(path: Path, old: str | None, new: str) -> str:
    """The change as a unified diff; empty when nothing changes."""
    before = (old or "").splitlines(keepends=True)
    after = new.splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        after,
        fromfile=str(path) if old is not None else "/dev/null",
        tofile=str(path),
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return text


def write_output(path: Path, text: str, *, backup: bool = False) -> Path | None:
    """Replace the file atomically, keeping its permissions and any symlink.

    A symlink (a dotfiles manager's) is followed so the link stays a link. With
    `backup`, the previous file is first copied to `<name>.bak`, which is
    returned. Raises OutputError.
    """
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    saved = None
    try:
        if backup and target.exists():
            saved = target.with_name(target.name + ".bak")
            shutil.copy2(target, saved)
        write_text_atomic(target, text, mode=mode)
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot be written ({exc.strerror or exc}); check that its "
            "directory is writable"
        ) from None
    return saved


def environ_path(env: Mapping[str, str], name: str) -> Path | None:
    """A path from environment variable `name`, with `~` expanded; None if unset."""
    value = env.get(name)
    return Path(value).expanduser() if value else None
