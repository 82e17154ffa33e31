"""Install an npm package at a pinned version into a reusable cache, for tests.

    bin_path = npm_bin("@mariozechner/pi-coding-agent", "0.73.1")

installs the package once into
``~/.cache/aperture-proxy-tests/npm/@mariozechner/pi-coding-agent@0.73.1`` (or
under ``$APERTURE_TEST_NPM_CACHE``) and returns the path of its executable. Later
calls, from this run or the next, find the finished install and return at once.
A half-finished install is never mistaken for a finished one: npm works in a
temporary directory that is renamed into place only when it succeeded, and a
lock file keeps parallel test processes from installing the same package twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["NpmError", "default_cache_root", "npm_bin", "npm_install"]

CACHE_ENV = "APERTURE_TEST_NPM_CACHE"
_NAME_RE = re.compile(r"(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*")
# An exact version only: a range would make the cache directory lie about its content.
_VERSION_RE = re.compile(r"\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?")
_DONE = ".installed"


class NpmError(RuntimeError):
    """npm is missing, or installing the package failed (with npm's own words)."""


def default_cache_root() -> Path:
    """Where installed packages live: ``$APERTURE_TEST_NPM_CACHE`` or the default."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "aperture-proxy-tests" / "npm"


def npm_install(
    name: str,
    version: str,
    *,
    cache_root: Path | None = None,
    timeout: float = 900.0,
    ignore_scripts: bool = False,
) -> Path:
    """Install ``name@version`` once; return its prefix (holding ``node_modules``).

    Raises NpmError when npm is not installed or the install fails, and
    ValueError for a name or version npm would not take literally.
    """
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"{name!r} is not an npm package name")
    if not _VERSION_RE.fullmatch(version):
        raise ValueError(f"{version!r} is not an exact version such as 1.2.3")
    npm = shutil.which("npm")
    if npm is None:
        raise NpmError(f"npm is not installed, so {name}@{version} cannot be")

    prefix = (cache_root or default_cache_root()) / f"{name}@{version}"
    if (prefix / _DONE).exists():
        return prefix
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f".{prefix.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Another process may have finished the install while this one waited.
        if (prefix / _DONE).exists():
            return prefix
        _install(npm, name, version, prefix, timeout, ignore_scripts)
    return prefix


def _install(
    npm: str,
    name: str,
    version: str,
    prefix: Path,
    timeout: float,
    ignore_scripts: bool,
) -> None:
    work = Path(tempfile.mkdtemp(dir=prefix.parent, prefix=f".{prefix.name}."))
    command = [
        npm,
        "install",
        "--prefix",
        str(work),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        f"{name}@{version}",
    ]
    if ignore_scripts:
        command.insert(2, "--ignore-scripts")
    try:
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise NpmError(
                f"npm install {name}@{version} did not finish in {timeout:g} s"
            ) from None
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise NpmError(
                f"npm install {name}@{version} failed (exit {done.returncode}):\n{tail}"
            )
        (work / _DONE).write_text(f"{name}@{version}\n", encoding="utf-8")
        if prefix.exists():
            # A leftover without the marker: an install that died halfway.
            shutil.rmtree(prefix)
        work.rename(prefix)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def npm_bin(
    name: str,
    version: str,
    bin_name: str | None = None,
    *,
    cache_root: Path | None = None,
    timeout: float = 900.0,
    ignore_scripts: bool = False,
) -> Path:
    """The executable of ``name@version``, installing the package if needed.

    ``bin_name`` picks one of the package's executables; without it the package
    must declare exactly one (or a single string ``bin``, named after the package).
    """
    prefix = npm_install(
        name,
        version,
        cache_root=cache_root,
        timeout=timeout,
        ignore_scripts=ignore_scripts,
    )
    manifest = prefix / "node_modules" / name / "package.json"
    declared = json.loads(manifest.read_text(encoding="utf-8")).get("bin")
    if isinstance(declared, str):
        names = [name.rpartition("/")[2]]
    elif isinstance(declared, dict):
        names = list(declared)
    else:
        names = []
    if bin_name is None:
        if len(names) != 1:
            raise NpmError(
                f"{name}@{version} declares the executables {names}; pass bin_name"
            )
        bin_name = names[0]
    elif bin_name not in names:
        raise NpmError(f"{name}@{version} has no executable {bin_name!r} ({names})")
    path = prefix / "node_modules" / ".bin" / bin_name
    if not path.exists():
        raise NpmError(f"{path} is missing although npm reported success")
    return path
