"""The layout's promises, checked: no import cycle among the simulator's modules, and one
route table that the router, the OpenAPI document and docs/server.md all follow."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from simulator.core.validation import default_store
from simulator.server.admin_table import ADMIN
from simulator.server.openapi import openapi_document
from simulator.server.routes import EMULATED, markdown_table

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "simulator"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not those inside functions)."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    if isinstance(child, ast.ExceptHandler):
                        pending.extend(child.body)
                    else:
                        pending.append(child)
    return found


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _top_level_imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor if is_package else anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.append(child if child in files else base)
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle_among_simulator_modules() -> None:
    graph = _import_graph()
    assert len(graph) > 50  # the walk found the package
    assert "simulator.server.routes" in graph["simulator.server.openapi"]  # edges are seen
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_docs_endpoint_table_is_the_route_table() -> None:
    text = (ROOT / "docs" / "server.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- route-table:begin -->\n(.*?)<!-- route-table:end -->", text, re.S)
    assert found, "docs/server.md lost its route-table markers"
    assert found.group(1) == markdown_table(), (
        "docs/server.md's endpoint table differs from simulator/server/routes.py; paste:\n"
        + markdown_table()
    )


def test_openapi_documents_exactly_the_route_table() -> None:
    document = openapi_document(default_store(), ADMIN)
    emulated = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if not path.startswith("/__admin")
        for method in operations
    }
    assert emulated == {(r.method, r.path) for r in EMULATED if r.openapi}
    for route in EMULATED:
        if route.openapi and route.request_schema and route.method == "POST":
            body = document["paths"][route.path]["post"]["requestBody"]
            schema = body["content"]["application/json"]["schema"]["$ref"]
            assert schema.endswith("/" + route.request_schema)


def test_openapi_documents_every_admin_route() -> None:
    # the router and the document both come from the admin route table: every /__admin
    # route the app serves is documented, but for the few the table keeps out (the console's
    # page and its endless stream), and the document promises nothing the app does not serve
    from simulator.config import load_config
    from simulator.server.app import create_app

    app = create_app(load_config(None, environ={}))
    registered = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/__admin")
    }
    document = openapi_document(default_store(), ADMIN)
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/__admin")
        for method in operations
    }
    # a placeholder's pattern is not part of the canonical path aiohttp reports
    kept_out = {
        (row.method, re.sub(r"\{(\w+):[^}]*\}", r"{\1}", row.path))
        for row in ADMIN
        if not row.openapi
    }
    assert kept_out == {
        ("GET", "/__admin/stream"),
        ("GET", "/__admin/ui"),
        ("GET", "/__admin/ui/"),
        ("GET", "/__admin/ui/auth"),
        ("GET", "/__admin/ui/{name}"),
    } | {("GET", "/")}
    assert registered == documented | {route for route in kept_out if route[1] != "/"}
    assert {
        ("POST", "/__admin/faults"),
        ("GET", "/__admin/faults"),
        ("DELETE", "/__admin/faults"),
        ("DELETE", "/__admin/faults/{id}"),
    } <= documented
    # a row's request schema is its documented body, and the router checks it
    for row in ADMIN:
        if row.request_schema is not None:
            body = document["paths"][row.path][row.method.lower()]["requestBody"]
            assert body["content"]["application/json"]["schema"]["$ref"].endswith(
                "/" + row.request_schema
            )
