"""Compile-time benchmark: ``python benchmarks/bench_compile.py [--quick] [--sizes N,...] [--profile N]``.

For generated workflows of 100, 1,000 and 10,000 steps (groups of ten: a head step that reads
the previous group's join, eight parallel steps that read the head, a join that waits for the
eight and reads one of them) it measures, in one process, one size after the other:

* the **LibYAML I/O floor**: ``yaml.load(input, CSafeLoader)`` plus ``yaml.dump_all`` of the
  very objects ``compile --target all`` writes with ``CSafeDumper`` — what any tool that reads
  this input and writes this output with the fastest YAML library for Python must pay;
* ``kubernaut compile --target all FILE`` run in-process through the CLI's entry point (front end with
  positions and checks, both targets, the reviewable YAML writer; stdout goes to memory);
* the stages alone: front end (``compile_files``), targets (IR -> manifests), writer.

and prints the compile time as a multiple of the floor (the goal is <= 2.0x at 1,000 steps and
<= 1.0x at 10,000) and the time per step (the 10,000-step figure should be within 1.5x of the
1,000-step one: no super-linear stage). Best of several runs, wall-clock; the machine should be
otherwise idle, and only ratios measured within one run should be compared.
``--profile N`` prints the top cProfile entries of the pipeline for N steps instead.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import hashlib
import io
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

import targets.jobs  # noqa: E402
import targets.tekton  # noqa: E402
from compiler.frontend import compile_files  # noqa: E402
from compiler.ir import Workflow  # noqa: E402
from compiler.yamlout import dump_documents  # noqa: E402
from kubernaut.cli import main as kubernaut_main  # noqa: E402

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
        gc.collect()  # start each run from the same heap, whatever the previous one left
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def manifests(wf: Workflow) -> list[dict[str, Any]]:
    """What ``--target all`` emits, in its order."""
    return targets.jobs.compile_workflow(wf) + targets.tekton.compile_workflow(wf)


def compile_all(path: Path) -> str:
    """``kubernaut compile --target all PATH`` through the CLI's entry point, stdout kept in memory."""
    out = io.StringIO()
    argv = sys.argv
    sys.argv = ["kubernaut", "compile", "--target", "all", str(path)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            kubernaut_main()
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"kubernaut compile exited {exc.code}") from None
    finally:
        sys.argv = argv
    return out.getvalue()


def libyaml_floor(text: str, docs: list[dict[str, Any]]) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """The two halves of the floor: load the input, dump the output objects."""

    def load() -> Any:
        return yaml.load(text, Loader=yaml.CSafeLoader)

    def dump() -> str:
        return yaml.dump_all(docs, Dumper=yaml.CSafeDumper, explicit_start=True, default_flow_style=False,
                             sort_keys=False, allow_unicode=True, width=2**31 - 1)

    return load, dump


def measure(steps: int, runs: int, folder: Path) -> dict[str, float]:
    path = folder / f"bench-{steps}.yaml"
    text = workflow_yaml(steps)
    path.write_text(text)
    result = compile_files([path])
    assert result.ok, [d.headline() for d in result.diagnostics]
    (wf,) = result.workflows
    assert len(wf.steps) == steps
    docs = manifests(wf)
    out = compile_all(path)
    assert out == dump_documents(docs), "the CLI must write what the stages produce"
    load, dump = libyaml_floor(text, docs)
    return {
        "load": best_of(runs, load),
        "dump": best_of(runs, dump),
        "frontend": best_of(runs, lambda: compile_files([path])),
        "targets": best_of(runs, lambda: manifests(wf)),
        "writer": best_of(runs, lambda: dump_documents(docs)),
        "compile": best_of(runs, lambda: compile_all(path)),
        "bytes_in": len(text.encode()),
        "bytes_out": len(out.encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per size, up to 1,000 steps")
    parser.add_argument("--sizes", help="comma-separated step counts (multiples of ten)")
    parser.add_argument("--profile", type=int, metavar="STEPS", help="cProfile the pipeline instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.profile:
            path = folder / "profile.yaml"
            path.write_text(workflow_yaml(args.profile))
            profiler = cProfile.Profile()
            profiler.enable()
            compile_all(path)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return
        sizes = [100, 1_000] if args.quick else [100, 1_000, 10_000]
        if args.sizes:
            sizes = [int(size) for size in args.sizes.split(",")]
        print(f"{'steps':>7} {'in KiB':>7} {'out KiB':>8} | {'load':>7} {'dump':>7} {'floor':>7} | "
              f"{'front':>7} {'targets':>7} {'writer':>7} {'compile':>8} | {'x floor':>7} {'us/step':>8}")
        per_step: dict[int, float] = {}
        for steps in sizes:
            runs = 1 if args.quick else (2 if steps >= 10_000 else 5)
            m = measure(steps, runs, folder)
            floor = m["load"] + m["dump"]
            per_step[steps] = m["compile"] / steps
            print(f"{steps:>7} {m['bytes_in'] / 1024:>7.0f} {m['bytes_out'] / 1024:>8.0f} | "
                  f"{m['load']:>6.3f}s {m['dump']:>6.3f}s {floor:>6.3f}s | "
                  f"{m['frontend']:>6.3f}s {m['targets']:>6.3f}s {m['writer']:>6.3f}s {m['compile']:>7.3f}s | "
                  f"{m['compile'] / floor:>6.2f}x {per_step[steps] * 1e6:>8.0f}", flush=True)
        print("floor = LibYAML load of the input + LibYAML dump of the output objects; "
              "compile = `kubernaut compile --target all` in-process")
        if 1_000 in per_step and 10_000 in per_step:
            print(f"time per step at 10,000 / at 1,000: {per_step[10_000] / per_step[1_000]:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
