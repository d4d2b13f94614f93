"""Print a Mermaid picture of which apps import which, from the code itself.

    .venv/bin/python scripts/layers.py

One node per top-level module of chinhquyenso, an edge A --> B when any module of A imports any
module of B directly. The output goes in docs/architecture.md, "Layers"; the rules the picture
should obey are the [tool.importlinter] contract in pyproject.toml (`lint-imports`).
"""

import sys
from pathlib import Path

import grimp

PACKAGE = "chinhquyenso"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def top_level(module: str) -> str | None:
    """chinhquyenso.dossiers.services → dossiers; the package itself → None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else None


def app_edges(graph) -> tuple[list[str], set[tuple[str, str]]]:
    nodes = sorted(top_level(child) for child in graph.find_children(PACKAGE))
    edges = set()
    for module in graph.modules:
        source = top_level(module)
        if source is None:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = top_level(imported)
            if target is not None and target != source:
                edges.add((source, target))
    return nodes, edges


def mermaid(nodes: list[str], edges: set[tuple[str, str]]) -> str:
    lines = ["graph TD"]
    lines += [f"    {node}" for node in nodes]
    lines += [f"    {source} --> {target}" for source, target in sorted(edges)]
    return "\n".join(lines)


def main() -> None:
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    print(mermaid(*app_edges(graph)))


if __name__ == "__main__":
    main()
