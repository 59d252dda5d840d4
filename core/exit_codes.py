"""The exit codes of `ferry`: one policy for every command.

0  done, and what was checked holds.
1  failed: an error Ferry names in one line, a check that does not hold (verify, plan,
   events verify, replay --check), or records that a run or rollback could not finish.
2  the command line was wrong (click's usage errors).
3  stopped cleanly before the end (Ctrl-C once, or --max-duration): run it again to resume.
130  interrupted at once (Ctrl-C twice).
"""

from __future__ import annotations

OK = 0
FAILED = 1
USAGE = 2
STOPPED = 3
INTERRUPTED = 130

# Outcomes of a run that stopped cleanly and resume when the command is run again.
_RUN_STOPPED = frozenset({"interrupted", "timed_out"})
_ROLLBACK_STOPPED = frozenset({"interrupted"})


def check_exit(is_ok: bool) -> int:
    """A command that checks something: OK when it holds, FAILED when it does not."""
    return OK if is_ok else FAILED


def run_exit(outcome: str) -> int:
    """`ferry run`: OK when completed, STOPPED when it stopped cleanly, else FAILED."""
    if outcome == "completed":
        return OK
    return STOPPED if outcome in _RUN_STOPPED else FAILED


def rollback_exit(outcome: str, *, has_failures: bool, has_left_alone: bool) -> int:
    """`ferry rollback`: like a run, and FAILED when a record failed or was left alone."""
    if outcome != "completed":
        return STOPPED if outcome in _ROLLBACK_STOPPED else FAILED
    return FAILED if has_failures or has_left_alone else OK
