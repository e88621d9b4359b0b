"""Expected failures, and the exit codes every command uses.

The table below is the one source of the codes: the README's "Exit codes" section shows it
(tests/unit/test_exit_codes.py checks that they agree) and commands use the names, never the
numbers.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

# code -> what it means, as the README's "Exit codes" section lists it.
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "the command did what was asked and nothing needs attention",
    EXIT_FINDINGS: (
        "it worked and found something that needs attention (alerts firing, events "
        "dead-lettered or too many rows rejected, a failed readiness check, the local stack "
        "down for `local status`), or a confirmation was declined"
    ),
    EXIT_ERROR: (
        "an expected failure, one line on stderr with a hint: bad usage or input, a missing "
        "tool, no credentials, an unreachable endpoint, a job or demo stage that failed"
    ),
    EXIT_INTERRUPTED: "interrupted (Ctrl-C or SIGTERM); what the command started was stopped",
}


class EcommError(Exception):
    """An expected failure with a message for the user, an optional hint and its exit code."""

    def __init__(self, message: str, hint: str | None = None, code: int = EXIT_ERROR):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
