"""Build and push the kubernaut image, read its digest back from the registry, stamp it.

``scripts/release-image`` runs :func:`main`. The steps:

1. build ``deploy/Dockerfile`` with the first of docker, podman, buildah found on PATH (or the
   one ``--builder`` names), tagged ``REPOSITORY:TAG``;
2. push the tag;
3. read the digest the registry now serves for it (podman/buildah ``push --digestfile``; for
   docker ``docker buildx imagetools inspect``, else ``crane digest`` or ``skopeo inspect``) —
   never a digest computed locally, which a registry may not serve;
4. stamp ``REPOSITORY@DIGEST`` into the release metadata (``targets/release.py``), the
   kustomization's ``images:`` entry and the ConfigMap's ``helperImage`` (:func:`stamp`).

This is the only way a digest of the kubernaut image enters the repository
(tests/release/test_no_made_up_digests.py rejects every other one). Exit status: 0 stamped,
1 a step failed (the reason is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from targets.release import IMAGE_NAME, is_placeholder, reference_problem

ROOT = Path(__file__).resolve().parents[1]
RELEASE_MODULE = Path("targets/release.py")
KUSTOMIZATION = Path("deploy/kustomization.yaml")
CONFIG_MAP = Path("deploy/controller/config.yaml")
DOCKERFILE = Path("deploy/Dockerfile")
#: Tried in this order by ``--builder auto``.
BUILDERS = ("docker", "podman", "buildah")

Runner = Callable[[Sequence[str]], str]


class ReleaseError(Exception):
    """A step failed; the message says which and why."""


# -- stamping --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Edit:
    path: Path
    pattern: re.Pattern[str]
    describe: str  # what the pattern expects, for the error when the file no longer has it


def _edits(repository: str, digest: str) -> list[tuple[_Edit, str]]:
    reference = f"{repository}@{digest}"
    name = re.escape(IMAGE_NAME)
    return [
        (_Edit(RELEASE_MODULE, re.compile(r'^RELEASE_REPOSITORY: Final = "[^"\n]*"$', re.M),
               'one line RELEASE_REPOSITORY: Final = "..."'), f'RELEASE_REPOSITORY: Final = "{repository}"'),
        (_Edit(RELEASE_MODULE, re.compile(r'^RELEASE_DIGEST: Final = "[^"\n]*"$', re.M),
               'one line RELEASE_DIGEST: Final = "..."'), f'RELEASE_DIGEST: Final = "{digest}"'),
        (_Edit(KUSTOMIZATION, re.compile(rf"^  - name: {name}\n    newName: \S+\n    digest: \S+$", re.M),
               f"an images: entry '- name: {IMAGE_NAME}' followed by its newName: and digest: lines"),
         f"  - name: {IMAGE_NAME}\n    newName: {repository}\n    digest: {digest}"),
        (_Edit(CONFIG_MAP, re.compile(r"^  helperImage: \S+$", re.M), "one line '  helperImage: ...'"),
         f"  helperImage: {reference}"),
    ]


def stamp(root: Path, repository: str, digest: str) -> list[Path]:
    """Write ``repository@digest`` into the release metadata and ``deploy/`` under ``root``.

    Every file is checked before any is written, so a file that lost the expected line leaves
    all of them as they were. Returns the files that changed.
    """
    reference = f"{repository}@{digest}"
    problem = reference_problem(reference)
    if problem is not None:
        raise ReleaseError(f"refusing to stamp {reference}: {problem}")
    if is_placeholder(reference):
        raise ReleaseError("refusing to stamp the all-zero placeholder digest: it is not a release")
    texts: dict[Path, str] = {}
    for edit, replacement in _edits(repository, digest):
        path = root / edit.path
        if path not in texts:
            try:
                texts[path] = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ReleaseError(f"cannot read {edit.path}: {exc.strerror or exc}") from None
        matches = edit.pattern.findall(texts[path])
        if len(matches) != 1:
            raise ReleaseError(f"{edit.path}: expected {edit.describe}, found {len(matches)}; restore the file "
                               "from the repository and run again")
        texts[path] = edit.pattern.sub(replacement.replace("\\", "\\\\"), texts[path])
    changed = []
    for path, text in texts.items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


# -- building, pushing, reading the digest back ------------------------------------------------

def choose_builder(requested: str, which: Callable[[str], str | None] = shutil.which) -> str:
    """The builder to use: ``requested``, or with ``auto`` the first of :data:`BUILDERS` on PATH."""
    candidates = BUILDERS if requested == "auto" else (requested,)
    for name in candidates:
        if which(name):
            return name
    wanted = ", ".join(candidates)
    raise ReleaseError(f"no image builder found on PATH (looked for {wanted}); install one or pass --builder")


def build_and_push(builder: str, root: Path, tag_ref: str, run: Runner, digest_file: Path) -> None:
    dockerfile = str(root / DOCKERFILE)
    if builder == "buildah":
        run(["buildah", "build", "-f", dockerfile, "-t", tag_ref, str(root)])
        run(["buildah", "push", "--digestfile", str(digest_file), tag_ref])
    else:
        run([builder, "build", "-f", dockerfile, "-t", tag_ref, str(root)])
        if builder == "podman":
            run(["podman", "push", "--digestfile", str(digest_file), tag_ref])
        else:
            run([builder, "push", tag_ref])


def _checked_digest(text: str, source: str) -> str:
    digest = text.strip()
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ReleaseError(f"{source} returned {digest[:80]!r}, not a sha256 digest")
    return digest


def registry_digest(builder: str, tag_ref: str, run: Runner, digest_file: Path,
                    which: Callable[[str], str | None] = shutil.which) -> str:
    """The digest the registry serves for ``tag_ref`` after the push."""
    if builder in ("podman", "buildah"):
        try:
            return _checked_digest(digest_file.read_text(encoding="utf-8"), f"{builder} push --digestfile")
        except OSError as exc:
            raise ReleaseError(f"{builder} push wrote no digest file: {exc.strerror or exc}") from None
    attempts: list[str] = []
    try:
        out = run(["docker", "buildx", "imagetools", "inspect", tag_ref, "--format", "{{json .Manifest}}"])
        return _checked_digest(str(json.loads(out).get("digest", "")), "docker buildx imagetools inspect")
    except (ReleaseError, ValueError, AttributeError) as exc:
        attempts.append(f"docker buildx imagetools inspect: {exc}")
    if which("crane"):
        return _checked_digest(run(["crane", "digest", tag_ref]), "crane digest")
    if which("skopeo"):
        return _checked_digest(run(["skopeo", "inspect", "--format", "{{.Digest}}", f"docker://{tag_ref}"]),
                               "skopeo inspect")
    attempts.append("crane and skopeo are not on PATH")
    raise ReleaseError(f"cannot read the pushed digest of {tag_ref} back: {'; '.join(attempts)}")


def run_command(argv: Sequence[str]) -> str:
    """Run ``argv``, its stderr going to ours; its stdout is returned. Raises ReleaseError."""
    print("+ " + " ".join(argv), file=sys.stderr, flush=True)
    try:
        done = subprocess.run(list(argv), stdout=subprocess.PIPE, text=True, check=False)
    except OSError as exc:
        raise ReleaseError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise ReleaseError(f"{' '.join(argv[:3])} ... failed with exit status {done.returncode}")
    return done.stdout


def project_version(root: Path) -> str:
    with (root / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


# -- the command -------------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/release-image",
        description="Build deploy/Dockerfile, push it, read the pushed digest back from the registry and "
                    "stamp it into targets/release.py and deploy/ (review and commit those files).")
    parser.add_argument("--repository", default=IMAGE_NAME,
                        help=f"where to push, without tag or digest (default: {IMAGE_NAME})")
    parser.add_argument("--tag", help="tag to push (default: v<version of pyproject.toml>)")
    parser.add_argument("--builder", choices=("auto", *BUILDERS), default="auto",
                        help="image builder (default: the first of docker, podman, buildah on PATH)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    problem = reference_problem(f"{args.repository}@sha256:{'1' * 64}")
    if problem is not None or ":" in args.repository.rsplit("/", 1)[-1]:
        parser.error(f"--repository {args.repository!r}: a repository name without tag or digest, "
                     "for example registry.example.com/team/kubernaut")
    if args.tag is not None and not re.fullmatch(r"[\w][\w.-]{0,127}", args.tag):
        parser.error(f"--tag {args.tag!r} is not a valid image tag")
    return args


def main(argv: Sequence[str] | None = None, run: Runner = run_command) -> int:
    args = parse_args(argv)
    root: Path = args.root
    try:
        tag = args.tag or f"v{project_version(root)}"
        tag_ref = f"{args.repository}:{tag}"
        builder = choose_builder(args.builder)
        with tempfile.TemporaryDirectory(prefix="kubernaut-release-") as scratch:
            digest_file = Path(scratch) / "digest"
            build_and_push(builder, root, tag_ref, run, digest_file)
            digest = registry_digest(builder, tag_ref, run, digest_file)
        changed = stamp(root, args.repository, digest)
    except ReleaseError as exc:
        print(f"release-image: {exc}", file=sys.stderr)
        return 1
    reference = f"{args.repository}@{digest}"
    listed = ", ".join(str(p.relative_to(root)) for p in changed) or "nothing (already stamped)"
    print(f"release-image: pushed {tag_ref} = {reference}; stamped {listed}", file=sys.stderr)
    print(reference)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
