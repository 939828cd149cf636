"""``kubernaut/echo``: its outputs are exactly its inputs (for testing data passing between steps).

Run it as ``python -m kubernaut.actions.echo`` with ``ACTION_INPUTS='{"a": 1}'`` or inputs on stdin.
"""

from __future__ import annotations

from typing import Any

from kubernaut.sdk import action


@action()
def echo(inputs: dict[str, Any]) -> dict[str, Any]:
    # No contract check: kubernaut/echo accepts any inputs (additionalInputs in its contract),
    # and skipping it keeps the process start fast, which matters when a simulation runs many.
    return dict(inputs)


if __name__ == "__main__":
    echo.run()
