"""``kubernaut compile --helper-image``: the reference lands in every helper step (stdout and
``-o DIR``), a reference not pinned by digest is a usage error, and output naming the unreleased
placeholder comes with one warning on stderr."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubernaut.cli import app
from targets.release import HELPER_IMAGE, PLACEHOLDER_DIGEST, is_placeholder
from targets.tekton import interface as i

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GITOPS = ROOT / "examples" / "gitops-pr.yaml"
BUILT = "registry.example:5000/ops/kubernaut@sha256:" + "4f" * 32
HELPER_STEPS = {i.STEP_RESOLVE, i.STEP_PUBLISH}


def kubernaut(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def helper_images(docs: list[dict[str, Any]]) -> list[str]:
    """The image of every helper step of every Task."""
    return [step["image"] for doc in docs if doc and doc["kind"] == "Task"
            for step in doc["spec"]["steps"] if step["name"] in HELPER_STEPS]


def test_the_default_is_the_released_image_which_is_the_placeholder_here() -> None:
    # A checkout that was never released: nothing a registry could serve.
    assert is_placeholder(HELPER_IMAGE) and HELPER_IMAGE.endswith(PLACEHOLDER_DIGEST)


@pytest.mark.parametrize("target", ["tekton", "all"])
def test_every_helper_step_uses_the_given_image(target: str) -> None:
    result = kubernaut("compile", "--target", target, "--helper-image", BUILT, *map(str, EXAMPLES))
    assert result.exit_code == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    images = helper_images(docs)
    # Two helper steps in each Task: one meta-Task per workflow, and the Tasks generated for env
    # actions and mounts (the GitOps example's credentials).
    tasks = [d for d in docs if d and d.get("kind") == "Task"]
    assert len(tasks) > len(EXAMPLES) and len(images) == 2 * len(tasks)
    assert set(images) == {BUILT}
    assert "placeholder" not in result.stderr and result.stderr == ""


def test_output_directories_use_the_given_image(tmp_path: Path) -> None:
    result = kubernaut("compile", "--target", "tekton", "--helper-image", BUILT, "-o", str(tmp_path), str(GITOPS))
    assert result.exit_code == 0, result.stderr
    docs = [yaml.safe_load(p.read_text()) for p in sorted(tmp_path.glob("*/tekton/*.yaml"))]
    tasks = [d for d in docs if d and d.get("kind") == "Task"]
    assert helper_images(docs) == [BUILT, BUILT] * len(tasks)
    assert result.stderr == ""


@pytest.mark.parametrize("target", ["tekton", "all"])
def test_the_placeholder_comes_with_one_warning_naming_the_flag(target: str) -> None:
    result = kubernaut("compile", "--target", target, *map(str, EXAMPLES))
    assert result.exit_code == 0
    assert set(helper_images(list(yaml.safe_load_all(result.stdout)))) == {HELPER_IMAGE}
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("kubernaut: warning:") and "--helper-image" in warnings[0]
    assert HELPER_IMAGE in warnings[0]


def test_output_directories_warn_about_the_placeholder_too(tmp_path: Path) -> None:
    result = kubernaut("compile", "--target", "all", "-o", str(tmp_path), str(GITOPS))
    assert result.exit_code == 0
    assert len(result.stderr.splitlines()) == 1 and "--helper-image" in result.stderr


def test_no_warning_where_no_helper_step_is_emitted() -> None:
    assert kubernaut("compile", "--target", "jobs", str(GITOPS)).stderr == ""
    assert kubernaut("compile", "--target", "tekton", "--emit", "ir", str(GITOPS)).stderr == ""
    assert kubernaut("parity", str(GITOPS)).stderr == ""


@pytest.mark.parametrize("reference", [
    "registry.example/kubernaut:v1",  # a tag, no digest
    "registry.example/kubernaut@sha256:1234",  # truncated digest
    "registry.example/kubernaut@sha256:" + "A" * 64,  # uppercase hex
    "registry.example/kubernaut@md5:" + "a" * 32,
    "Registry.Example/KUBERNAUT@sha256:" + "a" * 64,  # uppercase repository path
    "",
])
def test_a_reference_not_pinned_by_digest_is_a_usage_error(reference: str, tmp_path: Path) -> None:
    result = kubernaut("compile", "--target", "tekton", "--helper-image", reference, "-o", str(tmp_path),
                       str(GITOPS))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("kubernaut: --helper-image: ") and "sha256:<64 hex digits>" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written
