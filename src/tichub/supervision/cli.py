"""``tichub supervision …``: the supervision domain's commands, gathered from its
sub-capabilities into one group."""

from __future__ import annotations

import typer

from tichub.supervision.approval.cli import approval_app
from tichub.supervision.credit.cli import add_commands as add_credit_commands
from tichub.supervision.inspections.cli import draw_command
from tichub.supervision.signals.cli import signals_app

supervision_app = typer.Typer(help="Digital supervision: signals, credit tiers, inspection "
                                   "draws, qualification approval.", no_args_is_help=True)
supervision_app.add_typer(approval_app, name="approval")
supervision_app.add_typer(signals_app, name="signals")
add_credit_commands(supervision_app)
supervision_app.command("draw")(draw_command)
