"""``tichub supervision approval``: the daily reminder of on-site checks due. The scheduler
(cron, a systemd timer) runs ``remind`` once a day; running it twice the same day sends
nothing new, since each step (30 days, 7 days, overdue) is sent once."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

approval_app = typer.Typer(help="Qualification approval by commitment: reminders.",
                           no_args_is_help=True)


@approval_app.command("remind")
def remind(
    on: Annotated[str | None, typer.Option(
        help="the day to remind for, YYYY-MM-DD (default: today in Beijing)")] = None,
) -> None:
    """Reminds each bureau of the on-site checks of commitments due within 30 days, within
    7 days, and overdue."""
    from tichub.cli import fail, session
    from tichub.supervision.approval import service

    day: date | None = None
    if on is not None:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            fail(f"--on: {on!r} is not a date (YYYY-MM-DD)")
    with session() as db:
        sent = service.remind(db, day)
        due = service.due_count(db, day)
    typer.echo(f"{sent} reminder(s) sent; {due} on-site check(s) due within 30 days or overdue")
