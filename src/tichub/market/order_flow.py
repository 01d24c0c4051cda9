"""The order's state machine, one table for the whole platform: which side may take which
action in which state, and where it leads. Pure: the service applies it, the pages show
the actions it allows.

submitted → quoted → accepted → sample_received → testing → report_issued → completed,
with cancelled (the company, until testing starts; the lab, by declining before
acceptance) and disputed (the company, instead of completing) as the exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["company", "lab"]


@dataclass(frozen=True)
class Step:
    side: Side
    from_states: tuple[str, ...]
    to: str | None  # None: stays where it is


BEFORE_TESTING = ("submitted", "quoted", "accepted", "sample_received")
STEPS: dict[str, Step] = {
    "quote": Step("lab", ("submitted", "quoted"), "quoted"),
    "decline": Step("lab", ("submitted", "quoted"), "cancelled"),
    "accept": Step("company", ("quoted",), "accepted"),
    "amend": Step("company", BEFORE_TESTING, None),
    "cancel": Step("company", BEFORE_TESTING, "cancelled"),
    "receive_sample": Step("lab", ("accepted",), "sample_received"),
    "start_testing": Step("lab", ("sample_received",), "testing"),
    "issue_report": Step("lab", ("testing",), "report_issued"),
    "complete": Step("company", ("report_issued",), "completed"),
    "dispute": Step("company", ("report_issued",), "disputed"),
}
FINAL = ("completed", "cancelled", "disputed")


class FlowError(ValueError):
    """An action the state machine does not allow, with the reason in words."""

    def __init__(self, message: str, wrong_side: bool = False) -> None:
        super().__init__(message)
        self.wrong_side = wrong_side


def next_status(action: str, status: str, side: Side) -> str:
    """Where ``action`` by ``side`` leads from ``status``; raises ``FlowError`` if it may
    not be taken."""
    step = STEPS.get(action)
    if step is None:
        raise FlowError(f"unknown action {action!r}; one of {', '.join(STEPS)}")
    if step.side != side:
        raise FlowError(f"only the {step.side} may {action.replace('_', ' ')} an order",
                        wrong_side=True)
    if status not in step.from_states:
        done = "amended" if action == "amend" else _words(action)
        when = " or ".join(_words(s) for s in step.from_states)
        raise FlowError(f"an order that is {_words(status)} cannot be {done}"
                        + ("" if status in FINAL else f" (only when {when})"))
    if action == "amend":
        # Changing what was quoted on voids the quote.
        return "submitted" if status == "quoted" else status
    assert step.to is not None
    return step.to


def _words(name: str) -> str:
    return name.replace("_", " ")


def allowed(status: str, side: Side) -> list[str]:
    """The actions ``side`` may take on an order in ``status``."""
    return [a for a, step in STEPS.items() if step.side == side and status in step.from_states]
