"""The npm test helper refuses what it cannot install literally, before any npm call."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.npm import NpmError, default_cache_root, npm_install


@pytest.mark.parametrize("version", ["latest", "^1.2.3", "1.2", ""])
def test_only_exact_versions_are_accepted(version: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not an exact version"):
        npm_install("left-pad", version, cache_root=tmp_path / "npm")
    assert not (tmp_path / "npm").exists()


@pytest.mark.parametrize("name", ["../evil", "UPPER", "@scope", "a b"])
def test_odd_package_names_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not an npm package name"):
        npm_install(name, "1.0.0", cache_root=tmp_path)


def test_a_machine_without_npm_gets_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NpmError, match=r"npm is not installed, so left-pad@1.3.0"):
        npm_install("left-pad", "1.3.0", cache_root=tmp_path)


def test_a_finished_install_is_reused_without_npm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = tmp_path / "@scope" / "tool@2.0.0"
    prefix.mkdir(parents=True)
    (prefix / ".installed").write_text("@scope/tool@2.0.0\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "npm").write_text("#!/bin/sh\nexit 99\n")
    (tmp_path / "bin" / "npm").chmod(0o755)
    assert npm_install("@scope/tool", "2.0.0", cache_root=tmp_path) == prefix


def test_the_cache_root_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APERTURE_TEST_NPM_CACHE", str(tmp_path / "npm"))
    assert default_cache_root() == tmp_path / "npm"
    monkeypatch.delenv("APERTURE_TEST_NPM_CACHE")
    assert default_cache_root() == (
        Path.home() / ".cache" / "aperture-proxy-tests" / "npm"
    )
