"""The Pod Security Standard "restricted" profile, latest version, as a test oracle.

Re-implemented from kubernetes/pod-security-admission ``policy/check_*.go`` (the admission
plugin itself): the baseline checks plus the restricted ones, at their newest version (1.37:
user-namespace pods relax runAsNonRoot/runAsUser, the 1.37 sysctl list, probe/lifecycle hosts).
``check_restricted`` takes a pod spec as a plain dict and returns one message per violation.

``pod_specs_of`` finds the pod specs an object will create: workload templates directly, and for
Tekton the *pseudo* pod a TaskRun gets — one container per step/sidecar with the step's security
context (merged over ``stepTemplate``) and the pod-level fields of the pod template. Tekton's own
init containers are not included: Tekton, not kubernaut, controls them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["check_restricted", "pod_specs_of", "tekton_pod_specs"]

# check_restrictedVolumes.go
_ALLOWED_VOLUME_SOURCES = frozenset(
    ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
     "projected", "secret"]
)
# check_sysctls.go, sysctlsAllowedV1Dot37
_SAFE_SYSCTLS = frozenset(
    ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
     "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
     "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
     "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",
     "net.ipv4.tcp_wmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"]
)
# check_seLinuxOptions.go, selinuxAllowedTypes1_31
_SELINUX_TYPES = frozenset(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"])
_SECCOMP_ALLOWED = frozenset(["RuntimeDefault", "Localhost"])
_APPARMOR_ALLOWED = frozenset(["RuntimeDefault", "Localhost"])
_APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
_NON_VOLUME_SOURCE_KEYS = frozenset(["name"])


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _containers(pod_spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container) for init, regular and ephemeral containers (visitor.go)."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in enumerate(pod_spec.get(key) or []):
            container = _map(container)
            yield f"{key}[{index}] {container.get('name', '?')!r}", container


def _host_checks(pod: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
    errors = [f"spec.{key} must be unset or false" for key in ("hostNetwork", "hostPID", "hostIPC")
              if pod.get(key)]
    if _map(context.get("windowsOptions")).get("hostProcess"):
        errors.append("pod securityContext.windowsOptions.hostProcess must not be true")
    return errors


def _volume_checks(pod: Mapping[str, Any]) -> list[str]:
    errors = []
    for index, volume in enumerate(pod.get("volumes") or []):
        sources = set(_map(volume)) - _NON_VOLUME_SOURCE_KEYS
        # A volume without a source is defaulted to emptyDir by the API server before admission.
        forbidden = sorted(sources - _ALLOWED_VOLUME_SOURCES)
        if forbidden:
            errors.append(f"volumes[{index}] {_map(volume).get('name')!r}: volume type "
                          f"{', '.join(forbidden)} is not allowed")
    return errors


def _sysctl_checks(context: Mapping[str, Any]) -> list[str]:
    return [f"pod securityContext.sysctls: {s.get('name')!r} is not a safe sysctl"
            for s in (context.get("sysctls") or []) if _map(s).get("name") not in _SAFE_SYSCTLS]


def _selinux_problem(options: Any) -> str | None:
    options = _map(options)
    if options.get("type", "") not in _SELINUX_TYPES:
        return f"seLinuxOptions.type {options.get('type')!r} is not allowed"
    if options.get("user") or options.get("role"):
        return "seLinuxOptions.user and .role must be unset"
    return None


def _user_namespaced(pod: Mapping[str, Any]) -> bool:
    # helpers.go relaxPolicyForUserNamespacePod (1.35+): root in a user namespace is not root.
    return pod.get("hostUsers") is False


def _is_windows(pod: Mapping[str, Any]) -> bool:
    # 1.25+: capabilities, seccomp and privilege escalation do not apply to Windows pods.
    return _map(pod.get("os")).get("name") == "windows"


def _container_checks(label: str, container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    pod_context = _map(pod.get("securityContext"))
    context = _map(container.get("securityContext"))
    errors = []
    if context.get("privileged"):
        errors.append(f"{label}: securityContext.privileged must be unset or false")
    if _map(context.get("windowsOptions")).get("hostProcess"):
        errors.append(f"{label}: securityContext.windowsOptions.hostProcess must not be true")
    if context.get("procMount") not in (None, "Default"):
        errors.append(f"{label}: securityContext.procMount must be unset or Default")
    if problem := _selinux_problem(context.get("seLinuxOptions")):
        errors.append(f"{label}: securityContext.{problem}")
    apparmor = _map(context.get("appArmorProfile"))
    if apparmor and apparmor.get("type") not in _APPARMOR_ALLOWED:
        errors.append(f"{label}: securityContext.appArmorProfile.type {apparmor.get('type')!r} is not allowed")
    for port in container.get("ports") or []:
        if _map(port).get("hostPort"):
            errors.append(f"{label}: hostPort {_map(port)['hostPort']} is not allowed")
    for probe_key in ("livenessProbe", "readinessProbe", "startupProbe"):
        for handler in ("httpGet", "tcpSocket"):
            if _map(_map(container.get(probe_key)).get(handler)).get("host"):
                errors.append(f"{label}: {probe_key}.{handler}.host must be unset")
    for hook in ("postStart", "preStop"):
        for handler in ("httpGet", "tcpSocket"):
            if _map(_map(_map(container.get("lifecycle")).get(hook)).get(handler)).get("host"):
                errors.append(f"{label}: lifecycle.{hook}.{handler}.host must be unset")
    if not _user_namespaced(pod):
        if context.get("runAsNonRoot") is False:
            errors.append(f"{label}: securityContext.runAsNonRoot must not be false")
        elif context.get("runAsNonRoot") is None and pod_context.get("runAsNonRoot") is not True:
            errors.append(f"{label}: pod or container must set securityContext.runAsNonRoot=true")
        if context.get("runAsUser") == 0:
            errors.append(f"{label}: securityContext.runAsUser must not be 0")
    if not _is_windows(pod):
        if context.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{label}: securityContext.allowPrivilegeEscalation must be false")
        capabilities = _map(context.get("capabilities"))
        if "ALL" not in (capabilities.get("drop") or []):
            errors.append(f'{label}: securityContext.capabilities.drop must include "ALL"')
        added = sorted(set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"})
        if added:
            errors.append(f"{label}: securityContext.capabilities.add must not include {', '.join(added)}")
        seccomp = context.get("seccompProfile")
        if seccomp is not None:
            if _map(seccomp).get("type") not in _SECCOMP_ALLOWED:
                errors.append(f"{label}: securityContext.seccompProfile.type {_map(seccomp).get('type')!r} "
                              "must be RuntimeDefault or Localhost")
        elif _map(pod_context.get("seccompProfile")).get("type") not in _SECCOMP_ALLOWED:
            errors.append(f"{label}: pod or container must set securityContext.seccompProfile.type to "
                          "RuntimeDefault or Localhost")
    return errors


def _pod_context_checks(pod: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
    errors = []
    if problem := _selinux_problem(context.get("seLinuxOptions")):
        errors.append(f"pod securityContext.{problem}")
    apparmor = _map(context.get("appArmorProfile"))
    if apparmor and apparmor.get("type") not in _APPARMOR_ALLOWED:
        errors.append(f"pod securityContext.appArmorProfile.type {apparmor.get('type')!r} is not allowed")
    if not _user_namespaced(pod):
        if context.get("runAsNonRoot") is False:
            errors.append("pod securityContext.runAsNonRoot must not be false")
        if context.get("runAsUser") == 0:
            errors.append("pod securityContext.runAsUser must not be 0")
    seccomp = context.get("seccompProfile")
    if seccomp is not None and not _is_windows(pod) and _map(seccomp).get("type") not in _SECCOMP_ALLOWED:
        errors.append(f"pod securityContext.seccompProfile.type {_map(seccomp).get('type')!r} must be "
                      "RuntimeDefault or Localhost")
    return errors


def check_restricted(pod_spec: Mapping[str, Any], annotations: Mapping[str, str] | None = None) -> list[str]:
    """Every violation of the restricted profile in ``pod_spec``; ``[]`` when it complies.

    ``annotations`` are the pod's, for the deprecated AppArmor annotations.
    """
    context = _map(pod_spec.get("securityContext"))
    errors = _host_checks(pod_spec, context)
    errors += _volume_checks(pod_spec)
    errors += _sysctl_checks(context)
    errors += _pod_context_checks(pod_spec, context)
    for key, value in (annotations or {}).items():
        if key.startswith(_APPARMOR_ANNOTATION_PREFIX) and value and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            errors.append(f"annotation {key}={value!r}: AppArmor profile is not allowed")
    for label, container in _containers(pod_spec):
        errors += _container_checks(label, container, pod_spec)
    return errors


# --- where pod specs come from -----------------------------------------------------------------


def _merged_pod_template(default: Any, override: Any) -> dict[str, Any]:
    """pod.MergePodTemplateWithDefault: fields of ``override`` win; volumes and env merge by name."""
    merged = dict(_map(default))
    for key, value in _map(override).items():
        if key in ("volumes", "env") and isinstance(value, list):
            by_name = {_map(item).get("name"): item for item in merged.get(key) or []}
            by_name.update({_map(item).get("name"): item for item in value})
            merged[key] = list(by_name.values())
        else:
            merged[key] = value
    return merged


def _task_spec(task: Mapping[str, Any]) -> Mapping[str, Any]:
    # A Task object, or a bare (possibly embedded) TaskSpec.
    return _map(task.get("spec")) if task.get("kind") == "Task" else task


def _pseudo_pod(task_spec: Mapping[str, Any], pod_template: Mapping[str, Any]) -> dict[str, Any]:
    step_template_context = _map(_map(task_spec.get("stepTemplate")).get("securityContext"))
    containers = []
    for index, step in enumerate(task_spec.get("steps") or []):
        step = _map(step)
        context = {**step_template_context, **_map(step.get("securityContext"))}
        name = f"step-{step['name']}" if step.get("name") else f"step-unnamed-{index}"
        containers.append({"name": name, "image": step.get("image"), "securityContext": context})
    for sidecar in task_spec.get("sidecars") or []:
        sidecar = _map(sidecar)
        containers.append({
            "name": f"sidecar-{sidecar.get('name')}",
            "image": sidecar.get("image"),
            "securityContext": dict(_map(sidecar.get("securityContext"))),
            "ports": list(sidecar.get("ports") or []),
        })
    pod: dict[str, Any] = {"containers": containers}
    volumes = list(task_spec.get("volumes") or []) + list(pod_template.get("volumes") or [])
    if volumes:
        pod["volumes"] = volumes
    for key in ("securityContext", "hostNetwork", "hostUsers"):
        if key in pod_template:
            pod[key] = pod_template[key]
    return pod


def tekton_pod_specs(task: Mapping[str, Any], pipelinerun: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The pseudo pod specs of TaskRuns of ``task`` (a Task or a TaskSpec) started by ``pipelinerun``.

    One per pod template that can apply: ``taskRunTemplate.podTemplate``, and each
    ``taskRunSpecs[].podTemplate`` merged over it (which pipeline task runs this task is not
    needed: every variant must comply). Without a PipelineRun, the pod has no template.
    """
    spec = _task_spec(task)
    if pipelinerun is None:
        return [_pseudo_pod(spec, {})]
    run_spec = _map(pipelinerun.get("spec"))
    default = _map(_map(run_spec.get("taskRunTemplate")).get("podTemplate"))
    pods = [_pseudo_pod(spec, default)]
    for override in run_spec.get("taskRunSpecs") or []:
        if _map(override).get("podTemplate"):
            pods.append(_pseudo_pod(spec, _merged_pod_template(default, _map(override)["podTemplate"])))
    return pods


