"""``scripts/release-image``: the builder it picks, the commands it runs, the digest it reads back
from the registry, and what it stamps (on a copy of the repository's files; nothing is built or
pushed: the builders are stand-in scripts that record their arguments)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from targets.release import HELPER_IMAGE, IMAGE_NAME, PLACEHOLDER_DIGEST

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "release-image"
PUSHED = "sha256:" + "5e" * 32
REPOSITORY = "registry.example:5000/ops/kubernaut"
# Each stamped file, and how many of its lines a release changes.
STAMPED_LINES = {Path("targets/release.py"): 2, Path("deploy/kustomization.yaml"): 2,
                 Path("deploy/controller/config.yaml"): 1}
STAMPED = tuple(STAMPED_LINES)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_image", ROOT / "scripts" / "release_image.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


release_image = _load_script()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The files the script reads and writes, copied as a clone has them."""
    root = tmp_path / "repo"
    for relative in ("targets/release.py", "deploy", "pyproject.toml"):
        source = ROOT / relative
        if source.is_dir():
            shutil.copytree(source, root / relative)
        else:
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / relative)
    return root


def release_constants(root: Path) -> dict[str, object]:
    """Run the (stamped) release module and return its constants."""
    namespace: dict[str, object] = {}
    exec(compile((root / "targets" / "release.py").read_text(), "release.py", "exec"), namespace)
    return namespace


# -- stamping ----------------------------------------------------------------------------------

def test_stamping_writes_the_reference_everywhere_and_nothing_else(checkout: Path) -> None:
    before = {p: (checkout / p).read_text() for p in STAMPED}
    changed = release_image.stamp(checkout, REPOSITORY, PUSHED)
    assert sorted(changed) == sorted(checkout / p for p in STAMPED)
    assert release_constants(checkout)["HELPER_IMAGE"] == f"{REPOSITORY}@{PUSHED}"
    kustomization = yaml.safe_load((checkout / "deploy" / "kustomization.yaml").read_text())
    assert kustomization["images"] == [{"name": IMAGE_NAME, "newName": REPOSITORY, "digest": PUSHED}]
    config = yaml.safe_load((checkout / "deploy" / "controller" / "config.yaml").read_text())
    assert config["data"]["helperImage"] == f"{REPOSITORY}@{PUSHED}"
    for path in STAMPED:  # only the stamped lines differ; every comment and other line stays
        old, new = before[path].splitlines(), (checkout / path).read_text().splitlines()
        assert len(old) == len(new)
        assert sum(a != b for a, b in zip(old, new, strict=True)) == STAMPED_LINES[path], path
    assert release_image.stamp(checkout, REPOSITORY, PUSHED) == []  # again: nothing changes


def test_the_repository_is_in_the_form_the_stamp_expects() -> None:
    # A reformatted kustomization or release module would break the next release: stamping
    # the current values onto a copy must succeed and change nothing else.
    for edit, _ in release_image._edits(IMAGE_NAME, PLACEHOLDER_DIGEST):
        assert len(edit.pattern.findall((ROOT / edit.path).read_text())) == 1, edit.path


@pytest.mark.parametrize("digest", [PLACEHOLDER_DIGEST, "sha256:1234", "sha256:" + "A" * 64, "md5:" + "a" * 32])
def test_stamping_refuses_what_is_not_a_pushed_digest(checkout: Path, digest: str) -> None:
    before = {p: (checkout / p).read_text() for p in STAMPED}
    with pytest.raises(release_image.ReleaseError):
        release_image.stamp(checkout, REPOSITORY, digest)
    assert {p: (checkout / p).read_text() for p in STAMPED} == before


def test_a_file_without_its_stamp_line_stops_everything(checkout: Path) -> None:
    config = checkout / "deploy" / "controller" / "config.yaml"
    config.write_text(config.read_text().replace("  helperImage:", "  helper-image:"))
    before = {p: (checkout / p).read_text() for p in STAMPED}
    with pytest.raises(release_image.ReleaseError, match=r"deploy/controller/config.yaml: expected one line"):
        release_image.stamp(checkout, REPOSITORY, PUSHED)
    assert {p: (checkout / p).read_text() for p in STAMPED} == before  # nothing half-stamped


# -- the whole script, with stand-in builders --------------------------------------------------

FAKE_TOOL = """#!/bin/sh
echo "${{0##*/}} $*" >> "{log}"
case "$1 $2" in
  "buildx imagetools") printf '{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{digest}"}}\\n' ;;
  "push --digestfile") printf '{digest}' > "$3" ;;
esac
exit 0
"""


