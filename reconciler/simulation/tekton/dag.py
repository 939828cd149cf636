"""The Pipeline's task graph, built as Tekton builds it (``pkg/reconciler/pipeline/dag``).

A task depends on every task it names in ``runAfter`` and on every task whose results it
references in its params or ``when`` expressions (``PipelineTask.Deps``). A dependency on a task
that does not exist, or a cycle, makes the graph invalid (the PipelineRun fails with
``PipelineInvalidGraph``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .params import result_refs, task_texts

__all__ = ["Graph", "GraphError", "build_graph", "task_dependencies"]


class GraphError(ValueError):
    """The Pipeline's tasks do not form a DAG."""


def task_dependencies(task: Mapping[str, Any]) -> list[str]:
    """Tasks ``task`` waits for: result references first, then ``runAfter``, without duplicates."""
    deps = {ref.task: None for ref in result_refs(task_texts(task))}
    for name in task.get("runAfter") or []:
        deps[str(name)] = None
    return list(deps)


@dataclass(frozen=True)
class Graph:
    """Tasks in the Pipeline's order, for each the tasks it depends on, and an order in which
    every task comes after its parents."""

    order: tuple[str, ...]
    parents: Mapping[str, tuple[str, ...]]
    topological: tuple[str, ...] = ()

    def candidates(self, done: Callable[[str], bool]) -> list[str]:
        """Tasks that are not done and whose parents all are, in Pipeline order (what
        ``dag.GetCandidateTasks`` finds walking from the roots through done tasks)."""
        return [t for t in self.order if not done(t) and all(done(p) for p in self.parents[t])]


def build_graph(tasks: Sequence[Mapping[str, Any]]) -> Graph:
    names = [str(t.get("name")) for t in tasks]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise GraphError(f"duplicate pipeline task name {duplicate!r}")
    parents: dict[str, tuple[str, ...]] = {}
    for task, name in zip(tasks, names, strict=True):
        deps = task_dependencies(task)
        for dep in deps:
            if dep not in names:
                raise GraphError(f"task {name} depends on {dep} but {dep} wasn't present in Pipeline")
            if dep == name:
                raise GraphError(f"cycle detected; task {name!r} depends on itself")
        parents[name] = tuple(deps)
    return Graph(tuple(names), parents, _topological(names, parents))


def _topological(names: Sequence[str], parents: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Parents before children (iterative, so long chains need no deep recursion); GraphError
    naming the cycle when there is one."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 placed
    for root in names:
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            name, next_parent = stack.pop()
            if next_parent == 0:
                if state.get(name) == 2:
                    continue
                state[name] = 1
            if next_parent < len(parents[name]):
                stack.append((name, next_parent + 1))
                parent = parents[name][next_parent]
                if state.get(parent) == 1:
                    path = [n for n, _ in stack]
                    cycle = [*path[path.index(parent):], parent]
                    raise GraphError(f"cycle detected: {' -> '.join(cycle)}")
                if state.get(parent) != 2:
                    stack.append((parent, 0))
                continue
            state[name] = 2
            order.append(name)
    return tuple(order)
