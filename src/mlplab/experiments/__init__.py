"""Experiments: many trainings at once, without the command line.

Stacks of networks and which of them solve a task (``train_stack``), with the memory
they need estimated before anything is allocated.
"""

from mlplab.experiments.stacks import (
    SolveWatch,
    StackOutcome,
    check_memory,
    estimate_bytes,
    memory_limit,
    solved,
    train_stack,
)

__all__ = ["SolveWatch", "StackOutcome", "check_memory", "estimate_bytes", "memory_limit",
           "solved", "train_stack"]  # fmt: skip
