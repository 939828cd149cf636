"""The fault campaign (issue 15, item 6): many workflows of known outcome, run by kubernaut's real
controllers on the embedded cluster and a virtual clock while the API server misbehaves, then
checked against what must have happened.

Faults hit **kubernaut's requests only** (its controllers talk through ``cluster.client("kubernaut")``;
the simulated Job and Tekton controllers through ``"simulator"``, the user's creates and cancels
through ``"user"``): API errors, lost responses (the write happens, the answer is a timeout),
watch rounds ending in 410 Expired, and controller restarts (every queue, timer and cache lost,
simulators included). So a wrong result is always kubernaut's fault, never the simulation's.

The invariants (:class:`Report`):

* **phases**: every workflow ends in the phase its script implies, every step in its phase with
  the exact number of attempts (a wrong one is, e.g., "attempt timed out" on a 2-second step);
* **duplicates**: at most one Job per (workflow, step, attempt) and attempts numbered 1..n (V1),
  one ActionExecution per (workflow, step) (V1), one PipelineRun per workflow (V2), ever
  (counted from a watch opened before anything happened);
* **leaks**, once every workflow is final: no workspace claim (V1 deletes it; on V2 Tekton's
  claim belongs to the PipelineRun, which garbage collection takes with the workflow), no object
  still carrying a kubernaut finalizer, no target Lease still held, no Job (V1) or
  PipelineRun/TaskRun (V2) still running for a workflow that ended; then the user deletes every
  workflow (still under faults) and nothing kubernaut made may remain (claims, Jobs, Pods,
  ActionExecutions, PipelineRuns, TaskRuns);
* **convergence**: every workflow final and cleaned up, then every workflow gone, each within a
  bound of virtual time.

Used by ``tests/faults/test_fault_campaign.py`` (small, several seeds) and
``benchmarks/fault_campaign.py`` (200 workflows, figures).
"""

from __future__ import annotations

import copy
import random
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.app import App, AppConfig, install
from reconciler.clock import VirtualClock, parse_rfc3339
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.memory_client import MemoryClient
from reconciler.cluster.memory_watch import MemoryWatch
from reconciler.runtime import Manager
from reconciler.simulation import Outcomes, parse_outcomes
from reconciler.simulation.jobs import JobSimulator
from reconciler.simulation.tekton import tekton_simulators
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER

__all__ = ["SHAPES", "Campaign", "CampaignConfig", "Report", "Shape"]

IMAGE = "ghcr.io/kubernaut/actions/thing@sha256:" + "c" * 64
NAMESPACE = "default"
TEKTON = "tekton.dev/v1"
KUBERNAUT, SIMULATOR, USER, OBSERVER = "kubernaut", "simulator", "user", "observer"
WORKFLOW, STEP, ATTEMPT = "kubernaut.ai/workflow", "kubernaut.ai/step", "kubernaut.ai/attempt"
KUBERNAUT_CONTROLLERS = ("workflowexecutions", "actionexecutions")
#: Every simulated step takes this long unless its script says otherwise.
STEP_SECONDS = 2.0
#: Virtual seconds after which a "cancel" workflow is cancelled once its long step runs.
CANCEL_AFTER_RUNNING = 30.0
#: The longest stretch of virtual time the campaign runs without looking (cancels, restarts).
SLICE_SECONDS = 60.0

# Outcomes are per step name, so each behaviour has step names of its own.
OUTCOMES = """
steps:
  clone: [{outputs: {sha: abc123}}]
  build: [{outputs: {image: built}}]
  flaky: [{result: failed, message: "connection reset"}, {outputs: {ok: true}}]
  broken: [{result: failed, message: "quota exceeded"}]
  hold: [{duration: 3000s}]
  slow: [{duration: 600s}]
"""


def _step(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "actionType": "custom/thing", "image": IMAGE, "inputs": {}, **fields}


