"""The test-suite's own validators must accept what the cluster accepts and reject the rest."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from support.kube_schema import LATEST_KUBE_VERSION, validate_kube
from support.pss import check_restricted, pod_specs_of, tekton_pod_specs
from support.tekton_schema import TEKTON_KINDS, crd_json_schema, tekton_schemas_dir, validate_tekton

DIGEST = "sha256:" + "a" * 64
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "readOnlyRootFilesystem": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_POD = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "fsGroup": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def job() -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "payment-oom-fix-git-clone",
            "namespace": "production",
            "labels": {"app.kubernetes.io/managed-by": "kubernaut", "kubernaut.ai/step": "git-clone"},
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 120,
            "template": {
                "metadata": {"labels": {"kubernaut.ai/step": "git-clone"}},
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": copy.deepcopy(RESTRICTED_POD),
                    "containers": [{
                        "name": "action",
                        "image": f"ghcr.io/kubernaut/actions/git-clone@{DIGEST}",
                        "env": [{"name": "ACTION_INPUTS", "value": '{"branch":"main"}'}],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        "terminationMessagePolicy": "File",
                        "securityContext": copy.deepcopy(RESTRICTED_CONTAINER),
                        "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
                    }],
                    "volumes": [{"name": "workspace", "persistentVolumeClaim": {"claimName": "ws"}}],
                },
            },
        },
    }


def task() -> dict[str, Any]:
    helper = f"ghcr.io/kubernaut/helper@{DIGEST}"
    mounts = [{"name": "kubernaut", "mountPath": "/kubernaut"}]
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {"name": "kubernaut-action", "labels": {"app.kubernetes.io/managed-by": "kubernaut"}},
        "spec": {
            "params": [
                {"name": "actionType", "type": "string"},
                {"name": "actionImage", "type": "string"},
                {"name": "inputs", "type": "string", "default": "{}"},
                {"name": "upstreamSteps", "type": "array", "default": []},
                {"name": "guardKeys", "type": "array", "default": []},
            ],
            "workspaces": [{"name": "workspace", "mountPath": "/workspace", "optional": True}],
            "results": [{"name": "outputs", "type": "string"}, {"name": "guardValues", "type": "array"}],
            "volumes": [{"name": "kubernaut", "emptyDir": {}}],
            "stepTemplate": {"securityContext": copy.deepcopy(RESTRICTED_CONTAINER)},
            "steps": [
                {"name": "resolve-inputs", "image": helper, "command": ["kubernaut-taskhelper", "resolve"],
                 "args": ["--steps", "$(params.upstreamSteps[*])"],
                 "env": [{"name": "INPUTS", "value": "$(params.inputs)"}], "volumeMounts": mounts},
                {"name": "execute", "image": "$(params.actionImage)", "volumeMounts": mounts,
                 # Shell command substitution is not a Tekton variable and must pass.
                 "script": "#!/bin/sh\nset -eu\nN=$(wc -c < /kubernaut/inputs.json)\n"
                           "/action-entrypoint < /kubernaut/inputs.json\n",
                 "workspaces": [{"name": "workspace"}]},
                {"name": "publish-outputs", "image": helper, "volumeMounts": mounts,
                 "args": ["--outputs", "$(results.outputs.path)", "--guards", "$(results.guardValues.path)",
                          "--keys", "$(params.guardKeys[*])", "--dir", "$(workspaces.workspace.path)"]},
            ],
        },
    }


def pipeline() -> dict[str, Any]:
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "payment-oom-fix"},
        "spec": {
            "params": [{"name": "workflowName", "type": "string"}],
            "workspaces": [{"name": "shared"}],
            "tasks": [
                {"name": "check", "retries": 2, "timeout": "2m",
                 "params": [{"name": "workflow", "value": "$(params.workflowName)"}],
                 "taskSpec": {
                     "params": [{"name": "workflow"}],
                     "results": [{"name": "needed"}],
                     "steps": [{"image": f"busybox@{DIGEST}",
                                "script": "echo -n true > $(results.needed.path)"}],
                 }},
                {"name": "git-clone", "runAfter": ["check"], "taskRef": {"name": "kubernaut-action"},
                 "params": [
                     {"name": "upstreamOutputs", "value": ["$(tasks.check.results.needed)"]},
                     {"name": "run", "value": "$(context.pipelineRun.name)/$(context.pipelineTask.retries)"},
                 ],
                 "when": [{"input": "$(tasks.check.results.needed)", "operator": "in", "values": ["true"]}],
                 "workspaces": [{"name": "workspace", "workspace": "shared"}]},
            ],
            "finally": [{"name": "report", "taskRef": {"name": "reporter"},
                         "params": [{"name": "status", "value": "$(tasks.git-clone.status)"}]}],
            "results": [{"name": "needed", "value": "$(tasks.check.results.needed)"}],
        },
    }


def pipelinerun() -> dict[str, Any]:
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "payment-oom-fix", "namespace": "production",
                     "labels": {"kubernaut.ai/workflow": "payment-oom-fix"}},
        "spec": {
            "params": [{"name": "workflowName", "value": "payment-oom-fix"}],
            "pipelineSpec": pipeline()["spec"],
            "workspaces": [{"name": "shared", "volumeClaimTemplate": {
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}],
            "timeouts": {"pipeline": "15m", "tasks": "14m"},
            "taskRunTemplate": {"serviceAccountName": "kubernaut-actions",
                                "podTemplate": {"securityContext": copy.deepcopy(RESTRICTED_POD)}},
        },
    }


# --- Kubernetes -------------------------------------------------------------------------------


def test_kube_version_is_the_newest_available() -> None:
    assert tuple(map(int, LATEST_KUBE_VERSION.split("."))) >= (1, 33)


def test_known_good_job_passes() -> None:
    assert validate_kube(job()) == []


def test_older_kubernetes_versions_can_be_asked_for() -> None:
    assert validate_kube(job(), version="1.30") == []
    with pytest.raises(ValueError, match="supports Kubernetes up to"):
        validate_kube(job(), version="9.99")


def test_unknown_fields_fail_everywhere_and_all_are_reported() -> None:
    obj = job()
    obj["spec"]["bogus"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    obj["metadata"]["lables"] = {}
    errors = validate_kube(obj)
    assert any(e.startswith("spec: ") and "'bogus'" in e for e in errors)
    assert any(e.startswith("spec.template.spec.containers[0]: ") and "imagePullPolicyy" in e for e in errors)
    assert any(e.startswith("metadata: ") and "lables" in e for e in errors)


def test_wrong_types_fail() -> None:
    obj = job()
    obj["spec"]["backoffLimit"] = "zero"
    assert validate_kube(obj) == ["spec.backoffLimit: 'zero' is not of type 'integer', 'null'"]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda o: o["metadata"].update(name="Bad_Name"), "metadata.name: 'Bad_Name' must be a DNS-1123 subdomain"),
    (lambda o: o["metadata"].pop("name"), "metadata.name: required"),
    (lambda o: o["metadata"]["labels"].update({"kubernaut.ai/workflow": "w" * 64}), "label value"),
    (lambda o: o["metadata"]["labels"].update({"-bad/key": "v"}), "prefix '-bad'"),
    (lambda o: o["spec"]["template"]["metadata"]["labels"].update(x="a b"), "spec.template.metadata.labels.x"),
    (lambda o: o["metadata"].update(namespace="Prod"), "metadata.namespace"),
    (lambda o: o["spec"]["template"]["spec"].pop("restartPolicy"), "must be Never or OnFailure for a Job"),
])
def test_metadata_rules_the_schema_does_not_encode(mutate: Any, expected: str) -> None:
    obj = job()
    mutate(obj)
    errors = validate_kube(obj)
    assert any(expected in e for e in errors), errors


def test_rbac_names_follow_the_path_segment_rule() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "kubernaut:git-clone", "namespace": "production"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    assert validate_kube(role) == []


def test_kinds_without_a_schema_are_errors_not_passes() -> None:
    assert validate_kube(task()) == [f"<root>: no Kubernetes {LATEST_KUBE_VERSION} schema for tekton.dev/v1 Task"]


# --- Tekton -----------------------------------------------------------------------------------


def test_schemas_are_vendored_in_the_repository() -> None:
    directory = tekton_schemas_dir()
    assert directory.parts[-3:] == ("tests", "data", "tekton")
    assert {"LICENSE", "SOURCE.md"} <= {p.name for p in directory.iterdir()}


@pytest.mark.parametrize("kind", sorted(TEKTON_KINDS))
def test_converted_crd_schemas_are_valid_json_schema(kind: str) -> None:
    jsonschema.Draft202012Validator.check_schema(crd_json_schema(kind))


@pytest.mark.parametrize("make", [task, pipeline, pipelinerun])
def test_known_good_tekton_objects_pass(make: Any) -> None:
    assert validate_tekton(make()) == []


def test_taskrun_with_embedded_spec_passes() -> None:
    taskrun = {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"generateName": "x-"},
               "spec": {"taskSpec": task()["spec"], "timeout": "10m",
                        "params": [{"name": "actionType", "value": "git/clone"},
                                   {"name": "actionImage", "value": f"x@{DIGEST}"}],
                        "workspaces": [{"name": "workspace", "emptyDir": {}}],
                        "podTemplate": {"securityContext": copy.deepcopy(RESTRICTED_POD)}}}
    assert validate_tekton(taskrun) == []


def test_step_name_and_step_workspace_mount_path_are_optional() -> None:
    obj = task()
    del obj["spec"]["steps"][0]["name"]
    assert "mountPath" not in obj["spec"]["steps"][1]["workspaces"][0]
    assert validate_tekton(obj) == []


@pytest.mark.parametrize(("where", "expected"), [
    (lambda t: t["spec"]["steps"][0], "spec.steps[0]: Additional properties are not allowed ('foo'"),
    (lambda t: t["spec"], "spec: Additional properties are not allowed ('foo'"),
    (lambda t: t["spec"]["steps"][0]["securityContext"], "spec.steps[0].securityContext: Additional"),
    (lambda t: t["metadata"], "metadata: Additional properties are not allowed ('foo'"),
    (lambda t: t["spec"]["volumes"][0]["emptyDir"], "spec.volumes[0].emptyDir: Additional"),
])
def test_tekton_unknown_fields_fail(where: Any, expected: str) -> None:
    obj = task()
    obj["spec"]["steps"][0]["securityContext"] = {}
    where(obj)["foo"] = 1
    assert any(e.startswith(expected) for e in validate_tekton(obj)), validate_tekton(obj)


@pytest.mark.parametrize(("text", "expected"), [
    ("$(foo)", "$(foo): not a Tekton variable here"),
    ("$(params.nope)", "param 'nope' is not declared"),
    ("$(params.inputs", "unterminated '$('"),
    ("$(results.nope.path)", "result 'nope' is not declared"),
    ("$(workspaces.nope.path)", "workspace 'nope' is not declared"),
    ("$(context.taskRun.nam)", "not a Tekton variable here"),
    ("$(tasks.check.results.x)", "not a Tekton variable here"),  # no tasks in a Task
    ("$(context.pipelineRun.name)", "not a Tekton variable here"),
    ("$(steps.nope.results.x)", "step 'nope' does not exist"),
])
def test_bad_variables_in_a_task_fail(text: str, expected: str) -> None:
    obj = task()
    obj["spec"]["steps"][0]["args"].append(text)
    errors = validate_tekton(obj)
    assert any(e.startswith("spec.steps[0].args[2]: ") and expected in e for e in errors), errors


@pytest.mark.parametrize("text", [
    "$(params.inputs)", "$(params['inputs'])", '$(params["inputs"])', "$(params.upstreamSteps[0])",
    "$(context.taskRun.name)", "$(context.task.retry-count)", "$(workspaces.workspace.bound)",
    "$(steps.step-execute.exitCode.path)", "$(steps.step-unnamed-0.exitCode.path)",
    "$(results['outputs'].path)", "$(steps.execute.results.x)", "$(credentials.path)",
])
def test_good_task_variables_pass(text: str) -> None:
    obj = task()
    obj["spec"]["steps"][0]["args"].append(text)
    assert validate_tekton(obj) == []


def test_scripts_may_use_shell_substitution_but_not_bad_tekton_variables() -> None:
    obj = task()
    obj["spec"]["steps"][1]["script"] += "X=$(date)\nY=$((1 + 2))\n"
    assert validate_tekton(obj) == []
    obj["spec"]["steps"][1]["script"] += "echo $(params.secret)\n"
    assert validate_tekton(obj) == ["spec.steps[1].script: $(params.secret): param 'secret' is not declared"]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda t: t["spec"]["params"].append({"name": "1bad"}), "param name '1bad' must match"),
    (lambda t: t["spec"]["params"].append({"name": "inputs"}), "param 'inputs' is not unique"),
    (lambda t: t["spec"]["results"].append({"name": "-bad"}), "result name '-bad' must match"),
    (lambda t: t["spec"]["steps"][0].update(name="Resolve"), "step name 'Resolve' must be a DNS-1123 label"),
    (lambda t: t["spec"]["steps"][2].update(name="execute"), "step 'execute' is not unique"),
    (lambda t: t["spec"]["steps"][0].pop("image"), "spec.steps[0].image: required"),
    (lambda t: t["spec"]["steps"][1].update(command=["sh"]), "script cannot be used with command"),
    (lambda t: t["spec"]["steps"][1]["workspaces"][0].update(name="nope"), "undefined workspace 'nope'"),
    (lambda t: t["spec"].update(steps=[]), "at least one step"),
    (lambda t: t["metadata"].update(name="a" * 64), "longer than 63"),
    (lambda t: t["metadata"].update(name="Kubernaut"), "invalid resource name"),
    (lambda t: t.update(apiVersion="tekton.dev/v1beta1"), "not a tekton.dev/v1"),
])
def test_tekton_task_rules(mutate: Any, expected: str) -> None:
    obj = task()
    mutate(obj)
    errors = validate_tekton(obj)
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda s: s["tasks"][1].update(name="Git_Clone"), "pipeline task name 'Git_Clone' must be a DNS-1123"),
    (lambda s: s["tasks"][1].update(name="check"), "pipeline task name 'check' is not unique"),
    (lambda s: s["finally"][0].update(name="check"), "pipeline task name 'check' is not unique"),
    (lambda s: s["tasks"][1].update(runAfter=["nope"]), "depends on 'nope'"),
    (lambda s: s["tasks"][0].update(runAfter=["git-clone"]), "dependency cycle"),
    (lambda s: s["tasks"][1]["when"][0].update(operator="=="), "'==' is not one of in, notin"),
    (lambda s: s["tasks"][1]["when"][0].update(values=[]), "expecting non-empty values"),
    (lambda s: s["tasks"][1].update(taskSpec={"steps": [{"image": "x"}]}), "expected exactly one of"),
    (lambda s: s["tasks"][1]["params"].append({"name": "x", "value": "$(tasks.nope.results.a)"}),
     "unknown pipeline task 'nope'"),
    (lambda s: s["tasks"][1]["params"].append({"name": "x", "value": "$(tasks.check.results.nope)"}),
     "task 'check' declares no result 'nope'"),
    (lambda s: s["tasks"][1]["params"].append({"name": "x", "value": "$(params.nope)"}),
     "param 'nope' is not declared"),
    (lambda s: s["tasks"][1]["params"].append({"name": "x", "value": "$(tasks.check.status)"}),
     "only available in finally tasks"),
    (lambda s: s["tasks"][1]["params"].append({"name": "x", "value": "$(context.task.name)"}),
     "not a Tekton variable here"),
    (lambda s: s["tasks"][1]["params"].append({"name": "x", "value": "$(foo)"}), "$(foo): not a Tekton"),
    (lambda s: s["tasks"][1]["params"].append({"name": "x", "value": "$(tasks.report.results.r)"}),
     "'report' is a finally task"),
    (lambda s: s["tasks"][1]["params"].append({"name": "upstreamOutputs", "value": "x"}),
     "param 'upstreamOutputs' is not unique"),
    (lambda s: s["tasks"][1]["workspaces"][0].update(workspace="nope"), "expects workspace 'nope'"),
    (lambda s: s["tasks"][1].update(timeout="2 minutes"), "is not a Go duration"),
    (lambda s: s["finally"][0].update(runAfter=["check"]), "no runAfter allowed in finally"),
    (lambda s: s["tasks"][0]["taskSpec"]["steps"][0].update(script="$(context.pipelineTask.retries)"),
     "not a Tekton variable here"),
    (lambda s: s["results"].append({"name": "r", "value": "$(params.workflowName)"}),
     "pipeline results may only reference task results"),
    (lambda s: s["tasks"][0]["taskSpec"].update(apiVersion="example.dev/v1"),
     "apiVersion cannot be specified when using taskSpec.steps"),
    (lambda s: s["tasks"][0]["taskSpec"].update(metadata={"name": "x"}), "taskSpec.metadata: Additional"),
])
def test_tekton_pipeline_rules(mutate: Any, expected: str) -> None:
    obj = pipeline()
    mutate(obj["spec"])
    errors = validate_tekton(obj)
    assert any(expected in e for e in errors), errors


def test_embedded_specs_are_validated_in_pipelineruns() -> None:
    run = pipelinerun()
    run["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]["steps"][0]["imag"] = "x"
    run["spec"]["pipelineSpec"]["tasks"][1]["bogus"] = True
    errors = validate_tekton(run)
    assert any(e.startswith("spec.pipelineSpec.tasks[0].taskSpec.steps[0]: Additional") for e in errors)
    assert any(e.startswith("spec.pipelineSpec.tasks[1]: Additional") for e in errors)


def test_pipelinerun_params_propagate_into_the_embedded_spec() -> None:
    run = pipelinerun()
    run["spec"]["pipelineSpec"]["params"] = []
    assert validate_tekton(run) == []
    run["spec"]["params"] = []
    assert any("param 'workflowName' is not declared" in e for e in validate_tekton(run))


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda r: r["spec"]["taskRunTemplate"]["podTemplate"]["securityContext"].update(runAsNonroot=True),
     "spec.taskRunTemplate.podTemplate.securityContext: Additional"),
    (lambda r: r["spec"]["workspaces"][0]["volumeClaimTemplate"]["spec"].update(storageClass="x"),
     "spec.workspaces[0].volumeClaimTemplate.spec: Additional"),
    (lambda r: r["spec"]["workspaces"][0].update(emptyDir={}), "expected exactly one volume source"),
    (lambda r: r["spec"]["timeouts"].update(tasks="20m"), "should be <= the pipeline timeout"),
    (lambda r: r["spec"].update(pipelineRef={"name": "x"}), "expected exactly one of pipelineRef, pipelineSpec"),
    (lambda r: r["spec"]["taskRunTemplate"].update(serviceAccount="x"), "spec.taskRunTemplate: Additional"),
])
def test_tekton_pipelinerun_rules(mutate: Any, expected: str) -> None:
    obj = pipelinerun()
    mutate(obj)
    errors = validate_tekton(obj)
    assert any(e.startswith(expected) or expected in e for e in errors), errors


# --- Pod Security Standards -------------------------------------------------------------------


def restricted_pod() -> dict[str, Any]:
    return job()["spec"]["template"]["spec"]


def test_restricted_pod_passes() -> None:
    assert check_restricted(restricted_pod()) == []


def test_container_level_settings_alone_are_enough() -> None:
    pod = restricted_pod()
    del pod["securityContext"]
    assert check_restricted(pod) == []


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = pod["containers"][0]
    return container


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda p: p.update(hostNetwork=True), "hostNetwork"),
    (lambda p: p.update(hostPID=True), "hostPID"),
    (lambda p: p.update(hostIPC=True), "hostIPC"),
    (lambda p: _container(p)["securityContext"].update(privileged=True), "privileged"),
    (lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "volume type hostPath"),
    (lambda p: p["volumes"].append({"name": "n", "nfs": {"server": "s", "path": "/"}}), "volume type nfs"),
    (lambda p: _container(p).update(ports=[{"containerPort": 80, "hostPort": 80}]), "hostPort 80"),
    (lambda p: _container(p)["securityContext"].update(runAsNonRoot=False), "runAsNonRoot must not be false"),
    (lambda p: (p["securityContext"].pop("runAsNonRoot"), _container(p)["securityContext"].pop("runAsNonRoot")),
     "must set securityContext.runAsNonRoot=true"),
    (lambda p: p["securityContext"].update(runAsUser=0), "pod securityContext.runAsUser must not be 0"),
    (lambda p: _container(p)["securityContext"].update(runAsUser=0), "runAsUser must not be 0"),
    (lambda p: _container(p)["securityContext"].pop("allowPrivilegeEscalation"), "allowPrivilegeEscalation"),
    (lambda p: p.setdefault("initContainers", []).append({"name": "init", "securityContext": {
        **RESTRICTED_CONTAINER, "allowPrivilegeEscalation": True}}), "initContainers[0] 'init'"),
    (lambda p: p.setdefault("ephemeralContainers", []).append({"name": "debug"}), "ephemeralContainers[0]"),
    (lambda p: _container(p)["securityContext"].update(capabilities={"drop": ["NET_RAW"]}), 'drop must include "ALL"'),
    (lambda p: _container(p)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
     "add must not include SYS_ADMIN"),
    (lambda p: (p["securityContext"].pop("seccompProfile"), _container(p)["securityContext"].pop("seccompProfile")),
     "must set securityContext.seccompProfile.type"),
    (lambda p: _container(p)["securityContext"].update(seccompProfile={"type": "Unconfined"}), "'Unconfined'"),
    (lambda p: p["securityContext"].update(seccompProfile={"type": "Unconfined"}),
     "pod securityContext.seccompProfile"),
    (lambda p: p["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]), "'kernel.msgmax'"),
    (lambda p: _container(p)["securityContext"].update(appArmorProfile={"type": "Unconfined"}), "appArmorProfile"),
    (lambda p: p["securityContext"].update(appArmorProfile={"type": "Unconfined"}), "pod securityContext.appArmor"),
    (lambda p: _container(p)["securityContext"].update(seLinuxOptions={"type": "spc_t"}), "'spc_t'"),
    (lambda p: p["securityContext"].update(seLinuxOptions={"user": "root"}), "user and .role must be unset"),
    (lambda p: _container(p)["securityContext"].update(procMount="Unmasked"), "procMount"),
    (lambda p: _container(p).update(livenessProbe={"httpGet": {"host": "1.2.3.4", "port": 80}}), "livenessProbe"),
    (lambda p: _container(p)["securityContext"].update(windowsOptions={"hostProcess": True}), "hostProcess"),
])
def test_each_restricted_violation_is_caught(mutate: Any, expected: str) -> None:
    pod = restricted_pod()
    mutate(pod)
    errors = check_restricted(pod)
    assert any(expected in e for e in errors), errors


def test_allowed_exceptions() -> None:
    pod = restricted_pod()
    _container(pod)["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    pod["securityContext"]["sysctls"] = [{"name": "net.ipv4.ping_group_range", "value": "0 1"}]
    pod["volumes"] += [{"name": "e", "emptyDir": {}}, {"name": "s", "secret": {"secretName": "x"}},
                       {"name": "bare"}]
    assert check_restricted(pod) == []
    # Pods in a user namespace may run as root (1.35+).
    pod["hostUsers"] = False
    pod["securityContext"]["runAsUser"] = 0
    _container(pod)["securityContext"]["runAsNonRoot"] = False
    assert check_restricted(pod) == []


def test_apparmor_annotations() -> None:
    key = "container.apparmor.security.beta.kubernetes.io/action"
    assert check_restricted(restricted_pod(), {key: "runtime/default"}) == []
    assert check_restricted(restricted_pod(), {key: "unconfined"}) != []


def test_pod_specs_of_workloads() -> None:
    assert pod_specs_of(job()) == [restricted_pod()]
    assert pod_specs_of({"kind": "Pod", "spec": {"containers": []}}) == [{"containers": []}]
    assert pod_specs_of({"kind": "ConfigMap"}) == []


def test_tekton_pseudo_pods_use_step_template_and_pod_template() -> None:
    (pod,) = tekton_pod_specs(task(), pipelinerun())
    assert [c["name"] for c in pod["containers"]] == ["step-resolve-inputs", "step-execute", "step-publish-outputs"]
    assert pod["securityContext"] == RESTRICTED_POD
    assert check_restricted(pod) == []
    # Without the stepTemplate the steps violate the profile.
    bare = task()
    del bare["spec"]["stepTemplate"]
    assert check_restricted(tekton_pod_specs(bare)[0]) != []


def test_tekton_task_run_specs_override_the_template() -> None:
    run = pipelinerun()
    run["spec"]["taskRunSpecs"] = [{"pipelineTaskName": "git-clone",
                                    "podTemplate": {"hostNetwork": True}}]
    pods = tekton_pod_specs(task(), run)
    assert len(pods) == 2
    assert check_restricted(pods[0]) == []
    assert any("hostNetwork" in e for e in check_restricted(pods[1]))


def test_pod_specs_of_tekton_objects() -> None:
    assert len(pod_specs_of(task())) == 1
    run = pipelinerun()
    (pod,) = pod_specs_of(run)  # only the embedded taskSpec of "check" is visible
    assert pod["containers"][0]["name"] == "step-unnamed-0"
    errors = check_restricted(pod)  # the hand-written check task sets no security context
    assert any("allowPrivilegeEscalation" in e for e in errors)
    taskrun = {"kind": "TaskRun", "spec": {"taskSpec": task()["spec"],
                                           "podTemplate": {"securityContext": RESTRICTED_POD}}}
    assert [check_restricted(p) for p in pod_specs_of(taskrun)] == [[]]
    assert pod_specs_of({"kind": "TaskRun", "spec": {"taskRef": {"name": "x"}}}) == []