def _embedded_task_specs(pipeline_spec: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for section in ("tasks", "finally"):
        for task in _map(pipeline_spec).get(section) or []:
            if isinstance(_map(task).get("taskSpec"), Mapping):
                yield str(_map(task).get("name")), task["taskSpec"]


def pod_specs_of(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pod specs ``obj`` will create, as far as they are visible in ``obj`` itself.

    Pod, Job, CronJob, Deployment, StatefulSet, DaemonSet, ReplicaSet; Tekton Task, TaskRun,
    Pipeline and PipelineRun (embedded task specs only — for a ``taskRef`` use
    ``tekton_pod_specs(task, pipelinerun)``). Anything else has none.
    """
    kind = obj.get("kind")
    spec = _map(obj.get("spec"))
    if kind == "Pod":
        return [dict(spec)]
    if kind in ("Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return [dict(_map(_map(spec.get("template")).get("spec")))]
    if kind == "CronJob":
        job_spec = _map(_map(spec.get("jobTemplate")).get("spec"))
        return [dict(_map(_map(job_spec.get("template")).get("spec")))]
    if kind == "Task":
        return tekton_pod_specs(obj)
    if kind == "TaskRun":
        if not isinstance(spec.get("taskSpec"), Mapping):
            return []
        return [_pseudo_pod(spec["taskSpec"], _map(spec.get("podTemplate")))]
    if kind == "Pipeline":
        return [_pseudo_pod(task_spec, {}) for _, task_spec in _embedded_task_specs(spec)]
    if kind == "PipelineRun":
        default = _map(_map(spec.get("taskRunTemplate")).get("podTemplate"))
        overrides = {_map(s).get("pipelineTaskName"): _map(s).get("podTemplate")
                     for s in spec.get("taskRunSpecs") or []}
        return [
            _pseudo_pod(task_spec, _merged_pod_template(default, overrides.get(name)))
            for name, task_spec in _embedded_task_specs(spec.get("pipelineSpec"))
        ]
    return []
