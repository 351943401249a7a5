"""The project's own promises: README's set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup)


def test_readme_has_exactly_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "streamlit run explorer/app.py" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def test_torch_is_capped_to_avoid_the_cuda_build():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch>=2.4,<2.14" in project["dependencies"]
    assert any(dep.startswith("streamlit>=") for dep in project["dependencies"])
    assert project["scripts"] == {"vgg": "vgg.cli:main", "vgg-explorer": "explorer.launch:main"}


def test_requirements_install_the_project_with_its_declared_dependencies():
    """One source of truth: the requirement files name no package, only the project (and its extras)."""
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    dev = [line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line and line[0] != "#"]
    assert lines == ["-e ."] and dev == ["-e .[dev]"]


def test_no_sys_path_manipulation():
    # The installed packages, and the benchmarks, which run against the installed project (README's set-up).
    for path in [*ROOT.glob("vgg/**/*.py"), *ROOT.glob("explorer/**/*.py"), *ROOT.glob("benchmarks/*.py")]:
        assert "sys.path.insert" not in path.read_text(), path
