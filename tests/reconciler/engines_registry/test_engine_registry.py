"""``reconciler.engines.registry``: what it accepts, and that it agrees with the API's vocabulary."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from fake_argo_engine import ARGO, ArgoEngine

from compiler import spec
from reconciler.engines import registry
from reconciler.engines.base import EngineSetup
from reconciler.engines.registry import REGISTRY, EngineInfo, EngineRegistry
from reconciler.verification import ImagePolicy, ImageVerification
from targets.crds import workflow_execution_crd


def test_the_workflow_api_admits_every_registered_engine_and_lists_none() -> None:
    # spec.engine's schema (compiler.spec, hence the CRD) fixes the shape of a name, not the names:
    # a new engine needs no CRD change, and the API server admits every registered one.
    field = workflow_execution_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "properties"]["engine"]
    assert "enum" not in field and field["pattern"] == spec.ENGINE_NAME_PATTERN
    assert not set(REGISTRY.names) & set(str(field))
    assert all(re.fullmatch(spec.ENGINE_NAME_PATTERN, name) and len(name) <= field["maxLength"]
               for name in [spec.ENGINE_AUTO, *REGISTRY.names])


def test_every_entry_names_functions_that_load() -> None:
    for info in REGISTRY:
        for loaded in (info.load_builder(), info.load_controllers(), info.load_simulator(),
                       info.load_step_objects()):
            assert loaded is None or callable(loaded), info.name
    # Each built-in engine says what it adds (V1 its controller, V2 its simulator) and describes its steps.
    assert [info.name for info in REGISTRY if info.controllers] == [REGISTRY.fallback.name]
    assert [info.name for info in REGISTRY if info.simulator] == ["tekton"]
    assert all(info.step_objects for info in REGISTRY)


def test_a_name_that_is_not_module_colon_function_is_refused() -> None:
    broken = EngineInfo("broken", "V0", "", build="reconciler.engines.registry", simulator="nothing:")
    refused = "build must be 'module:function', not 'reconciler.engines.registry'"
    with pytest.raises(ValueError, match=re.escape(refused)):
        broken.load_builder()
    with pytest.raises(ValueError, match="simulator must be 'module:function'"):
        broken.load_simulator()


def test_the_fallback_runs_anywhere_and_the_candidates_are_the_rest() -> None:
    assert REGISTRY.fallback.name == "jobs" and REGISTRY.fallback.requires == ()
    assert [info.name for info in REGISTRY.candidates] == ["tekton"]
    assert REGISTRY["tekton"].label == "V2 tekton"
    served = {("tekton.dev/v1", "PipelineRun")}
    assert REGISTRY["tekton"].available(lambda api_version, kind: (api_version, kind) in served)
    assert not REGISTRY["tekton"].available(lambda api_version, kind: False)


def test_a_registry_refuses_duplicates_and_a_fallback_that_needs_the_cluster() -> None:
    with pytest.raises(ValueError, match="engine 'jobs' is registered twice"):
        EngineRegistry([REGISTRY["jobs"], REGISTRY["jobs"]], "jobs")
    with pytest.raises(ValueError, match="the fallback engine 'argo' is not registered"):
        EngineRegistry(REGISTRY, "argo")
    with pytest.raises(ValueError, match="the fallback engine 'tekton' must run on any cluster"):
        EngineRegistry(REGISTRY, "tekton")


def test_adding_an_engine_makes_a_new_registry() -> None:
    extended = REGISTRY.with_engine(ARGO)
    assert extended.names == ("jobs", "tekton", "argo") and REGISTRY.names == ("jobs", "tekton")
    assert extended.choices() == "'jobs', 'tekton' or 'argo'"


def test_builders_are_loaded_by_name() -> None:
    setup = EngineSetup(ImageVerification(ImagePolicy("skip")))
    assert isinstance(ARGO.load_builder()(setup), ArgoEngine)
    assert [info.load_builder()(setup).name for info in REGISTRY] == ["jobs", "tekton"]
    broken = EngineInfo("broken", "V0", "", build="reconciler.engines.registry:REGISTRY")
    with pytest.raises(TypeError, match="is not callable"):
        broken.load_builder()


def test_the_tekton_entry_requires_the_kind_the_engine_runs() -> None:
    from reconciler.engines.tekton import vocabulary as t

    assert REGISTRY["tekton"].requires == ((t.API_VERSION, t.PIPELINE_RUN),)
    assert REGISTRY["tekton"].workflow_objects == (t.PIPELINE_RUN,)


def test_the_registry_imports_the_standard_library_only() -> None:
    # Metrics and routing sit below the engines and import the registry: anything of kubernaut
    # imported here would close an import cycle (see the module docstring).
    tree = ast.parse(Path(registry.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {str(node.module).split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert all(not isinstance(node, ast.ImportFrom) or node.level == 0 for node in ast.walk(tree))
    assert imported <= sys.stdlib_module_names | {"__future__"}
