"""goatui works installed from a wheel, from any directory, not only as an editable checkout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    target = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0:
        pytest.fail(f"wheel build failed: {build.stderr[-2000:]}")
    [wheel] = dist.glob("goatui-*.whl")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    return target


def run_installed(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The wheel's copy comes first on the path; the dependencies come from this venv.
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


def test_wheel_has_package_data(installed_wheel: Path) -> None:
    package = installed_wheel / "goatui"
    assert (package / "proto" / "plugin_pb2.py").exists()
    assert (package / "demo" / "plugins" / "analytics" / "manifest.json").exists()
    assert list((package / "styles").glob("*.tcss")), "styles/ must ship in the wheel"


def test_installed_version_and_location(installed_wheel: Path, tmp_path: Path) -> None:
    result = run_installed(
        installed_wheel, "-c", "import goatui; print(goatui.__file__)", cwd=tmp_path
    )
    assert result.stdout.startswith(str(installed_wheel)), result.stdout
    result = run_installed(installed_wheel, "-m", "goatui", "--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("goatui ")


def test_installed_demo_runs_from_any_directory(installed_wheel: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(installed_wheel))
    process = subprocess.Popen(
        [sys.executable, "-m", "goatui", "demo", "--no-ui"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        names = [process.stdout.readline().split("\t")[0] for _ in range(3)]
        assert sorted(names) == ["analytics", "flaky", "inventory"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(15)
