"""``tichub supervision tiers`` and ``tiers-verify``: the monthly run of the credit-risk
tiers (or one institution's, on demand), and recomputing a published score from a file.

The monthly run is a cron line on the server, in Beijing time (the 1st, 01:30):
``30 1 1 * * TZ=Asia/Shanghai tichub supervision tiers``; a second run in the same month
adds another score, it does not replace the first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def tiers(
    institution: Annotated[str | None, typer.Option(
        "--institution", help="score only this institution (its id)")] = None,
    on_demand: Annotated[bool, typer.Option(
        "--on-demand", help="record the run as on demand rather than monthly")] = False,
) -> None:
    """Score every institution (or one) by the current published rule set and store the
    scores; prints how many were scored."""
    from tichub.cli import session
    from tichub.core.progress import bars
    from tichub.registry.models import Institution
    from tichub.supervision.credit import service

    with session() as db:
        if institution is not None and db.get(Institution, institution[:26]) is None:
            _fail(f"no institution with id {institution}")
        count = service.recompute(
            db, institution_ids=[institution] if institution else None,
            trigger="on_demand" if on_demand or institution else "monthly",
            progress=bars())
    typer.echo(f"scored {count} institutions")


def tiers_verify(
    file: Annotated[Path, typer.Argument(
        help="a stored score as JSON (GET /api/supervision/credit/scores/{id}), or - "
             "for standard input")],
) -> None:
    """Recompute a published score from its inputs and rule set version; exit 1 if the
    stored score or tier differs."""
    from tichub.supervision.credit import score

    try:
        text = typer.get_text_stream("stdin").read() if str(file) == "-" else \
            file.read_text(encoding="utf-8")
        stored: Any = json.loads(text)
    except OSError as exc:
        _fail(f"{file}: {exc.strerror or exc}")
    except ValueError as exc:
        _fail(f"{file}: not JSON ({exc})")
    if isinstance(stored, dict) and "stored" in stored:  # the verify endpoint's answer
        stored = stored["stored"]
    if not isinstance(stored, dict) or not {"rule_version", "inputs", "score", "tier"} <= set(
            stored):
        _fail("the file needs rule_version, inputs, score and tier")
    try:
        same, result = score.verify(stored)
    except KeyError:
        _fail(f"rule set {stored['rule_version']} was never published")
    except (ValueError, TypeError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps({"matches": same, **result.as_json()}, ensure_ascii=False, indent=2))
    if not same:
        raise typer.Exit(1)


def add_commands(app: typer.Typer) -> None:
    """Adds the credit-tier commands to the ``supervision`` command group."""
    app.command("tiers")(tiers)
    app.command("tiers-verify")(tiers_verify)
