"""Start-up benchmark: ``python benchmarks/bench_startup.py [--runs N]``.

Each command runs N times in a fresh interpreter, as a TaskRun's container or a user's shell
runs it; the script reports the median CPU time (user + system, from ``getrusage`` of the
children) and wall time of each:

* ``python3 -c pass``: the interpreter alone, the floor of every command;
* the Tekton helper steps ``kubernaut task resolve-inputs`` and ``publish-outputs`` through the
  console script's entry point (``python3 -m kubernaut``), and, for comparison, after importing
  every command first (what the console script did before: Typer, the reconciler, the
  Kubernetes client);
* ``kubernaut validate`` of a small workflow (its own command only, and again after importing
  every command) and ``kubernaut --help`` (which lists, so imports, every command).

The goal for the helper steps is well under 0.2 s of CPU. ``python3 -X importtime -m kubernaut
task ...`` shows where the rest goes. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing

from targets.tekton import interface as i  # noqa: E402
from targets.tekton.inputs_param import encode_inputs_param  # noqa: E402

CONSOLE = [sys.executable, "-m", "kubernaut"]
# The former start-up: every command imported before the command line runs.
EVERYTHING_FIRST = [sys.executable, "-c", "import sys; sys.argv[0] = 'kubernaut'; "
                    "from kubernaut.cli import commands, main; commands.load(); main()"]
SMALL_WORKFLOW = ROOT / "examples" / "echo-data-passing.yaml"


def run(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of ``runs`` runs of ``argv``."""
    cpu, wall = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median reported)")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KUBERNAUT_", "RESULTS_"))}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stdout = folder / "stdout"
        stdout.write_text('{"ready": true, "count": 3}\n', encoding="utf-8")
        resolve_env = {**base, i.ENV_STEP: "consume", i.ENV_WORKFLOW_NAME: "wf", i.ENV_WORKFLOW_NAMESPACE: "ns",
                       i.ENV_WORKFLOW_UID: "u-1",
                       i.ENV_INPUTS: encode_inputs_param({"count": "$(steps.p.outputs.count)",
                                                          "note": "n=$(steps.p.outputs.count)"})}
        resolve = ["task", "resolve-inputs", "--out", str(folder / "inputs.json"), "--",
                   i.ARG_UPSTREAM_STEPS, "p", i.ARG_UPSTREAM_OUTPUTS, json.dumps({"count": 3})]
        publish_env = {**base, i.ENV_STEP: "produce", i.ENV_RESULTS_OUTPUTS_PATH: str(folder / "outputs"),
                       i.ENV_RESULTS_GUARDS_PATH: str(folder / "guards")}
        publish = ["task", "publish-outputs", "--from", str(stdout), "--", i.ARG_GUARD_KEYS, "ready",
                   i.ARG_REQUIRED_OUTPUTS, "count"]
        commands = [
            ("python3 -c pass (interpreter)", [sys.executable, "-c", "pass"], base),
            ("task resolve-inputs", CONSOLE + resolve, resolve_env),
            ("task publish-outputs", CONSOLE + publish, publish_env),
            ("task resolve-inputs, all commands first", EVERYTHING_FIRST + resolve, resolve_env),
            ("task publish-outputs, all commands first", EVERYTHING_FIRST + publish, publish_env),
            (f"validate {SMALL_WORKFLOW.name}", [*CONSOLE, "validate", str(SMALL_WORKFLOW)], base),
            ("validate, all commands first", [*EVERYTHING_FIRST, "validate", str(SMALL_WORKFLOW)], base),
            ("--help", [*CONSOLE, "--help"], base),
        ]
        print(f"{'command':<42} {'CPU':>8} {'wall':>8}   (median of {args.runs})")
        for name, argv, env in commands:
            cpu, wall = run(argv, env, args.runs)
            print(f"{name:<42} {cpu:>7.3f}s {wall:>7.3f}s", flush=True)


if __name__ == "__main__":
    main()
