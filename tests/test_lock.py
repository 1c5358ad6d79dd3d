"""The lock files are what `make test` and the image install: they must pin every dependency
pyproject.toml declares, inside its declared range, with hashes, so a release made tomorrow
changes nothing (a fresh clone once failed when msgspec 0.23 came out)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", re.M)


def _pins(lock: str) -> dict[str, str]:
    text = (REPO / "requirements" / lock).read_text()
    return {canonicalize_name(name): version for name, version in _PIN.findall(text)}


def _declared(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(r) for r in names]


@pytest.mark.parametrize(
    ("lock", "extras"), [("runtime.lock", ()), ("dev.lock", ("test", "bench"))]
)
def test_every_declared_dependency_is_pinned_within_its_range(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = _pins(lock)
    for req in _declared(*extras):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared in pyproject.toml but not in {lock}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}"
        )


@pytest.mark.parametrize("lock", ["runtime.lock", "dev.lock", "build.lock", "checkov.lock"])
def test_every_pin_has_a_hash(lock: str) -> None:
    text = (REPO / "requirements" / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pinned = [e for e in entries if _PIN.match(e)]
    assert pinned, f"{lock} pins nothing"
    unhashed = [_PIN.match(e).group(1) for e in pinned if "--hash=sha256:" not in e]  # type: ignore[union-attr]
    assert not unhashed, f"{lock}: no hash for {unhashed}"


def test_the_runtime_lock_agrees_with_the_dev_lock() -> None:
    """The image and the tests run the same versions of what both install."""
    runtime, dev = _pins("runtime.lock"), _pins("dev.lock")
    differ = {name: (v, dev.get(name)) for name, v in runtime.items() if dev.get(name) != v}
    assert not differ, f"runtime.lock and dev.lock disagree: {differ}"


def test_installs_go_through_the_locks_with_hashes() -> None:
    makefile = (REPO / "Makefile").read_text()
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r requirements/dev.lock" in makefile
    assert "--no-build-isolation -e ." in makefile
    assert "--require-hashes --no-deps -r requirements/checkov.lock" in makefile
    assert "-r requirements/runtime.lock" in dockerfile
    assert "--no-build-isolation" in dockerfile
