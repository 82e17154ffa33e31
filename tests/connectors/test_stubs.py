"""`connectors stubs`: each format read back by its own parser, hostile text inert."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from aperture_proxy.cli import main
from aperture_proxy.connectors.names import sanitise
from aperture_proxy.sim import SimulatedGateway
from aperture_proxy.sim.mcp import HOSTILE_DESCRIPTION, HOSTILE_NAME, TOOLS
from tests.connectors.conftest import child_env, write_config
from tests.helpers.npm import npm_install

TYPESCRIPT = "5.9.3"
PI = ("@mariozechner/pi-coding-agent", "0.73.1")
_SCHEMAS = {t.name: t.input_schema for t in TOOLS}
_PINS = [
    ("github", "github_list_repos"),
    ("github", "github.list-repos"),
    ("x", HOSTILE_NAME),
    ("github", "github_search_code"),
]
# Fragments of the hostile strings that would matter outside a string literal.
_DANGEROUS = ["*/", "</script>", "`", "${", "$(", "'", "\u2028", "\x00"]


def _stubs(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["connectors", "stubs", *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- MCP server registrations ---

_WEIRD_DIR = "dir with \"quotes\", 'apostrophes', ]brackets[ and\nnewline"


@pytest.fixture
def weird_config(tmp_path: Path) -> Path:
    """A config whose path holds characters that break naive JSON or TOML."""
    directory = tmp_path / _WEIRD_DIR
    directory.mkdir()
    return write_config(directory, pins=_PINS)


def _command(config: Path) -> list[str]:
    return ["/opt/bin/aperture-proxy", "mcp", "--config", str(config.resolve())]


def test_claude_code_gets_an_mcp_json_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, weird_config: Path
) -> None:
    target = tmp_path / ".mcp.json"
    target.write_text(
        json.dumps({"mcpServers": {"other": {"command": "x"}}, "keep": 1}),
        encoding="utf-8",
    )

    code, out, _ = _stubs(
        capsys,
        "--format", "claude-code",
        "--output", str(target),
        "--config", str(weird_config),
        "--command", "/opt/bin/aperture-proxy",
    )  # fmt: skip

    assert (code, out) == (0, f"wrote {target}\n")
    assert json.loads(target.read_text(encoding="utf-8")) == {
        "mcpServers": {
            "other": {"command": "x"},
            "aperture": {
                "type": "stdio",
                "command": "/opt/bin/aperture-proxy",
                "args": _command(weird_config)[1:],
            },
        },
        "keep": 1,
    }


def test_codex_config_keeps_comments_and_other_tables(
    capsys: pytest.CaptureFixture[str], home: Path, weird_config: Path
) -> None:
    target = home / ".codex" / "config.toml"
    target.parent.mkdir()
    target.write_text(
        '# my settings\nmodel = "o3"\n\n[mcp_servers.aperture]\n'
        'startup_timeout_sec = 20 # mine\n\n[mcp_servers.other]\ncommand = "x"\n',
        encoding="utf-8",
    )

    code, _, _ = _stubs(
        capsys,
        "--format", "codex",
        "--config", str(weird_config),
        "--command", "/opt/bin/aperture-proxy",
    )  # fmt: skip

    text = target.read_text(encoding="utf-8")
    assert code == 0
    assert text.startswith("# my settings\n")
    assert "startup_timeout_sec = 20 # mine" in text
    assert tomllib.loads(text) == {
        "model": "o3",
        "mcp_servers": {
            "aperture": {
                "startup_timeout_sec": 20,
                "command": "/opt/bin/aperture-proxy",
                "args": _command(weird_config)[1:],
            },
            "other": {"command": "x"},
        },
    }
    assert tomlkit.parse(text)["mcp_servers"]["aperture"]["args"][2] == str(
        weird_config.resolve()
    )


def test_codex_honours_codex_home(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))

    code, _, _ = _stubs(capsys, "--format", "codex", "--command", "ap")

    config = tomllib.loads((tmp_path / "codex" / "config.toml").read_text())
    assert code == 0
    assert config == {"mcp_servers": {"aperture": {"command": "ap", "args": ["mcp"]}}}


def test_opencode_gets_a_local_mcp_entry(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    weird_config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)

    code, _, _ = _stubs(
        capsys,
        "--format", "opencode",
        "--config", str(weird_config),
        "--command", "/opt/bin/aperture-proxy",
    )  # fmt: skip

    assert code == 0
    assert json.loads((tmp_path / "opencode.json").read_text(encoding="utf-8")) == {
        "$schema": "https://opencode.ai/config.json",
        "mcp": {
            "aperture": {
                "type": "local",
                "command": _command(weird_config),
                "enabled": True,
            }
        },
    }


def test_gemini_settings_keep_the_users_own_keys(
    capsys: pytest.CaptureFixture[str], home: Path, weird_config: Path
) -> None:
    target = home / ".gemini" / "settings.json"
    target.parent.mkdir()
    target.write_text(
        json.dumps({"theme": "Dracula", "mcpServers": {"aperture": {"trust": True}}}),
        encoding="utf-8",
    )

    code, _, _ = _stubs(
        capsys,
        "--format", "gemini",
        "--config", str(weird_config),
        "--command", "/opt/bin/aperture-proxy",
    )  # fmt: skip

    assert code == 0
    assert json.loads(target.read_text(encoding="utf-8")) == {
        "theme": "Dracula",
        "mcpServers": {
            "aperture": {
                "trust": True,
                "command": "/opt/bin/aperture-proxy",
                "args": _command(weird_config)[1:],
            }
        },
    }


@pytest.mark.parametrize("fmt", ["claude-code", "codex", "opencode", "gemini"])
def test_registrations_hold_nothing_from_the_gateway(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    weird_config: Path,
    gw: SimulatedGateway,
    fmt: str,
) -> None:
    target = tmp_path / "out"

    code, _, _ = _stubs(
        capsys,
        "--format", fmt,
        "--output", str(target),
        "--config", str(weird_config),
        "--gateway", gw.url,
    )  # fmt: skip

    text = target.read_text(encoding="utf-8")
    assert code == 0
    assert gw.requests() == []  # written without asking the gateway
    assert "evil" not in text and "Reads a file" not in text
    assert _registered_command(fmt, text)[1:] == [
        "mcp",
        "--config",
        str(weird_config.resolve()),
        "--gateway",
        gw.url,
    ]


def _registered_command(fmt: str, text: str) -> list[str]:
    if fmt == "codex":
        entry = tomllib.loads(text)["mcp_servers"]["aperture"]
    else:
        data = json.loads(text)
        entry = (data["mcp"] if fmt == "opencode" else data["mcpServers"])["aperture"]
    if fmt == "opencode":
        return list(entry["command"])
    return [entry["command"], *entry["args"]]


def test_an_unreadable_existing_file_is_left_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "settings.json"
    target.write_text('{"theme": "x",}', encoding="utf-8")

    code, _, err = _stubs(capsys, "--format", "gemini", "--output", str(target))

    assert code == 2
    assert err == (
        f"error: {target}: not valid JSON (Illegal trailing comma before end of "
        "object: line 1 column 14 (char 13)); fix the file or write elsewhere with "
        "--output\n"
    )
    assert target.read_text(encoding="utf-8") == '{"theme": "x",}'


# --- JSON Schema files ---


def test_json_writes_one_schema_per_pinned_tool_and_an_index(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gw: SimulatedGateway
) -> None:
    config = write_config(tmp_path, pins=_PINS)
    out_dir = tmp_path / "schemas"

    code, _, _ = _stubs(
        capsys,
        "--format", "json",
        "--output", str(out_dir),
        "--config", str(config),
        "--gateway", gw.url,
    )  # fmt: skip

    assert code == 0
    names = [sanitise(t) for _, t in _PINS]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [f"{n}.schema.json" for n in names] + ["tools.json"]
    )
    index = json.loads((out_dir / "tools.json").read_text(encoding="ascii"))
    assert [(e["name"], e["toolName"]) for e in index["tools"]] == list(
        zip(names, [t for _, t in _PINS], strict=True)
    )
    for entry in index["tools"]:
        schema = json.loads((out_dir / entry["schema"]).read_text(encoding="ascii"))
        assert schema == _SCHEMAS[entry["toolName"]]
    hostile = next(e for e in index["tools"] if e["toolName"] == HOSTILE_NAME)
    assert hostile["description"] == HOSTILE_DESCRIPTION


def test_json_files_are_ascii_and_stay_in_their_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gw: SimulatedGateway
) -> None:
    config = write_config(tmp_path, pins=_PINS)
    out_dir = tmp_path / "schemas"

    _stubs(
        capsys,
        "--format", "json",
        "--output", str(out_dir),
        "--config", str(config),
        "--gateway", gw.url,
    )  # fmt: skip

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert sorted(p.parent for p in written if p != config) == [out_dir] * 5
    for path in out_dir.iterdir():
        assert re.fullmatch(r"[A-Za-z0-9_]{1,64}\.schema\.json|tools\.json", path.name)
        path.read_bytes().decode("ascii")  # no raw control or separator characters


# --- the Pi extension ---


def _pi_extension(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gateway: str
) -> tuple[Path, str]:
    config = write_config(tmp_path, pins=[*_PINS, ("github", "gone_tool")])
    target = tmp_path / "aperture-connectors.ts"
    code, _, err = _stubs(
        capsys,
        "--format", "pi",
        "--output", str(target),
        "--config", str(config),
        "--gateway", gateway,
        "--command", f"{sys.executable} -m aperture_proxy",
    )  # fmt: skip
    assert code == 0
    return target, err


def _literals(source: str) -> str:
    """The two JSON literals of the file: the only place remote text can be."""
    command = source.split("const COMMAND: string[] = ", 1)[1].split(";\n", 1)[0]
    tools = source.split("const TOOLS: PinnedTool[] = ", 1)[1].split(";\n", 1)[0]
    return command + tools


def test_the_pi_extension_holds_remote_text_only_as_escaped_literals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gw: SimulatedGateway
) -> None:
    target, err = _pi_extension(capsys, tmp_path, gw.url)

    source = target.read_text(encoding="utf-8")
    literals = _literals(source)
    assert source.isascii()
    for fragment in _DANGEROUS:
        assert fragment not in literals
    tools = json.loads(_tools_json(source))
    assert [t["toolName"] for t in tools] == [t for _, t in _PINS]
    assert tools[2]["description"] == HOSTILE_DESCRIPTION
    assert err.count("gone_tool") == 1


def _tools_json(source: str) -> str:
    return source.split("const TOOLS: PinnedTool[] = ", 1)[1].split(";\n", 1)[0]


@pytest.mark.npm
def test_the_pi_extension_type_checks_against_pis_own_types(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gw: SimulatedGateway
) -> None:
    target, _ = _pi_extension(capsys, tmp_path, gw.url)
    tsc = npm_install("typescript", TYPESCRIPT) / "node_modules" / ".bin" / "tsc"
    pi = npm_install(*PI) / "node_modules" / PI[0]
    options: dict[str, Any] = {
        "target": "ES2022",
        "module": "ESNext",
        "moduleResolution": "bundler",
        "strict": True,
        "noEmit": True,
        "skipLibCheck": True,
        "types": [],
        "paths": {PI[0]: [str(pi)]},
    }
    project = tmp_path / "tsconfig.json"
    project.write_text(
        json.dumps({"compilerOptions": options, "files": [str(target)]}),
        encoding="utf-8",
    )

    done = subprocess.run(
        [str(tsc), "-p", str(project)], capture_output=True, text=True, timeout=300
    )

    assert (done.returncode, done.stdout) == (0, "")


@pytest.mark.npm
def test_the_pi_extension_registers_each_pin_and_forwards_calls(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gw: SimulatedGateway
) -> None:
    target, _ = _pi_extension(capsys, tmp_path, gw.url)
    typescript = npm_install("typescript", TYPESCRIPT)
    calls = tmp_path / "calls.json"
    hostile = sanitise(HOSTILE_NAME)
    calls.write_text(
        json.dumps(
            [
                {"name": "github_list_repos", "params": {"owner": "octo"}},
                {"name": hostile, "params": {"path": "'; rm -rf ~ #"}},
            ]
        ),
        encoding="utf-8",
    )

    done = subprocess.run(
        ["node", str(Path(__file__).with_name("pi_harness.cjs")), str(typescript),
         str(target), str(calls)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(t["name"], t["description"]) for t in report["tools"]] == [
        (n, next(t.description for t in TOOLS if t.name == original))
        for n, original in [
            ("github_list_repos", "github_list_repos"),
            (sanitise("github.list-repos"), "github.list-repos"),
            (hostile, HOSTILE_NAME),
            ("github_search_code", "github_search_code"),
        ]
    ]
    assert [t["parameters"] for t in report["tools"]] == [_SCHEMAS[t] for _, t in _PINS]
    assert report["results"] == {
        "github_list_repos": {"ok": True, "text": "octo/hello-world\nocto/spoon-knife"},
        hostile: {
            "ok": True,
            "text": f'{HOSTILE_NAME} called with {{"path": "\'; rm -rf ~ #"}}',
        },
    }


def test_a_pi_file_written_by_someone_else_is_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gw: SimulatedGateway
) -> None:
    config = write_config(tmp_path, pins=_PINS)
    target = tmp_path / "mine.ts"
    target.write_text("// my own extension\n", encoding="utf-8")
    args = ["--format", "pi", "--output", str(target), "--config", str(config)]

    refused, _, err = _stubs(capsys, *args, "--gateway", gw.url)
    kept = target.read_text(encoding="utf-8")
    forced, _, _ = _stubs(capsys, *args, "--gateway", gw.url, "--force")

    assert refused == 2
    assert err == (
        f"error: {target}: exists and was not written by aperture-proxy; pass "
        "--force to replace it or --output to write elsewhere\n"
    )
    assert kept == "// my own extension\n"
    assert forced == 0
    assert target.read_text(encoding="utf-8").startswith("// Generated by")
