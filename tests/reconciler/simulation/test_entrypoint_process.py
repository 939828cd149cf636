"""Running a local entrypoint like the kubelet runs a container, and its termination message."""

from __future__ import annotations

import sys

from reconciler.simulation.process import (
    MAX_LOG_TAIL_BYTES,
    MAX_TERMINATION_MESSAGE_BYTES,
    run_entrypoint,
    termination_message,
)


def test_stdout_is_the_termination_message_even_on_failure() -> None:
    assert termination_message('{"a":1}\n', "warn", 0, "FallbackToLogsOnError") == '{"a":1}\n'
    assert termination_message("partial", "boom", 1, "FallbackToLogsOnError") == "partial"


def test_fallback_to_logs_only_when_the_file_is_empty_and_the_container_failed() -> None:
    assert termination_message("", "boom\n", 1, "FallbackToLogsOnError") == "boom\n"
    assert termination_message("", "boom\n", 0, "FallbackToLogsOnError") == ""
    assert termination_message("", "boom\n", 1, "File") == ""
    assert termination_message("", "boom\n", 1, None) == ""  # File is the API default


def test_limits_match_the_kubelet() -> None:
    big = "x" * (MAX_TERMINATION_MESSAGE_BYTES + 100)
    assert len(termination_message(big, "", 0, None)) == MAX_TERMINATION_MESSAGE_BYTES
    many = "".join(f"line {i}\n" for i in range(500))
    tail = termination_message("", many, 1, "FallbackToLogsOnError")
    assert tail.splitlines()[-1] == "line 499" and len(tail.splitlines()) == 80
    wide = "".join(("y" * 100) + "\n" for _ in range(60))
    assert len(termination_message("", wide, 1, "FallbackToLogsOnError").encode()) <= MAX_LOG_TAIL_BYTES


def test_byte_limits_never_split_a_character() -> None:
    text = "é" * MAX_TERMINATION_MESSAGE_BYTES  # 2 bytes each
    message = termination_message(text, "", 0, None)
    assert len(message.encode()) <= MAX_TERMINATION_MESSAGE_BYTES and set(message) == {"é"}


def test_exit_codes_signals_and_missing_executables() -> None:
    assert run_entrypoint([sys.executable, "-c", "import sys; sys.exit(7)"], {}).exit_code == 7
    killed = run_entrypoint([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], {})
    assert killed.exit_code == 137
    missing = run_entrypoint(["/nonexistent/entrypoint"], {})
    assert missing.exit_code == 127 and "nonexistent" in missing.stderr


def test_timeout_kills_the_process() -> None:
    result = run_entrypoint([sys.executable, "-c", "import time; time.sleep(30)"], {}, timeout=0.5)
    assert result.timed_out and result.exit_code == 137 and result.elapsed < 10


def test_stdin_is_empty_not_inherited() -> None:
    result = run_entrypoint([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"], {})
    assert result.stdout.strip() == "''"
