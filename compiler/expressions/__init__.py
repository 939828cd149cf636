"""The expression language: references in step inputs and ``when`` guards.

Compile time parses (``parse``) into frozen values (``model``); run time resolves them
(``resolve``) with the same code on both engines. See docs/expressions.md.
"""

from compiler.expressions.model import (
    GUARD_OPERATORS,
    JSON,
    REFERENCE_KINDS,
    WORKFLOW_FIELDS,
    WORKSPACE_PATH,
    ExpressionError,
    Guard,
    Literal,
    Reference,
    Scalar,
    Template,
)
from compiler.expressions.parse import (
    escape_literal,
    is_plain,
    iter_strings,
    parse_guard,
    parse_template,
    parse_template_cached,
)
from compiler.expressions.resolve import (
    Context,
    ResolutionError,
    evaluate_guard,
    guard_literal_texts,
    guard_values,
    resolve_inputs,
    resolve_reference,
    resolve_template,
    skip_message,
    to_text,
)

__all__ = [
    "GUARD_OPERATORS",
    "JSON",
    "REFERENCE_KINDS",
    "WORKFLOW_FIELDS",
    "WORKSPACE_PATH",
    "Context",
    "ExpressionError",
    "Guard",
    "Literal",
    "Reference",
    "ResolutionError",
    "Scalar",
    "Template",
    "escape_literal",
    "evaluate_guard",
    "guard_literal_texts",
    "guard_values",
    "is_plain",
    "iter_strings",
    "parse_guard",
    "parse_template",
    "parse_template_cached",
    "resolve_inputs",
    "resolve_reference",
    "resolve_template",
    "skip_message",
    "to_text",
]
