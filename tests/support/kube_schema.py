"""Strict, offline validation of core Kubernetes objects.

The OpenAPI schemas come from the ``kubernetes-validate`` package (its ``-local-strict`` variant:
unknown fields are errors, like ``kubectl apply --validate=strict``). Unlike
``kubernetes_validate.validate`` this collects *every* error instead of stopping at the first.

The schemas accept things the API server rejects — a missing name, ``My_Name``, a 64-character
label value — so the metadata rules of k8s.io/apimachinery are checked here as well: exactly
the mistakes a name-generating compiler makes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

import jsonschema
import jsonschema.exceptions
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

__all__ = [
    "LATEST_KUBE_VERSION",
    "check_labels",
    "check_object_metadata",
    "validate_kube",
    "validate_kube_definition",
]

# The newest Kubernetes minor version the installed kubernetes-validate ships schemas for.
LATEST_KUBE_VERSION = kv.major_minor(kv.latest_version())

_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"

# k8s.io/apimachinery/pkg/util/validation
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL)
_DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_ANNOTATIONS_MAX_BYTES = 256 * 1024

# Kinds whose names follow another rule than "DNS-1123 subdomain" (pkg/apis/*/validation).
_LABEL_NAMED_KINDS = frozenset({"Namespace"})
_DNS1035_NAMED_KINDS = frozenset({"Service"})
_PATH_SEGMENT_NAMED_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in kv.major_minor(version.removeprefix("v")).split("."))


@functools.cache
def _schema_dir(version: str) -> str:
    """The strict schema directory for ``version``: the newest one not newer than it."""
    wanted = _version_tuple(version)
    candidates = [v for v in kv.all_versions() if _version_tuple(v) <= wanted]
    if not candidates:
        raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {version}")
    if wanted > _version_tuple(kv.latest_version()):
        raise ValueError(
            f"kubernetes-validate {kv.__version__} supports Kubernetes up to {LATEST_KUBE_VERSION}, "
            f"not {version}"
        )
    return f"v{candidates[-1]}-local-strict"


def _load_json(directory: str, filename: str) -> Any:
    path = resources.files("kubernetes_validate") / "kubernetes-json-schema" / directory / filename
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


@functools.cache
def _registry(version: str) -> Registry:
    definitions = _load_json(_schema_dir(version), "_definitions.json")
    return Resource.from_contents(definitions) @ Registry()


@functools.cache
def _kind_validator(version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    # kubernetes-validate's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = _load_json(_schema_dir(version), f"{kind.lower()}-{group_version}.json")
    if schema is None:
        return None
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


@functools.cache
def _definition_validator(version: str, definition: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"{_DEFINITIONS_ID}#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


def _format_path(prefix: str, parts: Iterable[Any]) -> str:
    out = prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def _schema_errors(validator: jsonschema.Draft202012Validator, value: Any, prefix: str) -> list[str]:
    errors = []
    for error in validator.iter_errors(value):
        # For oneOf/anyOf the top error only says "is not valid under any of the given schemas";
        # the most relevant sub-error tells the reader what to fix.
        shown = jsonschema.exceptions.best_match(error.context) if error.context else error
        assert shown is not None
        errors.append(f"{_format_path(prefix, shown.absolute_path)}: {shown.message}")
    return sorted(set(errors))


def validate_kube_definition(value: Any, definition: str, path: str = "",
                             version: str = LATEST_KUBE_VERSION) -> list[str]:
    """Validate ``value`` against one strict OpenAPI definition, e.g.
    ``io.k8s.api.core.v1.PodSecurityContext`` (used for Kubernetes types embedded in CRDs)."""
    return _schema_errors(_definition_validator(version, definition), value, path)


def _qualified_name_errors(key: str) -> list[str]:
    """IsQualifiedName: ``[prefix/]name``, prefix a DNS-1123 subdomain, name ≤ 63 characters."""
    prefix, slash, name = key.rpartition("/")
    errors = []
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        errors.append(f"prefix {prefix!r} must be a DNS-1123 subdomain")
    if not name or len(name) > 63 or not _QUALIFIED_NAME_PART.fullmatch(name):
        errors.append(
            f"name part {name!r} must be 1-63 alphanumerics, '-', '_' or '.', "
            "starting and ending with an alphanumeric"
        )
    return errors


def check_labels(labels: Any, path: str) -> list[str]:
    """Label keys are qualified names; values are ≤ 63 characters of ``[A-Za-z0-9_.-]``."""
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [f"{path}: must be a map of strings"]
    errors = []
    for key, value in labels.items():
        errors += [f"{path}: key {key!r}: {e}" for e in _qualified_name_errors(str(key))]
        if not isinstance(value, str):
            errors.append(f"{path}.{key}: label value must be a string, not {type(value).__name__}")
        elif len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            errors.append(
                f"{path}.{key}: label value {value!r} must be at most 63 alphanumerics, '-', '_' or "
                "'.', starting and ending with an alphanumeric"
            )
    return errors


def _annotation_errors(annotations: Any, path: str) -> list[str]:
    if annotations is None:
        return []
    if not isinstance(annotations, Mapping):
        return [f"{path}: must be a map of strings"]
    errors = []
    size = 0
    for key, value in annotations.items():
        errors += [f"{path}: key {key!r}: {e}" for e in _qualified_name_errors(str(key))]
        if not isinstance(value, str):
            errors.append(f"{path}.{key}: annotation value must be a string, not {type(value).__name__}")
        else:
            size += len(str(key).encode()) + len(value.encode())
    if size > _ANNOTATIONS_MAX_BYTES:
        errors.append(f"{path}: annotations total {size} bytes, more than {_ANNOTATIONS_MAX_BYTES}")
    return errors


def _name_errors(kind: str, name: str, path: str) -> list[str]:
    if kind in _PATH_SEGMENT_NAMED_KINDS:
        if name in (".", "..") or "/" in name or "%" in name:
            return [f"{path}: {name!r} must not be '.' or '..' nor contain '/' or '%'"]
        return []
    if kind in _LABEL_NAMED_KINDS:
        ok, rule = len(name) <= 63 and _DNS1123_LABEL.fullmatch(name), "a DNS-1123 label"
    elif kind in _DNS1035_NAMED_KINDS:
        ok, rule = len(name) <= 63 and _DNS1035_LABEL.fullmatch(name), "a DNS-1035 label"
    else:
        ok, rule = len(name) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(name), "a DNS-1123 subdomain"
    return [] if ok else [f"{path}: {name!r} must be {rule}"]


def check_object_metadata(obj: Mapping[str, Any], require_name: bool = True) -> list[str]:
    """The API server's ObjectMeta rules that no schema encodes (names, namespace, labels)."""
    kind = str(obj.get("kind", ""))
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return ["metadata: required"] if require_name else []
    errors = []
    name, generate_name = metadata.get("name"), metadata.get("generateName")
    if isinstance(name, str) and name:
        errors += _name_errors(kind, name, "metadata.name")
    elif require_name and not generate_name:
        errors.append("metadata.name: required (or metadata.generateName)")
    namespace = metadata.get("namespace")
    if namespace is not None and not (
        isinstance(namespace, str) and len(namespace) <= 63 and _DNS1123_LABEL.fullmatch(namespace)
    ):
        errors.append(f"metadata.namespace: {namespace!r} must be a DNS-1123 label")
    errors += check_labels(metadata.get("labels"), "metadata.labels")
    errors += _annotation_errors(metadata.get("annotations"), "metadata.annotations")
    return errors


