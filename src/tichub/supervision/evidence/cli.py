"""``tichub evidence``: registering reports with their evidence from files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

evidence_app = typer.Typer(help="Reports' evidence: items tested, sampling, results.",
                           no_args_is_help=True)


@evidence_app.command("import")
def import_files(
    files: Annotated[list[Path], typer.Argument(
        exists=True, dir_okay=False, readable=True,
        help="one workbook (sheets reports, items, samplings, results) or CSV files named "
             "reports.csv, items.csv, samplings.csv, results.csv")],
    institution: Annotated[str, typer.Option(help="the issuing institution's id")],
    report: Annotated[Path | None, typer.Option(
        "--report", dir_okay=False, writable=True,
        help="if the files are refused, write every row's errors to this CSV file")] = None,
) -> None:
    """Register the files' reports with their evidence: all of them, or none."""
    from tichub.cli import _operator, session
    from tichub.core.config import get_settings
    from tichub.reports.evidence import importer
    from tichub.reports.service import Log

    with session(report) as db:
        sheets = importer.read_files({f.name: f.read_bytes() for f in files})
        receipts = importer.import_reports(db, _operator(), Log.from_settings(get_settings()),
                                           institution, sheets)
        typer.echo(f"registered {len(receipts)} report{'' if len(receipts) == 1 else 's'} "
                   "with their evidence")
