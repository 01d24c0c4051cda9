"""``tichub pt``: PT statistics for a coordinator with a spreadsheet at hand, no database.
The JSON it prints is documented in docs/cli.md."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, NoReturn

import numpy as np
import typer

from tichub.core.errors import Problem

pt_app = typer.Typer(help="Proficiency-testing statistics (ISO 13528) from CSV or Excel.",
                     no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        _fail(f"{file}: {exc.strerror or exc}")


def _print(obj: dict[str, Any]) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False))


@pt_app.command("stats")
def pt_stats(
    file: Annotated[Path, typer.Argument(help="CSV or .xlsx with a value column; optional "
                                              "measurand, item, lab, unit, U, k, method")],
    method: Annotated[str, typer.Option(
        help="consensus: algorithm-a, q-hampel, median-made, median-niqr or mean-sd")
    ] = "algorithm-a",
    xpt: Annotated[float | None, typer.Option(
        "--xpt", help="a given assigned value (formulation, reference or expert labs) "
                      "instead of the consensus")] = None,
    u_xpt: Annotated[float, typer.Option(
        "--u-xpt", help="standard uncertainty of --xpt")] = 0.0,
    sigma_pt: Annotated[float | None, typer.Option(
        "--sigma-pt", help="σ_pt fixed for fitness for purpose; default: the robust SD")
    ] = None,
    k_xpt: Annotated[float, typer.Option(
        "--k-xpt", help="coverage factor of U(x_pt) in E_n")] = 2.0,
    scores: Annotated[bool, typer.Option(
        "--scores", help="score every row (implied by --xpt or --sigma-pt)")] = False,
) -> None:
    """Assigned value, robust SD and u(x_pt) per measurand; with --xpt/--sigma-pt/--scores,
    each row's z, z′, ζ and E_n with their classes."""
    from tichub.pt import analysis, stats
    from tichub.pt.sheets import read_results

    if method not in stats.METHODS:
        _fail(f"--method must be one of {', '.join(stats.METHODS)}")
    if sigma_pt is not None and not sigma_pt > 0:
        _fail("--sigma-pt must be greater than 0")
    if not u_xpt >= 0:
        _fail("--u-xpt must not be negative")
    try:
        rows = read_results(file.name, _read(file))
    except Problem as exc:
        _fail(str(exc))
    groups: dict[str, list[Any]] = {}
    for r in rows:
        name = " · ".join(p for p in (r.measurand, r.item) if p)
        groups.setdefault(name, []).append(r)
    assigned = (analysis.Assigned("reference", value=xpt, u=u_xpt) if xpt is not None
                else analysis.Assigned("consensus", method=method))
    sigma = (analysis.Sigma("fixed", value=sigma_pt) if sigma_pt is not None
             else analysis.Sigma("robust"))
    with_scores = scores or xpt is not None or sigma_pt is not None
    out = []
    for name, group in groups.items():
        values = np.array([r.value for r in group])
        big_u = np.array([np.nan if r.big_u is None else r.big_u for r in group])
        k = np.array([2.0 if r.k is None else r.k for r in group])
        try:
            m = analysis.analyse_one(name, values, big_u, k, assigned, sigma, k_xpt)
        except ValueError as exc:
            _fail(f"{name or 'results'}: {exc}")
        out.append(analysis.as_json(
            m, [r.lab for r in group] if with_scores else None,
            values if with_scores else None, [r.row for r in group] if with_scores else None))
    _print({"file": str(file), "measurands": out})


@pt_app.command("homogeneity")
def pt_homogeneity(
    file: Annotated[Path, typer.Argument(help="CSV or .xlsx, one row per measurement: "
                                              "item, value")],
    sigma_pt: Annotated[float | None, typer.Option("--sigma-pt", help="σ_pt of the round")
                        ] = None,
    delta_e: Annotated[float | None, typer.Option(
        "--delta-e", help="maximum permissible error, when results are judged by E_n or PA")
    ] = None,
    alpha: Annotated[float, typer.Option(help="level of the F and χ² points")] = 0.05,
) -> None:
    """The homogeneity check of ISO 13528:2022 Annex B on replicate measurements of items."""
    from tichub.pt import stats
    from tichub.pt.sheets import read_replicates

    if (sigma_pt is None) == (delta_e is None):
        _fail("give one of --sigma-pt or --delta-e")
    if not 0 < alpha < 0.5:
        _fail("--alpha must lie between 0 and 0.5")
    try:
        items, data = read_replicates(file.name, _read(file))
        result = stats.homogeneity(data, sigma_pt, delta_e=delta_e, alpha=alpha)
    except Problem as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc))
    _print({"file": str(file), "item_names": items, **asdict(result)})
