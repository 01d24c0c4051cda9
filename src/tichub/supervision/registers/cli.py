"""``tichub registers``: load a lab's equipment or staff register, or the standards'
editions, from CSV or Excel, as the platform operator. Refused whole on any bad row (one
line on stderr; ``--report FILE`` lists every row and field)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

registers_app = typer.Typer(help="The evidence registers: equipment, staff, standard editions.",
                            no_args_is_help=True)

File = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                      help="CSV or .xlsx")]
Institution = Annotated[str, typer.Option("--institution", help="the institution's id")]
Report = Annotated[Path | None, typer.Option(
    "--report", help="write every refused row and field to this CSV file")]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@registers_app.command("import-equipment")
def import_equipment(file: File, institution: Institution, report: Report = None) -> None:
    """Add or update an institution's instruments (and their calibrations) from a file."""
    from tichub.cli import _operator, session
    from tichub.market.equipment import importer

    with session(report) as db:
        n = importer.import_equipment_file(db, _operator(), institution, file.name,
                                           file.read_bytes())
        typer.echo(f"imported {_plural(n, 'instrument')}")


@registers_app.command("import-staff")
def import_staff(file: File, institution: Institution, report: Report = None) -> None:
    """Add or update an institution's people (by staff number) from a file."""
    from tichub.cli import _operator, session
    from tichub.registry.staff import importer

    with session(report) as db:
        n = importer.import_staff_file(db, _operator(), institution, file.name,
                                       file.read_bytes())
        typer.echo(f"imported {_plural(n, 'person')}".replace("persons", "people"))


@registers_app.command("import-editions")
def import_editions(file: Annotated[Path | None, typer.Argument(
        exists=True, dir_okay=False, readable=True,
        help="CSV or .xlsx; default: the curated file shipped with the platform")] = None,
        report: Report = None) -> None:
    """Add or update standards' editions and their dates."""
    from tichub.cli import _operator, session
    from tichub.registry.editions import service

    with session(report) as db:
        if file is None:
            n = service.load_curated(db)
        else:
            n = service.import_editions(db, _operator(), file.name, file.read_bytes())
        typer.echo(f"imported {_plural(n, 'edition')}")
