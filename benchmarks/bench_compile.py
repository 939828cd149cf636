"""Compile-time benchmark: ``python benchmarks/bench_compile.py [--quick] [--profile N]``.

Measures, for generated workflows of 100, 1,000 and 10,000 steps (groups of ten: a head step
that reads the previous group's join, eight parallel steps that read the head, a join that waits
for the eight and reads one of them), the time of

* the I/O floor: ``yaml.safe_load`` of the input plus dumping the output objects as reviewable
  YAML — what any tool that reads this input and writes this output must pay;
* the front end alone (``compile_files``: load with positions, checks, IR);
* the jobs target (IR -> manifest dicts);
* the YAML dump of those manifests;
* the whole ``kubernaut compile`` pipeline (front end + target + dump), in-process.

Best of several runs, wall-clock. ``--profile N`` prints the top cProfile entries of the
pipeline for N steps instead.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing

from compiler.frontend import compile_files  # noqa: E402
from compiler.yamlout import dump_documents  # noqa: E402
from targets.jobs import compile_workflow  # noqa: E402

IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + hashlib.sha256(b"echo").hexdigest()
GROUP = 10


def workflow_yaml(steps: int) -> str:
    """A WorkflowExecution of ``steps`` steps (a multiple of ten): chains of fan-out/fan-in groups."""
    lines = ["apiVersion: workflowexecution.kubernaut.ai/v1alpha1", "kind: WorkflowExecution",
             f"metadata:\n  name: bench-{steps}\n  namespace: bench", "spec:", "  timeout: 24h", "  steps:"]

    def step(name: str, inputs: dict[str, str], run_after: Sequence[str] = ()) -> None:
        lines.append(f"    - name: {name}\n      actionType: kubernaut/echo\n      image: {IMAGE}")
        if run_after:
            lines.append(f"      runAfter: [{', '.join(run_after)}]")
        lines.append("      inputs:")
        lines.extend(f"        {key}: {value!r}" for key, value in inputs.items())

    previous = None
    for group in range(steps // GROUP):
        head = f"g{group}-head"
        step(head, {"value": f"$(steps.{previous}.outputs.value)" if previous else "start", "group": str(group)})
        workers = [f"g{group}-w{i}" for i in range(GROUP - 2)]
        for i, worker in enumerate(workers):
            step(worker, {"value": f"worker {i} after $(steps.{head}.outputs.value)", "index": str(i)})
        join = f"g{group}-join"
        step(join, {"value": f"$(steps.{workers[0]}.outputs.value)"}, run_after=workers)
        previous = join
    return "\n".join(lines) + "\n"


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(steps: int, runs: int, folder: Path) -> dict[str, float]:
    path = folder / f"bench-{steps}.yaml"
    text = workflow_yaml(steps)
    path.write_text(text)
    result = compile_files([path])
    assert result.ok, [d.headline() for d in result.diagnostics]
    (wf,) = result.workflows
    assert len(wf.steps) == steps
    docs = compile_workflow(wf)

    def pipeline() -> str:
        (workflow,) = compile_files([path]).workflows
        return dump_documents(compile_workflow(workflow))

    return {
        "load": best_of(runs, lambda: yaml.safe_load(text)),
        "dump": best_of(runs, lambda: dump_documents(docs)),
        "frontend": best_of(runs, lambda: compile_files([path])),
        "target": best_of(runs, lambda: compile_workflow(wf)),
        "pipeline": best_of(runs, pipeline),
        "bytes_in": len(text.encode()),
        "bytes_out": len(dump_documents(docs).encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per size, up to 1,000 steps")
    parser.add_argument("--profile", type=int, metavar="STEPS", help="cProfile the pipeline instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.profile:
            path = folder / "profile.yaml"
            path.write_text(workflow_yaml(args.profile))
            profiler = cProfile.Profile()
            profiler.enable()
            (wf,) = compile_files([path]).workflows
            dump_documents(compile_workflow(wf))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            return
        sizes = [100, 1_000] if args.quick else [100, 1_000, 10_000]
        print(f"{'steps':>7} {'in KiB':>7} {'out KiB':>8} | {'load':>7} {'dump':>7} {'floor':>7} | "
              f"{'front':>7} {'target':>7} {'compile':>8} | {'x floor':>7} {'us/step':>8}")
        for steps in sizes:
            runs = 1 if args.quick else (2 if steps >= 10_000 else 5)
            m = measure(steps, runs, folder)
            floor = m["load"] + m["dump"]
            print(f"{steps:>7} {m['bytes_in'] / 1024:>7.0f} {m['bytes_out'] / 1024:>8.0f} | "
                  f"{m['load']:>6.3f}s {m['dump']:>6.3f}s {floor:>6.3f}s | "
                  f"{m['frontend']:>6.3f}s {m['target']:>6.3f}s {m['pipeline']:>7.3f}s | "
                  f"{m['pipeline'] / floor:>6.2f}x {m['pipeline'] / steps * 1e6:>8.0f}")
        print("floor = yaml.safe_load(input) + dump_documents(output); compile = front end + jobs target + dump")


if __name__ == "__main__":
    main()