def _nested_label_errors(value: Any, path: str) -> Iterator[str]:
    """Labels of embedded templates (``spec.template.metadata``) and label selectors."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if key == "metadata" and isinstance(item, Mapping) and path:
                yield from check_labels(item.get("labels"), f"{child}.labels")
                yield from _annotation_errors(item.get("annotations"), f"{child}.annotations")
            elif key == "matchLabels":
                yield from check_labels(item, child)
            yield from _nested_label_errors(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nested_label_errors(item, f"{path}[{index}]")


def _job_errors(obj: Mapping[str, Any]) -> list[str]:
    """batch/validation: a Job's pod must not restart in place (the API server's default, Always,
    is rejected), so every Job template must say Never or OnFailure."""
    spec = obj.get("spec") or {}
    prefix = "spec"
    if obj.get("kind") == "CronJob":
        spec, prefix = (spec.get("jobTemplate") or {}).get("spec") or {}, "spec.jobTemplate.spec"
    policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    if policy in ("Never", "OnFailure"):
        return []
    return [f"{prefix}.template.spec.restartPolicy: {policy!r} must be Never or OnFailure for a Job"]


def validate_kube(obj: dict[str, Any], version: str = LATEST_KUBE_VERSION) -> list[str]:
    """Every error in ``obj`` (a core Kubernetes object) as ``"<path>: <message>"``; ``[]`` if valid.

    Strict: unknown fields are errors. Only kinds with an OpenAPI schema in kubernetes-validate
    (core, batch, apps, rbac, ...); any other kind is reported as an error rather than passed.
    """
    if not isinstance(obj, Mapping):
        return [f"<root>: expected an object, got {type(obj).__name__}"]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return ["<root>: apiVersion and kind are required strings"]
    validator = _kind_validator(version, api_version, kind)
    if validator is None:
        return [f"<root>: no Kubernetes {version} schema for {api_version} {kind}"]
    errors = _schema_errors(validator, obj, "")
    errors += check_object_metadata(obj)
    errors += sorted(set(_nested_label_errors(obj.get("spec"), "spec")))
    if kind in ("Job", "CronJob") and api_version == "batch/v1":
        errors += _job_errors(obj)
    return errors
