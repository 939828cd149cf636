"""``kubernaut crds``: the CustomResourceDefinitions of WorkflowExecution and ActionExecution."""

from __future__ import annotations

import sys

from compiler.yamlout import dump_documents
from kubernaut.cli.app import app
from targets.crds import crds


@app.command("crds")
def crds_command() -> None:
    """Print the CRDs (the same bytes as deploy/crds/), e.g. `kubernaut crds | kubectl apply -f -`."""
    sys.stdout.write(dump_documents(crds()))
