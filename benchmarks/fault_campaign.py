"""The large fault campaign (issue 15, item 6): ``python benchmarks/fault_campaign.py
[--workflows 200] [--engine jobs|tekton|both] [--seed N] [--seeds K]``.

Runs ``--workflows`` workflows of known outcome (success; retries then success; failure after
retries; attempts timing out; cancellation while a step runs; every fifth pair waiting for a
shared target's lock) through kubernaut's real controllers on the embedded cluster and a virtual
clock, with faults on kubernaut's requests only (the simulated Job and Tekton controllers' and
the user's requests are never faulted, so a wrong result is kubernaut's):

* ``--errors`` (default 0.2) of requests fail (500, 409, 429 or a timeout, before acting);
* ``--lost`` (0.1) of the other writes are carried out and answered with a timeout;
* ``--expiry`` (0.3) of watch rounds end in 410 Expired (the informers re-list);
* the controllers (kubernaut's and the simulators') are restarted after a random number of
  kubernaut's reconciles, between 1 and 10 per workflow (``--restart-min/--restart-max``;
  ``--no-restarts``). A restart queues every key again: restarting more often than the
  controllers can work through that backlog starves the keys late in the queue, which no
  controller survives; the small campaign in the tests restarts after 20-200 reconciles for
  15 workflows.

Then every workflow is deleted, still under faults. Printed per engine and seed: workflows by
phase against the expected phases, wrong terminal phases (phase, or a step's phase or attempts),
duplicates (Jobs per step attempt, ActionExecutions per step, PipelineRuns per workflow), leaks
(workspace claims, kubernaut finalizers, held target Leases, Jobs/PipelineRuns/TaskRuns still
running after their workflow ended, anything left after the deletion), injected faults by kind,
informer re-lists after a 410, restarts, and virtual and wall time to convergence. Exit status 1
when any campaign was not clean. The invariants are in ``tests/faults/campaign.py``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing
sys.path.append(str(ROOT / "tests" / "faults"))  # appended: tests/ must not shadow the packages

from campaign import Campaign, CampaignConfig, Report  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--engine", choices=("jobs", "tekton", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds, from --seed on")
    parser.add_argument("--errors", type=float, default=0.2, help="fraction of requests failed")
    parser.add_argument("--lost", type=float, default=0.1, help="fraction of writes whose answer is lost")
    parser.add_argument("--expiry", type=float, default=0.3, help="fraction of watch rounds ending in 410")
    parser.add_argument("--restart-min", type=int, help="default: the number of workflows")
    parser.add_argument("--restart-max", type=int, help="default: 10 times the number of workflows")
    parser.add_argument("--no-restarts", action="store_true")
    parser.add_argument("--max-virtual-seconds", type=float, default=4 * 3600.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every injected fault logs a warning
    engines = ("jobs", "tekton") if args.engine == "both" else (args.engine,)
    restart_min = args.restart_min or args.workflows
    restart_max = args.restart_max or 10 * args.workflows
    clean = True
    for engine in engines:
        for seed in range(args.seed, args.seed + args.seeds):
            config = CampaignConfig(
                workflows=args.workflows, engine=engine, seed=seed, error_rate=args.errors,
                lost_response_rate=args.lost, watch_expiry_rate=args.expiry,
                restart_every=None if args.no_restarts else (restart_min, restart_max),
                max_virtual_seconds=args.max_virtual_seconds)
            restarts = ("no restarts" if args.no_restarts
                        else f"restarts every {restart_min}-{restart_max} reconciles")
            print(f"engine {engine}, seed {seed}: {args.errors:.0%} errors, {args.lost:.0%} lost responses, "
                  f"{args.expiry:.0%} of watch rounds end in 410, {restarts}", flush=True)
            report: Report = Campaign(config).run()
            for line in report.lines():
                print(f"  {line}")
            print(f"  clean: {report.clean}\n", flush=True)
            clean = clean and report.clean
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
