#!/usr/bin/env python3
"""No module imports from a module that imports it back.

For every crate of the workspace, builds the graph of `crate::a::b` and
`super::x` paths between its modules (test modules excluded), at the depth
of the top-level modules and at the depth of their children, and fails
naming every cycle. A parent using its own child by bare name (`front::X`
inside `sandbox/mod.rs`) is not counted: a module may use what it contains.

Usage: python3 tools/module_cycles/check.py   (from the repository root)
"""

import os
import re
import sys

CRATES = ["anist-core/src", "anist-client/src", "src", "bindings-c/src", "bindings-python/src"]


def module_of(root: str, path: str) -> list[str]:
    parts = os.path.relpath(path, root)[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def edges_of(root: str, depth: int) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(d, f)
            module = module_of(root, path)
            src = open(path, encoding="utf-8").read()
            tests = src.find("#[cfg(test)]\nmod tests")
            if tests >= 0:
                src = src[:tests]
            src = re.sub(r"//[^\n]*", "", src)
            key = "::".join(module[:depth]) or "crate"
            targets = [r.split("::") for r in re.findall(r"crate::([a-z_]+(?:::[a-z_]+)*)", src)]
            if len(module) >= 2:
                parent = module[:-1]
                targets += [parent + [r] for r in re.findall(r"super::([a-z_]+)", src)]
            for t in targets:
                target = "::".join(t[:depth])
                if target != key:
                    edges.setdefault(key, set()).add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    nodes = set(edges) | {t for ts in edges.values() for t in ts}
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    failed = False
    for root in CRATES:
        for depth in (1, 2):
            edges = edges_of(root, depth)
            for comp in cycles(edges):
                failed = True
                print(f"{root}: modules that import each other: {', '.join(comp)}")
                for m in comp:
                    print(f"    {m} -> {', '.join(sorted(t for t in edges.get(m, ()) if t in comp))}")
    if not failed:
        print("no module imports a module that imports it back")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
