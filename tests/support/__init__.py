"""Validators the test-suite runs over emitted manifests.

* ``support.kube_schema`` — Kubernetes OpenAPI schemas (``kubernetes-validate``, strict, offline)
  plus the metadata rules the schemas do not encode (names, label syntax);
* ``support.tekton_schema`` — the Tekton CRD schemas vendored in ``tests/data/tekton`` (strict,
  embedded specs included) plus the Tekton webhook's naming, DAG and variable rules;
* ``support.pss`` — the Pod Security Standard "restricted" profile.

Each returns a list of human-readable errors, empty when the object is valid, so a test can
``assert validate(obj) == []`` and see every problem at once.
"""
