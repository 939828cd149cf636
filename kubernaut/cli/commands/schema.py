"""``kubernaut schema``: a JSON Schema of WorkflowExecution for editors."""

from __future__ import annotations

import json
import sys

from kubernaut.cli.app import app
from targets.crds import workflow_json_schema


@app.command("schema")
def schema_command() -> None:
    """Print a JSON Schema of WorkflowExecution (for yaml-language-server and other editors)."""
    sys.stdout.write(json.dumps(workflow_json_schema(), indent=2, ensure_ascii=False) + "\n")
