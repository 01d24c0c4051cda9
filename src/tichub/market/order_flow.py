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

from tichub.core.messages import Msg
from tichub.market.models import OrderStatus

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


# What each step is called on the order's page; refusals name the step by it.
STEP_LABELS: dict[str, Msg] = {
    "quote": Msg("Send the quote"), "decline": Msg("Decline"),
    "accept": Msg("Accept the quote"), "amend": Msg("Amend"),
    "cancel": Msg("Cancel the order"), "receive_sample": Msg("Sample received"),
    "start_testing": Msg("Testing started"), "issue_report": Msg("Report issued"),
    "complete": Msg("Confirm completion"), "dispute": Msg("Dispute"),
}
SIDES: dict[str, Msg] = {"company": Msg("the company"), "lab": Msg("the laboratory")}
# When a step is open, in words (the states it may be taken from).
WHEN: dict[tuple[str, ...], Msg] = {
    ("submitted", "quoted"): Msg("until the quote is accepted"),
    BEFORE_TESTING: Msg("until testing starts"),
}


class FlowError(ValueError):
    """An action the state machine does not allow, with the reason in words."""

    def __init__(self, message: Msg, wrong_side: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.wrong_side = wrong_side


def next_status(action: str, status: str, side: Side) -> str:
    """Where ``action`` by ``side`` leads from ``status``; raises ``FlowError`` if it may
    not be taken."""
    step = STEPS.get(action)
    if step is None:
        raise FlowError(Msg("this is not a step of an order"))
    if step.side != side:
        raise FlowError(Msg("only {side} may take this step: {step}", side=SIDES[step.side],
                            step=STEP_LABELS[action]), wrong_side=True)
    if status not in step.from_states:
        now = OrderStatus(status)
        if status in FINAL:
            raise FlowError(Msg("{step}: not possible, the order is {status}",
                                step=STEP_LABELS[action], status=now))
        when = WHEN.get(step.from_states) or Msg(
            "while it is {status}", status=OrderStatus(step.from_states[0]))
        raise FlowError(Msg("{step}: not possible, the order is {status} (only {when})",
                            step=STEP_LABELS[action], status=now, when=when))
    if action == "amend":
        # Changing what was quoted on voids the quote.
        return "submitted" if status == "quoted" else status
    assert step.to is not None
    return step.to


def allowed(status: str, side: Side) -> list[str]:
    """The actions ``side`` may take on an order in ``status``."""
    return [a for a, step in STEPS.items() if step.side == side and status in step.from_states]