@dataclass(frozen=True)
class Shape:
    """One kind of workflow: its steps, spec extras, and the final phases it must reach."""

    name: str
    steps: tuple[dict[str, Any], ...]
    phase: str
    expected_steps: dict[str, tuple[str, int]]
    extra: dict[str, Any] = field(default_factory=dict)
    cancel: bool = False

    def document(self, name: str, engine: str, target: str | None = None) -> dict[str, Any]:
        spec: dict[str, Any] = {"engine": engine, **copy.deepcopy(self.extra),
                                "steps": copy.deepcopy(list(self.steps))}
        if target is not None:
            spec["targetResource"] = {"kind": "Deployment", "name": target}
        return {"apiVersion": WFE_API_VERSION, "kind": WFE_KIND,
                "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec}


SHAPES: tuple[Shape, ...] = (
    Shape("succeeds",
          (_step("clone", usesWorkspace=True),
           _step("build", runAfter=["clone"], usesWorkspace=True, inputs={"sha": "$(steps.clone.outputs.sha)"}),
           _step("guarded", runAfter=["clone"], when=["$(steps.clone.outputs.sha) == 'other'"])),
          "Succeeded", {"clone": ("Succeeded", 1), "build": ("Succeeded", 1), "guarded": ("Skipped", 0)}),
    Shape("retries", (_step("clone", usesWorkspace=True), _step("flaky", runAfter=["clone"], retries=2)),
          "Succeeded", {"clone": ("Succeeded", 1), "flaky": ("Succeeded", 2)}),
    Shape("fails",
          (_step("clone", usesWorkspace=True), _step("broken", runAfter=["clone"], retries=1),
           _step("build", runAfter=["broken"])),
          "Failed", {"clone": ("Succeeded", 1), "broken": ("Failed", 2), "build": ("Skipped", 0)}),
    Shape("times-out", (_step("clone"), _step("slow", runAfter=["clone"], timeout="30s", retries=1)),
          "Failed", {"clone": ("Succeeded", 1), "slow": ("Failed", 2)}),
    Shape("cancelled", (_step("hold", usesWorkspace=True, timeout="2h"), _step("build", runAfter=["hold"])),
          "Cancelled", {"hold": ("Cancelled", 1), "build": ("Cancelled", 0)}, extra={"timeout": "3h"}, cancel=True),
)


@dataclass(frozen=True)
class CampaignConfig:
    workflows: int = 20
    engine: str = "jobs"  # or "tekton"
    seed: int = 0
    error_rate: float = 0.2
    lost_response_rate: float = 0.1
    watch_expiry_rate: float = 0.3
    #: kubernaut reconciles between two restarts, drawn uniformly (None: never restart).
    restart_every: tuple[int, int] | None = (20, 200)
    #: Every ``lock_every``-th workflow shares a target with the next one (exercises the Leases).
    lock_every: int = 5
    #: Convergence bound, in virtual seconds (for the workflows to end; again for their deletion).
    max_virtual_seconds: float = 4 * 3600.0
    #: And in kubernaut's reconciles per workflow: restarts faster than the controllers get
    #: through the keys a restart queues again would otherwise spin without moving the clock.
    max_reconciles_per_workflow: int = 500
    #: Delete every workflow at the end and check that nothing is left behind.
    delete_at_end: bool = True


@dataclass
class Report:
    workflows: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    expected_phases: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    converged: bool = False
    deleted: bool = False
    virtual_seconds: float = 0.0
    deletion_virtual_seconds: float = 0.0
    wall_seconds: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    relists_after_expiry: int = 0
    restarts: int = 0
    reconciles: int = 0

    @property
    def clean(self) -> bool:
        return self.converged and self.deleted and not self.wrong and not self.duplicates and not self.leaks

    def lines(self) -> Iterator[str]:
        yield (f"workflows {self.workflows}: converged={self.converged} in {self.virtual_seconds:.0f} virtual s; "
               f"all deleted={self.deleted} {self.deletion_virtual_seconds:.0f} virtual s later; "
               f"{self.wall_seconds:.1f} wall s, {self.reconciles} kubernaut reconciles")
        yield "phases (got / expected): " + ", ".join(
            f"{p} {self.phases.get(p, 0)}/{n}" for p, n in sorted(self.expected_phases.items())) + (
            "" if set(self.phases) <= set(self.expected_phases) else f", other {dict(self.phases)}")
        yield f"wrong terminal phases: {len(self.wrong)}; duplicates: {len(self.duplicates)}; leaks: {len(self.leaks)}"
        yield ("injected: " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
               + f"; informer re-lists after 410: {self.relists_after_expiry}; restarts: {self.restarts}")
        for title, items in (("wrong", self.wrong), ("duplicate", self.duplicates), ("leak", self.leaks)):
            for item in items[:20]:
                yield f"  {title}: {item}"


def _outcomes() -> Outcomes:
    return parse_outcomes(textwrap.dedent(OUTCOMES)).outcomes


class Campaign:
    """One campaign: build it, :meth:`run` it, read the :class:`Report`."""

    def __init__(self, config: CampaignConfig) -> None:
        self.config = config
        self.clock = VirtualClock()
        self.cluster = MemoryCluster(clock=self.clock, seed=config.seed)
        self.outcomes = _outcomes()
        self.faults = FaultInjector(rate=config.error_rate, lost_response_rate=config.lost_response_rate,
                                    watch_expiry_rate=config.watch_expiry_rate, seed=config.seed,
                                    clients={KUBERNAUT})
        self._rng = random.Random(f"restarts-{config.seed}")
        self.user = self.cluster.client(USER)
        # Watches opened before anything happens see every change; opened as a client that no
        # fault touches (a 410 would lose history).
        kinds = [("batch/v1", "Job"), ("actionexecution.kubernaut.ai/v1alpha1", "ActionExecution"),
                 (TEKTON, "PipelineRun"), (WFE_API_VERSION, WFE_KIND)]
        with self.cluster.acting_as(OBSERVER):
            self._watches: list[MemoryWatch] = [
                self.cluster.watch(api, kind, resource_version=self.cluster.resource_version) for api, kind in kinds]
        self._unsettled: set[str] = set()
        self._alive: set[str] = set()
        self.created: Counter[tuple[str, str, str, str]] = Counter()  # (kind, workflow, step, attempt)
        self.expected: dict[str, Shape] = {}
        self._pending_cancel: set[str] = set()
        self.restarts = 0
        self.reconciles = 0
        self.relists_after_expiry = 0
        self.manager, self.app = self._start()
        self._create_workflows()

    # -- wiring ------------------------------------------------------------------------------------

    def _start(self) -> tuple[Manager, App]:
        simulator = self.cluster.client(SIMULATOR)
        manager = Manager(simulator, self.clock)
        manager.add(JobSimulator(simulator, self.clock, outcomes=self.outcomes, entrypoints=LOCAL_ENTRYPOINTS,
                                 default_duration=STEP_SECONDS).controller())
        if self.config.engine == "tekton":
            sims = tekton_simulators(simulator, self.clock, outcomes=self.outcomes, entrypoints=LOCAL_ENTRYPOINTS,
                                     default_duration=STEP_SECONDS)
            for controller in sims.controllers():
                manager.add(controller)
        config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods)
        app = install(manager, config, cluster=MemoryClient(self.cluster, KUBERNAUT))
        return manager, app

    def restart(self) -> None:
        """A crash: every controller (kubernaut's and the simulators') is thrown away and new
        ones start on the same cluster."""
        self._count_manager()
        self.manager.stop()
        self.manager, self.app = self._start()
        self.restarts += 1

    def _count_manager(self) -> None:
        self.reconciles += self._kubernaut_reconciles()
        if self.manager.informers is not None:
            self.relists_after_expiry += sum(i.stats.relists_after_expiry
                                             for i in self.manager.informers.informers.values())

    def _kubernaut_reconciles(self) -> int:
        return sum(c.stats.reconciles for c in self.manager.controllers if c.name in KUBERNAUT_CONTROLLERS)

    def _create_workflows(self) -> None:
        config = self.config
        for index in range(config.workflows):
            shape = SHAPES[index % len(SHAPES)]
            name = f"wf-{index:04d}-{shape.name}"
            # Pairs of neighbours share a target: the second waits for the first's Lease.
            group = index // 2 if config.lock_every and (index // 2) % config.lock_every == 0 else None
            target = f"target-{group}" if group is not None and not shape.cancel else None
            self.user.create(shape.document(name, config.engine, target))
            self.expected[name] = shape
            if shape.cancel:
                self._pending_cancel.add(name)

    # -- driving -----------------------------------------------------------------------------------

    def settled(self) -> bool:
        """Every workflow final and cleaned up (its finalizer gone); cheap (reads new watch
        events only), so it is asked before every reconcile."""
        self._drain_observer()
        return not self._unsettled and not self._pending_cancel

    def gone(self) -> bool:
        self._drain_observer()
        return not self._alive

    def run(self) -> Report:
        """Drive until every workflow is final and cleaned up (or the virtual-time bound passes),
        restarting the controllers at random moments; check; then delete every workflow and
        drive until they are gone."""
        config = self.config
        self.cluster.faults = self.faults
        started_wall, started_virtual = time.perf_counter(), self.clock.monotonic()
        converged = self._drive(self.settled, cancels=True)
        self.cluster.faults = None
        # What the simulated Tekton and Job controllers still do on their own (a TaskRun being
        # cancelled after its PipelineRun) is not a leak: let them finish, without moving time.
        self.manager.run_until_idle()
        report = self.check()
        report.converged = converged
        report.virtual_seconds = self.clock.monotonic() - started_virtual
        if config.delete_at_end:
            deleting = self.clock.monotonic()
            for name in sorted(self.expected):
                self.user.delete(WFE_API_VERSION, WFE_KIND, name, NAMESPACE)
            self.cluster.faults = self.faults
            report.deleted = self._drive(self.gone, cancels=False)
            self.cluster.faults = None
            report.deletion_virtual_seconds = self.clock.monotonic() - deleting
            report.leaks += self._left_after_deletion()
        else:
            report.deleted = True
        self._count_manager()
        report.restarts, report.reconciles = self.restarts, self.reconciles
        report.relists_after_expiry = self.relists_after_expiry
        report.faults = Counter(self.faults.counts)
        report.wall_seconds = time.perf_counter() - started_wall
        return report

    def _drive(self, done: Callable[[], bool], *, cancels: bool) -> bool:
        """Run until ``done()`` within the virtual-time bound, in slices (see :meth:`_slice`),
        restarting the controllers after each slice when the campaign restarts them."""
        deadline = self.clock.monotonic() + self.config.max_virtual_seconds
        budget = self.reconciles + self._kubernaut_reconciles() + \
            self.config.max_reconciles_per_workflow * max(1, self.config.workflows)
        while self.clock.monotonic() < deadline and self.reconciles + self._kubernaut_reconciles() < budget:
            if cancels:
                self._cancel_running()
            if not self._slice(done, deadline):
                return done()  # stuck: nothing ready, no timer (a lost wake-up)
            if done():
                return True
            if self.config.restart_every is not None:
                self.restart()
        return done()

    def _slice(self, done: Callable[[], bool], deadline: float) -> bool:
        """At most ``SLICE_SECONDS`` of virtual time (so that cancels come on time) and, with
        restarts, at most a random number of kubernaut's reconciles. False when nothing is left
        to do at all."""
        now = self.clock.monotonic()
        until = min(now + SLICE_SECONDS, deadline)
        budget = self._rng.randint(*self.config.restart_every) if self.config.restart_every else None
        start = self._kubernaut_reconciles()
        if self.manager.run_until(
                lambda: done() or (budget is not None and self._kubernaut_reconciles() - start >= budget),
                max_virtual_seconds=until - now):
            return True
        if self.manager.next_timer() is None:
            return False
        assert isinstance(self.clock, VirtualClock)
        self.clock.advance(max(0.0, until - self.clock.monotonic()))  # idle to the end of the slice
        return True

    def _cancel_running(self) -> None:
        """Cancel each "cancelled" workflow once its long step has run for a while (the user's
        request; never faulted)."""
        now = self.clock.now()
        for name in sorted(self._pending_cancel):
            wfe = self.user.get(WFE_API_VERSION, WFE_KIND, name, NAMESPACE)
            steps = (wfe.get("status") or {}).get("steps") or []
            hold = next((s for s in steps if s.get("name") == "hold"), None)
            if (wfe.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES:
                self._pending_cancel.discard(name)  # too late (the check reports its phase)
                continue
            if hold is None or hold.get("phase") != "Running" or not hold.get("startTime"):
                continue
            if (now - parse_rfc3339(hold["startTime"])).total_seconds() < CANCEL_AFTER_RUNNING:
                continue
            wfe["spec"]["cancel"] = True
            self.user.update(wfe)
            self._pending_cancel.discard(name)

    # -- checking ----------------------------------------------------------------------------------

    def _drain_observer(self) -> None:
        for watch in self._watches:
            while (event := watch.next(0)) is not None:
                obj = event.object
                kind = obj.get("kind")
                if kind == WFE_KIND:
                    name = obj["metadata"]["name"]
                    if event.type == "DELETED":
                        self._alive.discard(name)
                        self._unsettled.discard(name)
                        continue
                    self._alive.add(name)
                    if ((obj.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                            and FINALIZER not in (obj["metadata"].get("finalizers") or [])):
                        self._unsettled.discard(name)
                    else:
                        self._unsettled.add(name)
                    continue
                if event.type != "ADDED":
                    continue
                labels = obj["metadata"].get("labels") or {}
                if kind == "Job":
                    key = (kind, labels.get(WORKFLOW, "?"), labels.get(STEP, "?"), labels.get(ATTEMPT, "?"))
                    self.created[key] += 1
                elif kind == "ActionExecution":
                    spec = obj.get("spec") or {}
                    self.created[(kind, str(spec.get("workflowName")), str(spec.get("step")), "")] += 1
                elif kind == "PipelineRun":
                    self.created[(kind, labels.get(WORKFLOW, obj["metadata"]["name"]), "", "")] += 1

    def check(self) -> Report:
        self._drain_observer()
        report = Report(workflows=len(self.expected))
        workflows = {w["metadata"]["name"]: w for w in self.cluster.objects(WFE_KIND, NAMESPACE)}
        for name, shape in sorted(self.expected.items()):
            report.expected_phases[shape.phase] += 1
            status = workflows[name].get("status") or {}
            phase = str(status.get("phase"))
            report.phases[phase] += 1
            steps = {s["name"]: (s["phase"], s["attempts"]) for s in status.get("steps") or []}
            if phase != shape.phase or steps != shape.expected_steps:
                messages = {s["name"]: s.get("message") for s in status.get("steps") or []}
                report.wrong.append(f"{name}: {phase} {steps} (expected {shape.phase} {shape.expected_steps}); "
                                    f"{status.get('message')!r}; {messages}")
        report.duplicates = self._duplicates()
        report.leaks = self._leaks()
        return report

    def _duplicates(self) -> list[str]:
        found = [f"{kind} {wf}/{step}/{attempt} created {n} times"
                 for (kind, wf, step, attempt), n in sorted(self.created.items()) if n > 1]
        if self.config.engine == "jobs":
            attempts: dict[tuple[str, str], list[int]] = {}
            for (kind, wf, step, attempt) in self.created:
                if kind == "Job":
                    attempts.setdefault((wf, step), []).append(int(attempt) if attempt.isdigit() else -1)
            for (wf, step), numbers in sorted(attempts.items()):
                if sorted(numbers) != list(range(1, len(numbers) + 1)):
                    found.append(f"Jobs of {wf}/{step} for attempts {sorted(numbers)}")
        return found

    def _leaks(self) -> list[str]:
        leaks = [f"PersistentVolumeClaim {c['metadata']['name']}" for c in self.cluster.objects("PersistentVolumeClaim")
                 if not any(r.get("kind") == "PipelineRun" for r in c["metadata"].get("ownerReferences") or [])]
        for obj in self.cluster.objects():
            finalizers = [f for f in obj["metadata"].get("finalizers") or [] if "kubernaut" in f]
            if finalizers:
                leaks.append(f"{obj['kind']} {obj['metadata']['name']} keeps {finalizers}")
        for lease in self.cluster.objects("Lease"):
            if (lease.get("spec") or {}).get("holderIdentity"):
                leaks.append(f"Lease {lease['metadata']['name']} still held by {lease['spec']['holderIdentity']}")
        for job in self.cluster.objects("Job"):
            conditions = (job.get("status") or {}).get("conditions") or []
            done = any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conditions)
            if not done and not job["metadata"].get("deletionTimestamp"):
                leaks.append(f"Job {job['metadata']['name']} still running")
        for kind in ("PipelineRun", "TaskRun"):
            for run in self.cluster.objects(kind):
                conditions = (run.get("status") or {}).get("conditions") or []
                if not any(c.get("type") == "Succeeded" and c.get("status") in ("True", "False") for c in conditions):
                    leaks.append(f"{kind} {run['metadata']['name']} still running")
        return leaks


    def _left_after_deletion(self) -> list[str]:
        kinds = ("PersistentVolumeClaim", "Job", "Pod", "ActionExecution", "PipelineRun", "TaskRun", WFE_KIND)
        return [f"{obj['kind']} {obj['metadata']['name']} left after its workflow was deleted"
                for kind in kinds for obj in self.cluster.objects(kind)]


def dump(report: Report) -> str:
    return yaml.safe_dump({"clean": report.clean, "wrong": report.wrong, "duplicates": report.duplicates,
                           "leaks": report.leaks}, sort_keys=False)
