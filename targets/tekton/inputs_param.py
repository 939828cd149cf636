"""The ``inputs`` param: a step's raw input template, encoded so that Tekton leaves it alone.

Tekton substitutes (and validates) every ``$(...)`` in a param value and offers no escape, and the
kubelet expands ``$(VAR)`` and ``$$`` in env values. JSON lets any character of a string be
written as ``\\uXXXX``, and a ``$`` can only occur inside JSON strings, so writing every ``$`` as
``\\u0024`` yields JSON that decodes to exactly the same value while containing no ``$`` at all.
"""

from __future__ import annotations

import json
from typing import Any

DOLLAR_ESCAPE = "\\u0024"


def hide_dollars(json_text: str) -> str:
    """Rewrite every ``$`` of a JSON text as ``\\u0024`` (same value, no ``$`` left)."""
    return json_text.replace("$", DOLLAR_ESCAPE)


def encode_json(value: Any) -> str:
    """Compact JSON (key order kept, non-ASCII as is) with every ``$`` hidden."""
    return hide_dollars(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def encode_inputs_param(inputs: dict[str, Any]) -> str:
    """The value of the ``inputs`` param for a step's (unresolved) inputs."""
    return encode_json(inputs)


def decode_inputs_param(text: str) -> dict[str, Any]:
    """The input template back from the ``inputs`` param; ValueError unless it is a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the inputs param is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"the inputs param must be a JSON object, not {type(value).__name__}")
    return value
