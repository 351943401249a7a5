"""The library's layout: a few concerns in folders, each with a curated ``__all__``, and imports that
flow one way (no cycle, and ``vgg.arch`` needs nothing but the errors and the number formats)."""

import ast
import importlib
from pathlib import Path

import pytest

import vgg

ROOT = Path(vgg.__file__).resolve().parent
SUBPACKAGES = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "data")
MAX_TOP_LEVEL_MODULES = 8


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every vgg module a file imports, at the top or inside a function (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "vgg"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "vgg":
            folder = ROOT.parent / node.module.replace(".", "/")
            submodules = {alias.name for alias in node.names
                          if (folder / f"{alias.name}.py").exists() or (folder / alias.name / "__init__.py").exists()}
            found |= {f"{node.module}.{name}" for name in submodules}
            if len(submodules) < len(node.names):  # names defined by the module (or its __init__) itself
                found.add(node.module)
    return found


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}
GRAPH = {name: {target for target in imports_of(path) if target in MODULES and target != name}
         for name, path in MODULES.items()}


def test_at_most_eight_modules_side_by_side_at_the_top():
    top = sorted(p.name for p in ROOT.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    assert {"arch", "analysis", "vision", "teaching", "perf", "cli"} <= set(SUBPACKAGES)


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_each_subpackage_has_a_curated_all(package):
    module = importlib.import_module(f"vgg.{package}")
    names = getattr(module, "__all__", None)
    assert names, f"vgg.{package} has no __all__"
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing, missing
    assert len(names) == len(set(names))


def test_vgg_reexports_the_public_api():
    for name in vgg.__all__:
        assert hasattr(vgg, name), name
    for name in ("build", "analyze", "compare", "prepare", "forward_with_features", "load_image", "preprocess",
                 "cfgs", "make_layers", "VGG", "Network", "LayerKind", "VGGError", "VGG16_Weights", "format"):
        assert name in vgg.__all__, name


def test_no_import_cycle():
    """Depth-first search of the module graph (package __init__ files are modules too)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target):], target] if target in path else [name, target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(GRAPH):
        if name != "vgg" and name not in state:  # vgg/__init__ re-exports everything: it is the top
            visit(name, [name])


def test_arch_depends_on_nothing_but_errors_and_formats():
    allowed = {"vgg.errors", "vgg.format", "vgg.data"}
    for name, targets in GRAPH.items():
        if name.startswith("vgg.arch"):
            outside = {t for t in targets if not t.startswith("vgg.arch") and t not in allowed}
            assert not outside, f"{name} imports {outside}"


EXPLORER = ROOT.parent / "explorer"


def _public(module_name_: str) -> set[str]:
    return set(importlib.import_module(module_name_).__all__)


def _explorer_uses() -> list[tuple[str, str, str]]:
    """(file, what it names, why it is not public): every reach into vgg past a subpackage's __all__."""
    subpackages = {f"vgg.{name}" for name in SUBPACKAGES}
    wrong = []
    for path in sorted(EXPLORER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT.parent))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                wrong += [(where, alias.name, "a module inside vgg") for alias in node.names
                          if alias.name.startswith("vgg.") and alias.name not in subpackages]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "vgg":
                if node.module != "vgg" and node.module not in subpackages:
                    wrong.append((where, node.module, "a module inside vgg"))
                    continue
                public = _public(node.module)
                wrong += [(where, f"{node.module}.{alias.name}", "not in __all__") for alias in node.names
                          if alias.name not in public]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                chain = ast.unparse(node)
                head = ast.unparse(node.value)
                if head in subpackages and node.attr not in _public(head):
                    wrong.append((where, chain, "not in __all__"))
    return wrong


def test_the_app_uses_only_the_public_api():
    assert _explorer_uses() == []


def test_views_do_not_import_each_other():
    for path in sorted((EXPLORER / "views").glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("explorer.views"), f"{path.name} imports {node.module}"


def test_nothing_cites_files_outside_the_repository():
    """The project documents itself: no DESIGN.md, TESTING.md or /work/ paths in code, help or docs."""
    repo = ROOT.parent
    files = [*repo.glob("*.md"), *repo.glob("docs/**/*.md"), *repo.rglob("*.py"), *repo.glob("*.toml")]
    for path in files:
        if any(part in (".venv", "artifacts", ".git") for part in path.parts) or path.name == "test_layout.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for needle in ("DESIGN.md", "TESTING.md", "/work/shared"):
            assert needle not in text, f"{path.relative_to(repo)} cites {needle}"
