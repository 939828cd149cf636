"""The golden corpus: ``golden/<case>/workflow.yaml`` next to ``golden/<case>/<target>.yaml``.

The expected outputs are syrupy snapshots stored as plain YAML files where a reviewer expects
them, next to their input, not in a ``__snapshots__`` folder. ``python -m pytest tests/golden
--snapshot-update`` regenerates them; CI never does (it runs without the flag, so a difference
fails the build and the diff is reviewed like code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from support.golden_contracts import contract_args
from syrupy.assertion import SnapshotAssertion
from syrupy.data import Snapshot, SnapshotCollection, SnapshotCollections
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from syrupy.location import PyTestLocation
from syrupy.types import SnapshotIndex
from typer.testing import CliRunner

from compiler import ir
from compiler.frontend import compile_files
from kubernaut.cli import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"
TARGET_NAMES = ("jobs", "tekton")


def golden_cases() -> list[Path]:
    """Every case directory, sorted (a case is a directory holding ``workflow.yaml``)."""
    return sorted(p.parent for p in GOLDEN.glob("*/workflow.yaml"))


def all_inputs() -> list[Path]:
    """The corpus and the examples: everything the acceptance checks run over."""
    return [case / "workflow.yaml" for case in golden_cases()] + sorted((ROOT / "examples").glob("*.yaml"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `case`: a golden case name; `source`: a workflow file of the corpus or the examples.
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", [p.name for p in golden_cases()])
    if "source" in metafunc.fixturenames:
        inputs = all_inputs()
        metafunc.parametrize("source", inputs, ids=[str(p.relative_to(ROOT).parent if p.name == "workflow.yaml"
                                                        else p.relative_to(ROOT)) for p in inputs])


@dataclass(frozen=True)
class Compiled:
    """``kubernaut compile FILE`` run through the real CLI, and the front end's IR for the file."""

    exit_code: int
    stdout: str
    stderr: str
    docs: list[dict[str, Any]]
    workflows: list[ir.Workflow]

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]


def run_cli(args: list[str]) -> Any:
    """Run ``kubernaut ARGS`` in-process (stdout and stderr kept apart)."""
    return CliRunner().invoke(app, args, catch_exceptions=False)


@pytest.fixture(scope="session")
def compiled() -> Callable[[Path], Compiled]:
    """``compiled(path)``: compile once per session, through the CLI exactly as a user would."""
    cache: dict[Path, Compiled] = {}

    def compile_path(path: Path) -> Compiled:
        if path not in cache:
            result = run_cli(["compile", *contract_args(path), str(path)])
            front = compile_files([path], [Path(a) for a in contract_args(path)[1::2]])
            docs = list(yaml.safe_load_all(result.stdout)) if result.exit_code == 0 else []
            cache[path] = Compiled(result.exit_code, result.stdout, result.stderr, docs, front.workflows)
        return cache[path]

    return compile_path


class GoldenYamlExtension(SingleFileSnapshotExtension):
    """One text snapshot per ``(case, target)`` at ``golden/<case>/<target>.yaml``.

    The snapshot index is ``"<case>/<target>"`` (``snapshot(name=...)``). Syrupy's search for
    unused snapshots is switched off: it would otherwise claim the ``workflow.yaml`` inputs
    living in the same directories and delete them on ``--snapshot-update``. Unused outputs
    cannot occur anyway, since the tests are parametrized by the case directories themselves.
    """

    _write_mode = WriteMode.TEXT
    file_extension = "yaml"

    @classmethod
    def _case_and_target(cls, index: SnapshotIndex) -> tuple[str, str]:
        case, _, target = str(index).partition("/")
        if not case or target not in TARGET_NAMES:
            raise ValueError(f"golden snapshots are named '<case>/<target>', got {index!r}")
        return case, target

    @classmethod
    def get_location(cls, *, test_location: PyTestLocation, index: SnapshotIndex) -> str:
        case, target = cls._case_and_target(index)
        return str(GOLDEN / case / f"{target}.yaml")

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(GOLDEN)

    @classmethod
    def matches_test_location(cls, *, test_location: PyTestLocation, snapshot_location: str) -> bool:
        # Golden files live with their inputs, not with the test module; every one of them
        # belongs to the golden tests (silences syrupy's "cannot relate location" warning).
        path = Path(snapshot_location)
        return path.parent.parent == GOLDEN and path.stem in TARGET_NAMES

    def discover_snapshots(self, *, test_location: PyTestLocation,
                           ignore_extensions: list[str] | None = None) -> SnapshotCollections:
        return SnapshotCollections()

    def read_snapshot_collection(self, *, snapshot_location: str) -> SnapshotCollection:
        collection = SnapshotCollection(location=snapshot_location)
        path = PurePosixPath(Path(snapshot_location).as_posix())
        collection.add(Snapshot(name=f"{path.parent.name}/{path.stem}"))
        return collection


@pytest.fixture
def golden(snapshot: SnapshotAssertion) -> Callable[[str, str], Any]:
    """``golden(case, target)``: the snapshot assertion for ``golden/<case>/<target>.yaml``."""
    def assertion(case: str, target: str) -> Any:
        return snapshot(name=f"{case}/{target}", extension_class=GoldenYamlExtension)
    return assertion


def _as_api_server_sees_it(node: Any) -> Any:
    """A CRD's structural schema, made strict the way the API server is.

    The API server prunes fields its schema does not know; a jsonschema validator would accept
    them silently. Closing every object that does not preserve unknown fields turns "would be
    pruned" into a validation error, so a field the model forgot is caught here.
    """
    if isinstance(node, list):
        return [_as_api_server_sees_it(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_api_server_sees_it(v) for k, v in node.items()}
    if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@pytest.fixture(scope="session")
def crd_validator() -> Callable[[str], Any]:
    """``crd_validator(kind)``: a jsonschema validator for kubernaut's own CRD of ``kind``."""
    import jsonschema

    from targets.crds import crds

    schemas = {crd["spec"]["names"]["kind"]: crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
               for crd in crds()}

    def validator(kind: str) -> Any:
        # OpenAPI 3.0 schemas are JSON Schema draft 4 in the parts a structural schema may use.
        return jsonschema.Draft4Validator(_as_api_server_sees_it(schemas[kind]))

    return validator


@pytest.fixture(scope="session")
def cli() -> Callable[[list[str]], Any]:
    """``cli(args)``: run ``kubernaut ARGS`` in-process; the result has .stdout, .stderr, .exit_code."""
    return run_cli
