"""``tichub supervision signals``: the batch run of the signal rules."""

from __future__ import annotations

import json
from typing import Annotated

import typer

signals_app = typer.Typer(help="Fraud signals: rules over report evidence.",
                          no_args_is_help=True)


@signals_app.command("run")
def run(
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", help="only this rule (repeatable), e.g. INSTRUMENT_UNCALIBRATED")] = None,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress",
        help="a progress bar on stderr; by default on a terminal")] = None,
) -> None:
    """Runs the rules over the whole registry; prints the run's figures as JSON."""
    from tichub.cli import fail, session
    from tichub.core.progress import bars
    from tichub.supervision.signals import batch, rules

    unknown = [r for r in rule or [] if r not in rules.BY_CODE]
    if unknown:
        fail(f"unknown rule {unknown[0]}; the rules are: {', '.join(rules.BY_CODE)}")
    with session() as db:
        done = batch.run(db, bars(progress), codes=rule or None)
        typer.echo(json.dumps({"run": done.id, "records": done.records,
                               "raised": done.raised, "figures": done.figures},
                              ensure_ascii=False, indent=2))
