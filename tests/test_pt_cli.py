"""``tichub pt stats`` and ``tichub pt homogeneity`` on spreadsheets, no database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from test_pt_stats import E3, E4
from tichub.cli import app as cli_app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli_app, ["pt", *args])


def one_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def test_stats_reproduces_iso13528_e3_from_an_excel_sheet(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["参加者代码", "测定值", "单位"])  # Chinese headers
    for i, v in enumerate(E3, start=1):
        ws.append([f"L{i:02d}", v, "µg/L"])  # numbers as Excel numbers
    path = tmp_path / "atrazine.xlsx"
    wb.save(path)
    for method, expected in [("algorithm-a", (0.2570, 0.0395, 0.0085)),
                             ("q-hampel", (0.2600, 0.0426, 0.0091)),
                             ("median-niqr", (0.2620, 0.0402, 0.0086))]:
        result = run("stats", str(path), "--method", method)
        assert result.exit_code == 0, result.output
        [m] = json.loads(result.stdout)["measurands"]
        assert (round(m["x_pt"], 4), round(m["robust_sd"], 4), round(m["u_x_pt"], 4)) == expected
        assert m["n"] == 34 and m["method"] == method and "scores" not in m


def test_stats_scores_iso13528_e4_with_a_given_assigned_value(tmp_path: Path) -> None:
    path = tmp_path / "hg.csv"
    path.write_text("lab,value,U,k\n" + "".join(
        f"{lab},{x},{u},{k}\n" for lab, x, u, k, *_ in E4), encoding="utf-8")
    result = run("stats", str(path), "--xpt", "0.044", "--u-xpt", "0.0041",
                 "--sigma-pt", "0.0066")
    assert result.exit_code == 0, result.output
    [m] = json.loads(result.stdout)["measurands"]
    assert m["assigned_value_from"] == "reference" and m["sigma_pt"] == 0.0066
    by_lab = {s["lab"]: s for s in m["scores"]}
    for lab, *_, z, zp, zeta, en in E4:
        s = by_lab[lab]
        assert abs(s["z"] - z) <= 0.005 + 1e-9
        assert abs(s["z_prime"] - zp) <= 0.005 + 1e-9
        assert abs(s["zeta"] - zeta) <= 0.005 + 1e-9
        assert abs(s["en"] - en) <= 0.005 + 1e-9
    assert by_lab["L04"]["z_class"] == "unsatisfactory"
    assert by_lab["L01"]["z_class"] == "satisfactory" and by_lab["L01"]["en_class"] == (
        "satisfactory")
    assert by_lab["L04"]["row"] == 2
    # u(x_pt) 0.0041 > 0.3·0.0066: the output says so
    assert m["u_negligible"] is False and any("z′" in w for w in m["warnings"])


def test_stats_groups_measurands(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    lines = ["measurand,lab,value,unit"]
    lines += [f"Pb,L{i},{10 + i % 3},mg/kg" for i in range(12)]
    lines += [f"Cd,L{i},{1 + (i % 4) / 10},mg/kg" for i in range(12)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("stats", str(path), "--scores")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)["measurands"]
    assert [m["measurand"] for m in out] == ["Pb", "Cd"]
    assert all(len(m["scores"]) == 12 for m in out)


@pytest.mark.parametrize(("body", "message"), [
    ("lab,value\nL1,abc\nL2,1\n", "row 2, value: 'abc' is not a number"),
    ("lab,value\nL1,1\nL1,2\n", "row 3, lab: L1 already has a result here (row 2)"),
    ("lab,value,unit\nL1,1,mg/kg\nL2,2,µg/kg\n", "mixes units"),
    ("lab,value,U,k\nL1,1,0.1,0\n", "row 2, k: must be greater than 0"),
    ("lab,result_x\nL1,1\n", "value: column missing from the header row"),
    ("lab,value\n", "has no results"),
])
def test_stats_refuses_bad_files_in_one_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    assert message in one_error(run("stats", str(path)))


def test_stats_refuses_bad_options(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("value\n1\n2\n3\n", encoding="utf-8")
    assert "--method must be one of" in one_error(run("stats", str(path), "--method", "x"))
    assert "--sigma-pt must be greater than 0" in one_error(
        run("stats", str(path), "--sigma-pt", "0"))
    assert "No such file" in one_error(run("stats", str(tmp_path / "missing.csv")))


def test_homogeneity(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    rows = [("A", 10.0), ("A", 10.2), ("B", 10.4), ("B", 10.6), ("C", 9.6), ("C", 9.8)]
    path.write_text("item,value\n" + "".join(f"{i},{v}\n" for i, v in rows), encoding="utf-8")
    result = run("homogeneity", str(path), "--sigma-pt", "1.0")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["item_names"] == ["A", "B", "C"] and (out["items"], out["replicates"]) == (3, 2)
    assert out["s_w"] == pytest.approx(0.02**0.5)
    assert out["limit"] == pytest.approx(0.3) and isinstance(out["passes"], bool)
    path.write_text("item,value\nA,1\nA,2\nB,1\n", encoding="utf-8")
    assert "same number of replicates" in one_error(
        run("homogeneity", str(path), "--sigma-pt", "1"))
    assert "one of --sigma-pt or --delta-e" in one_error(run("homogeneity", str(path)))
