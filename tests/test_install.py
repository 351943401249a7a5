"""The project installs as a package: ``pip install .`` into a fresh environment gives ``python -m vgg`` and
the ``vgg`` and ``vgg-explorer`` commands, working from any directory, with the data files inside.

Offline and quick: the fresh venv sees this environment's packages (torch, streamlit, ...) through a
.pth file, and pip installs only the project (``--no-deps --no-build-isolation``)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def installed_venv(base: Path) -> Path:
    """A fresh venv under ``base`` with the project installed (not editable); returns its bin/ folder."""
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "_shared_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", str(ROOT)], check=True, cwd=base, capture_output=True)
    return venv / "bin"


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory) -> Path:
    return installed_venv(tmp_path_factory.mktemp("install"))


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}  # no PYTHONPATH: only what was installed
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_python_m_vgg_works_from_another_directory(venv_bin, tmp_path):
    result = _run([str(venv_bin / "python"), "-m", "vgg", "summary", "D", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["totals"]["params"] == 138_357_544 and report["layers"][0]["paper_name"] == "conv1_1"
    where = _run([str(venv_bin / "python"), "-c", "import vgg; print(vgg.__file__)"], tmp_path).stdout
    assert str(ROOT) not in where  # the installed copy, not this checkout


@pytest.mark.slow
def test_the_vgg_command_and_the_package_data(venv_bin, tmp_path):
    result = _run([str(venv_bin / "vgg"), "summary", "vgg16_bn", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["batch_norm"] is True
    data = _run([str(venv_bin / "python"), "-c",
                 "import vgg; print(len(vgg.imagenet_classes()), sorted(vgg.sample_images()))"], tmp_path)
    assert data.stdout.strip() == "1000 ['astronaut', 'cat', 'coffee', 'rocket']", data.stderr
    assert (venv_bin / "vgg-explorer").exists()
