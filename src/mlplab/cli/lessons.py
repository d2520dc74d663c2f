"""What a run's diagnostics mean for the network the options built, said in words.

A network whose hidden units are all linear (``--activation identity``) computes a linear
function of its inputs, however many layers it has: its gradient falls to 0 at the best
linear fit, which the diagnostics would call a vanishing gradient. The lesson is the
linearity, and for XOR that no linear function (no straight boundary) separates its classes.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlplab.experiments.config import TrainConfig
from mlplab.train.history import Event

__all__ = ["LINEAR", "linear_lesson"]

LINEAR = "identity"  # the hidden activation that makes the whole network linear
NOT_LINEAR = {"xor": "XOR", "xnor": "XNOR"}  # built-in sets no linear function separates


def linear_lesson(config: TrainConfig, events: Sequence[Event]) -> tuple[list[Event], list[str]]:
    """``(events, lessons)``: for a linear network, its gradient events give way to a lesson."""
    if config.activation != LINEAR:
        return list(events), []
    kept = [event for event in events if event.kind != "vanishing_gradient"]
    lessons = [
        "note: with --activation identity every hidden unit is linear, so the network computes",
        "  a linear function of its inputs (then the output's activation)",
    ]
    gate = NOT_LINEAR.get(config.dataset) if not config.data else None
    if gate:
        lessons[-1] += f", and {gate} is not one:"
        lessons.append(
            "  no straight line separates its classes, so no weights fit it (try --activation "
            "sigmoid)"
        )
    return kept, lessons
