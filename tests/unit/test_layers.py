"""The package layout of docs/architecture.md, checked on the source: every import (module level or inside a
function) points down the layers, and there is no import cycle between modules."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Lower layers never import higher ones. `pipeline.codec` and `metrics` are the shared base; `pipeline.settings`
#: (the one typed configuration) sits with the contract.
LAYERS = ["pipeline.base", "pipeline.contract", "pipeline.domain", "pipeline.adapters", "pipeline.runtime",
          "pipeline.web", "agents", "pipeline.ops", "pipeline.tools", "pipeline.cli"]
MAX_LINES = 400
BASE = {"pipeline", "pipeline.codec", "pipeline.metrics", "pipeline.data", "pipeline.textfile"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    files = [*ROOT.joinpath("pipeline").rglob("*.py"), *ROOT.joinpath("agents").rglob("*.py"),
             *ROOT.joinpath("schemas").rglob("*.py")]
    return {module_name(p): p for p in files if "broker" not in p.parts}


def imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports (`from a.b import c` counts as a.b.c when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        else:
            continue
        found.update(n for n in names if n in known)
    return found


def layer(module: str) -> int:
    if module in BASE or module.startswith("pipeline.data"):
        return 0
    if module == "schemas" or module.startswith("schemas."):
        return 0
    if module == "pipeline.settings":
        return LAYERS.index("pipeline.contract")
    matches = [(len(prefix), i) for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is in no layer of {LAYERS}"
    return max(matches)[1]  # the most specific: the CLI sits above the tools it runs


def graph() -> dict[str, set[str]]:
    mods = sources()
    known = set(mods)
    return {m: imports(p, known) - {m} for m, p in mods.items()}


def test_imports_point_down_the_layers():
    wrong = [f"{m} → {dep}" for m, deps in graph().items() for dep in deps
             if layer(dep) > layer(m) and not (m.startswith("agents") and dep == "agents")]
    assert wrong == [], "imports that point up the layers:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle():
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    # a package's __init__ importing its own modules is not a cycle of design
    cycles = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".") for x in c)]
    assert cycles == [], f"import cycles: {cycles}"
def test_no_module_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in sources().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"
