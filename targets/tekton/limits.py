"""Size limits of the Tekton target and the arithmetic behind them.

* **Results** travel in the termination message of the step that writes them (Tekton's default
  ``results-from: termination-message``). Kubernetes keeps at most 4096 bytes of it, and Tekton's
  entrypoint fails the step when its message (a JSON array of ``{"key","value","type"}`` entries,
  the ``StartedAt`` time included) would be longer. :func:`termination_message_size` computes
  that length the way Go's ``encoding/json`` would write it.
* **Values in env vars** (``KUBERNAUT_INPUTS``, ``ACTION_INPUTS``): Linux limits one
  ``NAME=value`` string passed to ``execve`` to ``MAX_ARG_STRLEN`` (32 pages = 131072 bytes).
* **Objects**: the Pipeline carries every step's ``inputs`` param and the PipelineRun's status
  copies the Pipeline spec; etcd refuses objects above about 1.5 MiB, so the inputs of one
  workflow may take at most 1 MiB.
"""

from __future__ import annotations

from collections.abc import Mapping

from targets.common.outputs import OUTPUTS_LIMIT
from targets.common.outputs import OUTPUTS_TOO_LARGE as OUTPUTS_TOO_LARGE  # one text for both engines

TERMINATION_MESSAGE_LIMIT = OUTPUTS_LIMIT

MAX_ARG_STRLEN = 32 * 4096


def env_value_limit(name: str) -> int:
    """The longest value of env var ``name``: ``NAME=value`` plus its NUL must fit MAX_ARG_STRLEN."""
    return MAX_ARG_STRLEN - len(name.encode()) - len(b"=") - 1


PIPELINE_INPUTS_LIMIT = 1024 * 1024

# Result types of Tekton's RunResult (pkg/result): task results are 1, internal values 3.
_TASK_RESULT_TYPE = 1
_INTERNAL_RESULT_TYPE = 3
# `StartedAt` in Go's "2006-01-02T15:04:05.999999999Z07:00" at its longest.
_STARTED_AT_MAX = "2006-01-02T15:04:05.999999999-07:00"

# Go's encoder escapes these as \u00XX (HTML safety) although JSON would not require it. \b and
# \f are 2 bytes since Go 1.22 and 6 before; counting 6 keeps the estimate on the safe side.
_SIX_BYTE_ASCII = frozenset("<>&\b\f")
_TWO_BYTE_ASCII = frozenset('"\\\n\r\t')
# The printable ASCII characters Go escapes (the others are written as they are).
_ESCAPED_PRINTABLE = '"\\<>&'


def go_json_string_size(text: str) -> int:
    """Bytes of ``text`` as a JSON string written by Go's ``json.Marshal`` (quotes included)."""
    if text.isascii() and text.isprintable() and not any(char in text for char in _ESCAPED_PRINTABLE):
        # Nearly every value (names, digests, JSON of plain outputs): one byte per character,
        # found without a Python loop over the characters.
        return len(text) + 2
    size = 2
    for char in text:
        code = ord(char)
        if char in _TWO_BYTE_ASCII:
            size += 2
        elif code < 0x20 or char in _SIX_BYTE_ASCII:
            size += 6
        elif code < 0x80:
            size += 1
        elif char in "\u2028\u2029" or 0xD800 <= code <= 0xDFFF:
            # Line separators are escaped for JavaScript; a lone surrogate is not valid UTF-8
            # and becomes \ufffd.
            size += 6
        else:
            size += len(char.encode("utf-8"))
    return size


def _entry_size(key: str, value_size: int, result_type: int) -> int:
    # {"key":K,"value":V,"type":T}
    return (len('{"key":') + go_json_string_size(key) + len(',"value":') + value_size
            + len(',"type":') + len(str(result_type)) + len("}"))


def termination_message_size(results: Mapping[str, str]) -> int:
    """The longest termination message of a step that writes ``results`` (name -> file text)."""
    entries = [_STARTED_AT_ENTRY]
    entries += [_entry_size(name, go_json_string_size(text), _TASK_RESULT_TYPE) for name, text in results.items()]
    return len("[") + sum(entries) + len(entries) - 1 + len("]")


_STARTED_AT_ENTRY = _entry_size("StartedAt", go_json_string_size(_STARTED_AT_MAX), _INTERNAL_RESULT_TYPE)
