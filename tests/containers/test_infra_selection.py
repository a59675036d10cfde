"""ANP_TEST_INFRA picks the infrastructure; asking for containers without a Docker engine fails at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.containers.infra import docker_engine, no_engine_reason

ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), "--confcutdir", str(ROOT), str(ROOT / "tests" / "containers" /
         "test_infra_selection.py"), "-k", "nothing_at_all"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, **env}, check=False,
    )  # fmt: skip


def test_containers_without_an_engine_fail_fast_with_the_reason(tmp_path: Path) -> None:
    result = _pytest(tmp_path, ANP_TEST_INFRA="containers", DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    assert result.returncode == 4, result.stdout + result.stderr  # pytest's usage error
    assert f"ANP_TEST_INFRA=containers, but no Docker engine answers at unix://{tmp_path}/no-docker.sock" in (
        result.stderr
    )


def test_an_unknown_infra_kind_is_a_usage_error(tmp_path: Path) -> None:
    result = _pytest(tmp_path, ANP_TEST_INFRA="kubernetes")
    assert result.returncode == 4 and "ANP_TEST_INFRA='kubernetes'" in result.stderr


def test_the_skip_reason_names_the_engine_address_and_the_fallback() -> None:
    reason = no_engine_reason(docker_engine() or "ConnectionError: refused")
    assert (
        reason.startswith("no Docker engine at ")
        and "(set DOCKER_HOST); the local servers carry the suite" in reason
    )
