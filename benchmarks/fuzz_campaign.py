"""The long fuzz campaign (issue 15): ``python benchmarks/fuzz_campaign.py [--inputs N] [--seed S] ...``.

Input number *n* of seed *S* is ``tests/fuzz/mutate.py``'s ``Mutator(S).input(n)``: a corpus
workflow (examples, golden inputs, hostile inputs) mutated structurally, sometimes damaged as
text or bytes, sometimes random bytes. Each input goes through ``tests/fuzz/pipeline.py``'s
``check``: the front end, both targets, determinism and the parity checker, with every
diagnostic located; every ``--cli-every``-th input also goes through ``kubernaut validate`` and
``compile --target all`` in-process (exit 0 or 1, never an exception), and every
``--twice-every``-th valid one is compiled twice and compared (determinism).

Inputs run in worker processes (``--workers``, each under an address-space limit of
``--memory-limit`` MB), one at a time, with a ``--timeout`` (10 s): a worker that takes longer is
killed and the input counts as a hang. Crashes (an exception), violations (a broken promise, for
example an unlocated diagnostic) and hangs are saved to ``--crash-dir`` as
``<kind>-<n>.yaml`` plus ``<kind>-<n>.txt`` (what happened); ``--replay N`` runs input N in this
process and prints what it did. The report gives inputs run, outcomes, crashes, violations,
hangs, the workers' peak RSS, inputs/s and the slowest input. Exit status 1 if anything was
found. ``--for-seconds`` stops early (the count run is reported honestly).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import os
import resource
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing
sys.path.append(str(ROOT / "tests"))  # the fuzzer and its oracle (tests/fuzz)

from fuzz.corpus import catalog, contract_dirs  # noqa: E402
from fuzz.mutate import Mutator  # noqa: E402
from fuzz.pipeline import PropertyViolation, check, check_cli  # noqa: E402

OK, INVALID, CRASH, VIOLATION, HANG = "ok", "invalid", "crash", "violation", "hang"
GENERATOR = "generator error"
OUTCOMES = (OK, INVALID, CRASH, VIOLATION, HANG, GENERATOR)


@dataclass
class Result:
    index: int
    outcome: str
    detail: str = ""
    seconds: float = 0.0
    peak_rss_kb: int = 0


def run_one(mutator: Mutator, index: int, cli: bool, scratch: Path, twice: bool = True) -> Result:
    """Input ``index`` through the oracle (and the CLI); never raises."""
    try:
        raw = mutator.input(index)
    except Exception as exc:
        return Result(index, GENERATOR, "".join(traceback.format_exception(exc)))
    started = time.perf_counter()
    try:
        outcome = OK if check(raw, catalog(), twice=twice).ok else INVALID
        if cli:
            path = scratch / "fuzz.yaml"
            path.write_bytes(raw)
            check_cli(path, contract_dirs())
        detail = ""
    except PropertyViolation as exc:
        outcome, detail = VIOLATION, str(exc)
    except BaseException as exc:
        outcome, detail = CRASH, "".join(traceback.format_exception(exc))
    elapsed = time.perf_counter() - started
    return Result(index, outcome, detail, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def worker(conn: multiprocessing.connection.Connection, seed: int, cli_every: int, twice_every: int,
           memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    mutator = Mutator(seed)
    with tempfile.TemporaryDirectory(prefix="kubernaut-fuzz-") as scratch:
        while True:
            index = conn.recv()
            if index is None:
                return
            cli = cli_every > 0 and index % cli_every == 0
            twice = twice_every > 0 and index % twice_every == 0
            conn.send(asdict(run_one(mutator, index, cli, Path(scratch), twice)))


@dataclass
class Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    index: int | None = None
    started: float = 0.0


@dataclass
class Campaign:
    args: argparse.Namespace
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    peak_rss_kb: int = 0
    slowest: tuple[float, int] = (0.0, -1)
    found: list[dict[str, Any]] = field(default_factory=list)

    def start_worker(self) -> Worker:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        args = (child, self.args.seed, self.args.cli_every, self.args.twice_every, self.args.memory_limit)
        process = context.Process(target=worker, args=args, daemon=True)
        process.start()
        child.close()
        return Worker(process, parent)

    def record(self, result: Result) -> None:
        self.counts[result.outcome] += 1
        self.peak_rss_kb = max(self.peak_rss_kb, result.peak_rss_kb)
        self.slowest = max(self.slowest, (result.seconds, result.index))
        if result.outcome in (CRASH, VIOLATION, HANG):
            self.save(result)
        elif result.outcome == GENERATOR:  # the fuzzer's own bug: say which input, to --replay it
            last = result.detail.strip().splitlines()[-1] if result.detail else ""
            print(f"  generator error: input {result.index}: {last}", file=sys.stderr, flush=True)

    def save(self, result: Result) -> None:
        folder = Path(self.args.crash_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"{result.outcome}-{self.args.seed}-{result.index}"
        try:
            stem.with_suffix(".yaml").write_bytes(Mutator(self.args.seed).input(result.index))
        except Exception as exc:
            result.detail += f"\n(the input could not be generated again: {exc!r})"
        stem.with_suffix(".txt").write_text(result.detail + "\n", encoding="utf-8")
        self.found.append({"outcome": result.outcome, "input": str(stem.with_suffix(".yaml")),
                           "detail": result.detail.strip().splitlines()[-1][:300] if result.detail else ""})
        print(f"  {result.outcome}: input {result.index} -> {stem}.yaml", file=sys.stderr, flush=True)

    def run(self) -> float:
        args = self.args
        pending = iter(range(args.start, args.start + args.inputs))
        deadline = time.monotonic() + args.for_seconds if args.for_seconds else None
        workers = [self.start_worker() for _ in range(args.workers)]
        started = time.monotonic()
        done = 0
        next_report = args.progress

        def feed(w: Worker) -> None:
            if deadline is not None and time.monotonic() > deadline:
                return
            index = next(pending, None)
            if index is not None:
                w.index, w.started = index, time.monotonic()
                w.conn.send(index)

        for w in workers:
            feed(w)
        while any(w.index is not None for w in workers):
            busy = [w for w in workers if w.index is not None]
            wait = max(0.0, min(w.started + args.timeout for w in busy) - time.monotonic())
            ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=wait)
            for i, w in enumerate(workers):
                index = w.index
                if index is None:
                    continue
                if w.conn in ready:
                    try:
                        self.record(Result(**w.conn.recv()))
                    except EOFError:  # the worker died (a segfault, the memory limit in C code)
                        dead, w = w, self.replace(w)
                        workers[i] = w
                        self.record(Result(index, CRASH, f"worker died: exit code {dead.process.exitcode}"))
                elif time.monotonic() - w.started > args.timeout:
                    self.record(Result(index, HANG, f"no result after {args.timeout:g} s", args.timeout))
                    w = workers[i] = self.replace(w)
                else:
                    continue
                done += 1
                w.index = None
                feed(w)
            if done >= next_report:
                rate = done / (time.monotonic() - started)
                print(f"  {done:,} inputs, {rate:.0f}/s, {self.summary_counts()}", file=sys.stderr, flush=True)
                next_report += args.progress
        for w in workers:
            w.conn.send(None)
            w.process.join(5)
        return time.monotonic() - started

    def replace(self, w: Worker) -> Worker:
        w.process.kill()  # our own child, by its handle
        w.process.join()
        w.conn.close()
        return self.start_worker()

    def summary_counts(self) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in self.counts.items())


def replay(seed: int, index: int, crash_dir: Path) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        result = run_one(Mutator(seed), index, True, Path(scratch))
    print(f"input {index} of seed {seed}: {result.outcome} in {result.seconds:.2f} s")
    if result.detail:
        print(result.detail)
    crash_dir.mkdir(parents=True, exist_ok=True)
    (crash_dir / f"replay-{seed}-{index}.yaml").write_bytes(Mutator(seed).input(index))
    return 0 if result.outcome in (OK, INVALID) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--start", type=int, default=0, help="first input number")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before an input counts as a hang")
    parser.add_argument("--memory-limit", type=int, default=2048, help="address space per worker, MB")
    parser.add_argument("--cli-every", type=int, default=20, help="every N-th input also runs through the CLI")
    parser.add_argument("--twice-every", type=int, default=4,
                        help="every N-th valid input is compiled twice and compared (determinism)")
    parser.add_argument("--crash-dir", default="fuzz-findings")
    parser.add_argument("--for-seconds", type=float, default=0, help="stop feeding inputs after this long")
    parser.add_argument("--progress", type=int, default=5_000, help="print a progress line every N inputs")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--replay", type=int, metavar="N", help="run input N here and print what it did")
    args = parser.parse_args()
    if args.replay is not None:
        return replay(args.seed, args.replay, Path(args.crash_dir))

    catalog()  # loaded once, before the workers fork
    campaign = Campaign(args)
    seconds = campaign.run()
    total = sum(campaign.counts.values())
    report = {
        "seed": args.seed, "inputs": total, "first_input": args.start, "seconds": round(seconds, 1),
        "inputs_per_second": round(total / seconds, 1) if seconds else 0.0, "workers": args.workers,
        "outcomes": campaign.counts, "peak_rss_mb": round(campaign.peak_rss_kb / 1024, 1),
        "slowest_input": {"index": campaign.slowest[1], "seconds": round(campaign.slowest[0], 2)},
        "found": campaign.found,
    }
    print(f"fuzz campaign, seed {args.seed}: {total:,} inputs in {seconds:,.0f} s "
          f"({report['inputs_per_second']}/s, {args.workers} workers)")
    print(f"  outcomes: {campaign.summary_counts()}")
    print(f"  peak RSS of a worker: {report['peak_rss_mb']} MB; slowest input: {campaign.slowest[1]} "
          f"({campaign.slowest[0]:.2f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if campaign.found else 0


if __name__ == "__main__":
    sys.exit(main())