def fake_path(tmp_path: Path, tools: list[str]) -> tuple[str, Path]:
    """A PATH holding only stand-ins for ``tools`` (and python3); their calls go to the log."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for tool in tools:
        path = bin_dir / tool
        path.write_text(FAKE_TOOL.format(log=log, digest=PUSHED))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}", log


def run_script(root: Path, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "HOME": str(root), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_docker_builds_pushes_and_reads_the_digest_back(checkout: Path, tmp_path: Path) -> None:
    path, log = fake_path(tmp_path, ["docker", "podman"])
    done = run_script(checkout, path, "--repository", REPOSITORY, "--tag", "v9.9.9")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{REPOSITORY}@{PUSHED}\n"
    tag = f"{REPOSITORY}:v9.9.9"
    assert log.read_text().splitlines() == [
        f"docker build -f {checkout}/deploy/Dockerfile -t {tag} {checkout}",
        f"docker push {tag}",
        f"docker buildx imagetools inspect {tag} --format {{{{json .Manifest}}}}",
    ]
    assert release_constants(checkout)["HELPER_IMAGE"] == f"{REPOSITORY}@{PUSHED}"


@pytest.mark.parametrize("builder", ["podman", "buildah"])
def test_podman_and_buildah_write_the_pushed_digest_to_a_file(checkout: Path, tmp_path: Path, builder: str) -> None:
    path, log = fake_path(tmp_path, [builder])
    done = run_script(checkout, path)  # defaults: the image's own name, v<pyproject version>
    assert done.returncode == 0, done.stderr
    tag = f"{IMAGE_NAME}:v{_version(checkout)}"
    calls = log.read_text().splitlines()
    assert calls[0] == f"{builder} build -f {checkout}/deploy/Dockerfile -t {tag} {checkout}"
    assert calls[1].startswith(f"{builder} push --digestfile ") and calls[1].endswith(f" {tag}")
    assert len(calls) == 2
    assert release_constants(checkout)["HELPER_IMAGE"] == f"{IMAGE_NAME}@{PUSHED}"


def _version(root: Path) -> str:
    return str(tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"])


def test_without_a_builder_nothing_is_stamped(checkout: Path, tmp_path: Path) -> None:
    path, _ = fake_path(tmp_path, [])
    before = {p: (checkout / p).read_text() for p in STAMPED}
    done = run_script(checkout, path)
    assert done.returncode == 1
    assert done.stderr == ("release-image: no image builder found on PATH (looked for docker, podman, buildah); "
                           "install one or pass --builder\n")
    assert {p: (checkout / p).read_text() for p in STAMPED} == before


def test_a_failed_push_stamps_nothing(checkout: Path, tmp_path: Path) -> None:
    path, _ = fake_path(tmp_path, ["docker"])
    docker = Path(path.split(os.pathsep)[0]) / "docker"
    docker.write_text(docker.read_text().replace("exit 0", '[ "$1" = push ] && exit 1\nexit 0'))
    before = {p: (checkout / p).read_text() for p in STAMPED}
    done = run_script(checkout, path)
    assert done.returncode == 1 and "docker push" in done.stderr and "failed with exit status 1" in done.stderr
    assert {p: (checkout / p).read_text() for p in STAMPED} == before


def test_a_digest_the_registry_does_not_confirm_is_not_stamped(checkout: Path, tmp_path: Path) -> None:
    path, _ = fake_path(tmp_path, ["docker"])
    docker = Path(path.split(os.pathsep)[0]) / "docker"
    docker.write_text(docker.read_text().replace(PUSHED, "sha256:abc"))
    done = run_script(checkout, path)
    assert done.returncode == 1 and "cannot read the pushed digest" in done.stderr


@pytest.mark.parametrize("args", [["--repository", "registry.example/kubernaut:v1"],
                                  ["--repository", "Registry/UPPER"],
                                  ["--tag", "no/slashes"],
                                  ["--builder", "kaniko"]])
def test_bad_arguments_are_usage_errors(checkout: Path, tmp_path: Path, args: list[str]) -> None:
    path, log = fake_path(tmp_path, ["docker"])
    done = run_script(checkout, path, *args)
    assert done.returncode == 2 and "usage: scripts/release-image" in done.stderr
    assert not log.exists()


# -- what kustomize makes of deploy/ ---------------------------------------------------------

def kustomize(directory: Path) -> list[dict[str, object]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl (Debian: kubernetes-client) is needed to render deploy/ with kustomize")
        pytest.skip("kubectl is not installed: cannot render deploy/ with kustomize")
    done = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def controller_images(docs: list[dict[str, object]]) -> tuple[str, str]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "kubernaut-config"]  # type: ignore[index]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
    return container["image"], config["data"]["helperImage"]  # type: ignore[index]


def test_deploy_renders_the_released_image_for_controller_and_helper_steps() -> None:
    assert controller_images(kustomize(ROOT / "deploy")) == (HELPER_IMAGE, HELPER_IMAGE)


def test_an_image_override_reaches_the_controller_and_the_helper_steps(checkout: Path) -> None:
    # What `kustomize edit set image ghcr.io/kubernaut/kubernaut=REPOSITORY@DIGEST` writes.
    path = checkout / "deploy" / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text())
    kustomization["images"] = [{"name": IMAGE_NAME, "newName": REPOSITORY, "digest": PUSHED}]
    path.write_text(yaml.safe_dump(kustomization, sort_keys=True))
    assert controller_images(kustomize(checkout / "deploy")) == (f"{REPOSITORY}@{PUSHED}",) * 2


def test_a_stamped_release_reaches_the_controller_and_the_helper_steps(checkout: Path) -> None:
    release_image.stamp(checkout, REPOSITORY, PUSHED)
    assert controller_images(kustomize(checkout / "deploy")) == (f"{REPOSITORY}@{PUSHED}",) * 2


def test_usage_text_names_every_option() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0
    for option in ("--repository", "--tag", "--builder"):
        assert option in done.stdout
    assert textwrap.dedent(done.stdout).startswith("usage: scripts/release-image")
