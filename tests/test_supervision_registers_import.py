"""Imports of the registers (CSV, Excel, the API, the pages and the command line): the
whole file or nothing, each fault named by row and field; the register pages; the demo
seed; and the move of the old signatories into the staff register."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from helpers import Account, api_token, make_account, make_institution, sign_in
from tichub.cli import app as cli_app
from tichub.core import errors
from tichub.core.config import get_settings
from tichub.core.ids import today
from tichub.core.migrate import alembic_config
from tichub.demo.registers import seed_registers
from tichub.market import service as market
from tichub.market.equipment import importer as equipment_import
from tichub.market.equipment import service as equipment
from tichub.market.models import Instrument, InstrumentEvent
from tichub.market.schemas import InstrumentIn
from tichub.registry import service as registry
from tichub.registry.models import Staff
from tichub.registry.schemas import SignatoryIn
from tichub.registry.staff import importer as staff_import

EQUIPMENT_CSV = (
    "资产编号,设备名称,设备类型,型号,日检测能力,单次检测时长,共享,记录类型,有效期起,有效期至,证书编号\n"
    "EQ-101,天平,天平,XS205,200,,否,校准,2025-01-01,2025-12-31,C-1\n"
    "EQ-101,天平,天平,XS205,200,,否,校准,2026-01-01,2026-12-31,C-2\n"
    "EQ-102,试验箱,环境试验箱,,,24,是,,,,\n"
    "EQ-103,烘箱,烘箱,,,,否,停用,2026-03-01,,\n")
STAFF_CSV = ("人员编号,姓名,职称,角色,授权范围,入职日期,离职日期,签字授权起,签字授权止\n"
             "ST-101,张三,工程师,授权签字人;检测员,GB 31241;GB 4943.1,2020-01-01,,2021-01-01,\n"
             "ST-102,李四,,采样员,,2022-05-01,2025-12-31,,\n")


def _lab(db, email: str = "lab@a.test") -> tuple[Account, str]:  # type: ignore[no-untyped-def]
    acc = make_account(db, email)
    inst, _ = make_institution(db, acc, name="Lab", serial=1)
    return acc, inst


def _refused(call: Callable[[], object]) -> set[tuple[int | None, str]]:
    with pytest.raises(errors.Problem) as e:
        call()
    assert e.value.status == 422
    return {(f.row, f.field) for f in e.value.errors}


def test_equipment_import_with_calibrations_and_again_unchanged(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    p = acc.principal(db)
    assert equipment_import.import_equipment_file(db, p, inst, "e.csv",
                                                  EQUIPMENT_CSV.encode()) == 3
    items = {i.asset_no: i for i in equipment.list_equipment(db, p, inst)}
    assert set(items) == {"EQ-101", "EQ-102", "EQ-103"}
    assert items["EQ-101"].calibration_due == date(2026, 12, 31)
    assert items["EQ-101"].tests_per_day == 200 and items["EQ-102"].hours_per_test == 24
    assert items["EQ-102"].shared and not items["EQ-101"].shared
    assert not equipment.equipment_usable_on(db, items["EQ-103"].id, date(2026, 3, 1))
    # The same file again: the instruments and their records stay as they are.
    equipment_import.import_equipment_file(db, p, inst, "e.csv", EQUIPMENT_CSV.encode())
    assert db.scalar(select(text("count(*)")).select_from(InstrumentEvent)) == 3
    assert len(equipment.list_equipment(db, p, inst)) == 3


def test_a_bad_equipment_row_refuses_the_whole_file(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    p = acc.principal(db)
    bad = (EQUIPMENT_CSV
           + "EQ-104,,x,,,,,,,,\n"  # row 6: no name
           + "EQ-105,n,x,,0,,,,,,\n"  # row 7: a capacity of 0
           + "EQ-106,n,x,,5,2,,,,,\n"  # row 8: both capacities
           + "EQ-107,n,x,,,,也许,检修,2026-13-01,,\n"  # row 9: shared, kind, date
           + "EQ-108,n,x,,,,,校准,2026-01-01,,\n")  # row 10: a calibration without its end
    assert _refused(lambda: equipment_import.import_equipment_file(
        db, p, inst, "e.csv", bad.encode())) == {
        (6, "name"), (7, "tests_per_day"), (8, "hours_per_test"), (9, "shared"),
        (9, "event_kind"), (9, "valid_from"), (10, "valid_until")}
    assert equipment.list_equipment(db, p, inst) == []
    assert _refused(lambda: equipment_import.import_equipment_file(
        db, p, inst, "e.csv", b"name,kind\nx,y\n")) == {(1, "asset_no")}


def test_equipment_import_from_excel(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    wb = Workbook()
    ws = wb.active
    ws.append(["asset_no", "name", "kind", "tests_per_day", "event_kind", "valid_from",
               "valid_until"])
    ws.append(["EQ-201", "Balance", "balance", 100, "verification",
               date(2026, 1, 1), date(2026, 12, 31)])
    buf = io.BytesIO()
    wb.save(buf)
    assert equipment_import.import_equipment_file(db, acc.principal(db), inst, "e.xlsx",
                                                  buf.getvalue()) == 1
    item = equipment.instrument_by_asset(db, acc.org.id, "EQ-201")
    assert item is not None and item.tests_per_day == 100
    assert equipment.equipment_usable_on(db, item.id, date(2026, 12, 31))


def test_staff_import_and_its_refusals(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    p = acc.principal(db)
    assert staff_import.import_staff_file(db, p, inst, "s.csv", STAFF_CSV.encode()) == 2
    rows = {s.staff_no: s for s in db.scalars(select(Staff).where(Staff.institution_id == inst))}
    assert rows["ST-101"].roles == ["tester", "signatory"]
    assert rows["ST-101"].authorised_for == ["GB 31241", "GB 4943.1"]
    assert rows["ST-102"].employed_until == date(2025, 12, 31)
    assert registry.signatory_faults(db, inst, ["ST-101"], date(2021, 1, 1)) == []
    bad = (STAFF_CSV.replace("ST-102,李四,,采样员", "ST-102,李四,,厨师")
           + "ST-103,王五,,,,2024-01-01,2023-01-01,,\n"
           + "ST-101,重复,,,,2024-01-01,,,\n"
           + "ST-104,赵六,,,,,,,\n")
    assert _refused(lambda: staff_import.import_staff_file(db, p, inst, "s.csv",
                                                           bad.encode())) == {
        (3, "roles"), (4, "employed_until"), (5, "staff_no"), (6, "employed_from")}
    db.rollback()
    assert db.get(Staff, rows["ST-102"].id).roles == ["sampler"]  # type: ignore[union-attr]


def test_imports_through_the_api_and_the_templates(client, db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    auth = {"Authorization": "Bearer " + api_token(db, acc, ["market:write", "registry:write"])}
    r = client.post(f"/api/registers/equipment/import?institution_id={inst}", headers=auth,
                    files={"file": ("e.csv", EQUIPMENT_CSV.encode(), "text/csv")})
    assert r.status_code == 201 and r.json()["imported"] == 3
    r = client.post(f"/api/registers/staff/import?institution_id={inst}", headers=auth,
                    files={"file": ("s.csv", b"staff_no,name\nST-1,x\n", "text/csv")})
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(1, "employed_from")]
    other = make_account(db, "b@b.test")
    r = client.post(f"/api/registers/staff/import?institution_id={inst}", files={
        "file": ("s.csv", STAFF_CSV.encode(), "text/csv")},
        headers={"Authorization": "Bearer " + api_token(db, other, ["registry:write"])})
    assert r.status_code == 404
    # The templates: headed in the reader's language, and imported back as they are.
    zh = client.get("/api/registers/staff/template.csv?lang=zh")
    assert zh.status_code == 200 and zh.content.decode("utf-8-sig").startswith("人员编号,姓名")
    en = client.get("/api/registers/equipment/template.xlsx?lang=en")
    sheet = load_workbook(io.BytesIO(en.content)).active
    assert [c.value for c in sheet[1]][:3] == ["asset_no", "name", "kind"]
    r = client.post(f"/api/registers/staff/import?institution_id={inst}", headers=auth,
                    files={"file": ("t.csv", zh.content, "text/csv")})
    assert r.status_code == 201, r.text


def test_the_register_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    _, inst = _lab(db)
    csrf = sign_in(client, "lab@a.test")
    r = client.post("/registers/equipment", follow_redirects=False, data={
        "csrf_token": csrf, "institution_id": inst, "asset_no": "EQ-301", "name": "天平",
        "kind": "天平", "tests_per_day": "100", "shared": "yes"})
    assert r.status_code == 303, r.text
    item = r.headers["location"].rsplit("/", 1)[1]
    page = client.get(r.headers["location"])
    assert "EQ-301" in page.text and 'data-testid="usable"' in page.text
    r = client.post(f"/registers/equipment/{item}/events", follow_redirects=False, data={
        "csrf_token": csrf, "kind": "calibration", "valid_from": str(today()),
        "valid_until": str(today() + timedelta(days=5))})
    assert r.status_code == 303
    listing = client.get("/registers/equipment").text
    assert 'data-testid="due-soon"' in listing and "EQ-301" in listing
    bad = client.post(f"/registers/equipment/{item}/events", data={
        "csrf_token": csrf, "kind": "calibration", "valid_from": str(today())},
        headers={"accept": "application/json"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "valid_until"
    r = client.post("/registers/staff", follow_redirects=False, data={
        "csrf_token": csrf, "institution_id": inst, "staff_no": "ST-301", "name": "王芳",
        "roles": ["tester", "sampler"], "employed_from": "2024-01-01"})
    assert r.status_code == 303, r.text
    person = db.scalar(select(Staff).where(Staff.staff_no == "ST-301"))
    assert person is not None and person.roles == ["tester", "sampler"]
    r = client.post(f"/registers/staff/{person.id}/end", follow_redirects=False,
                    data={"csrf_token": csrf, "on": "2026-06-30"})
    assert r.status_code == 303
    assert "2026-06-30" in client.get(f"/registers/staff/{person.id}").text
    en = client.get("/registers/staff?lang=en").text
    assert "Staff register" in en and "ST-301" in en
    r = client.post("/registers/staff/import", follow_redirects=False, data={
        "csrf_token": csrf, "institution_id": inst},
        files={"file": ("s.csv", STAFF_CSV.encode(), "text/csv")})
    assert r.status_code == 303
    public = client.get("/standards/editions?q=GB%204943.1&status=withdrawn&on=2024-01-01")
    assert 'data-testid="edition-GB 4943.1-2011"' in public.text
    assert 'data-testid="edition-GB 4943.1-2022"' not in public.text


def test_editions_page_is_public_and_imports_are_the_operators(client, db) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/standards/editions")
    assert page.status_code == 200 and "GB/T 36276-2023" in page.text
    assert 'data-testid="import-editions"' not in page.text
    make_account(db, "lab@a.test")
    csrf = sign_in(client, "lab@a.test")
    r = client.post("/standards/editions/import", data={"csrf_token": csrf},
                    files={"file": ("e.csv", b"number,source\nGB 1-2020,x\n", "text/csv")},
                    headers={"accept": "application/json"})
    assert r.status_code == 403


def test_the_demo_registers_are_seeded_once_through_the_use_cases(db) -> None:  # type: ignore[no-untyped-def]
    from tichub.core.models import OrgKind

    acc = make_account(db, "lab@demo.tichub.cn", OrgKind.lab)
    inst, _ = make_institution(db, acc, name="演示实验室", serial=7)
    # The marketplace and report seeds may come first: their rows join the registers.
    market.add_instrument(db, acc.principal(db), InstrumentIn(
        org_id=acc.org.id, name="电感耦合等离子体质谱仪（演示）", kind="ICP-MS"))
    registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="张明", authorised_from=date(2020, 1, 1)))
    assert seed_registers(db) == 7 + 9
    assert seed_registers(db) == 0
    assets = sorted(i.asset_no or "" for i in db.scalars(select(Instrument).where(
        Instrument.org_id == acc.org.id)))
    assert assets == [f"EQ-00{n}" for n in range(1, 9)]
    soon = equipment.instrument_by_asset(db, acc.org.id, "EQ-007")
    assert soon is not None and soon.calibration_due == today() + timedelta(days=12)
    for n in range(1, 9):
        item = equipment.instrument_by_asset(db, acc.org.id, f"EQ-00{n}")
        assert item is not None
        assert equipment.equipment_usable_on(db, item.id, date(2026, 1, 1))
        assert equipment.equipment_usable_on(db, item.id, today())
    people = {s.staff_no: s for s in db.scalars(select(Staff).where(Staff.institution_id == inst))}
    assert sorted(people) == [f"ST-{n:03d}" for n in range(1, 11)]
    assert people["ST-001"].name == "张明" and "tester" in people["ST-001"].roles
    # The report seed after it authorises no one twice.
    registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="李静", authorised_from=date(2020, 1, 1)))
    assert len([s for s in db.scalars(select(Staff).where(Staff.name == "李静"))]) == 1
    assert registry.signatory_faults(db, inst, ["张明", "李静", "ST-002"],
                                     date(2026, 3, 1)) == []


@pytest.fixture
def tichub(monkeypatch, database_url) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TICHUB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_the_command_line_imports_or_says_why_not(tichub, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, inst = _lab(db)
    good = tmp_path / "equipment.csv"
    good.write_text(EQUIPMENT_CSV, encoding="gb18030")
    result = tichub("registers", "import-equipment", str(good), "--institution", inst)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 3 instruments"
    bad = tmp_path / "staff.csv"
    bad.write_text("staff_no,name,employed_from\nST-1,x,yesterday\n", encoding="utf-8")
    result = tichub("registers", "import-staff", str(bad), "--institution", inst)
    assert result.exit_code == 1 and "employed_from" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = tichub("registers", "import-editions")
    assert result.exit_code == 0 and result.stdout.startswith("imported 14 editions")


def test_the_old_signatories_move_into_the_staff_register(database_url) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    engine = create_engine(database_url)
    cfg = alembic_config(database_url)
    command.downgrade(cfg, "0021")
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO organisations (id, name, kind, created_at) VALUES "
                "('01J00000000000000000000ORG', 'o', 'lab', CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO institutions (id, org_id, seq, kind, name_zh, credit_code, "
                "district, address, specialised, headquarters, published, created_at, "
                "updated_at) VALUES ('01J00000000000000000000INS', "
                "'01J00000000000000000000ORG', 99, 'lab', 'x', '913101150000000991', "
                "'pudong', '', false, false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO signatories (id, institution_id, name, title, authorised_from, "
                "authorised_until, created_at) VALUES ('01J00000000000000000000SIG', "
                "'01J00000000000000000000INS', '张明', '技术负责人', '2020-01-01', "
                "'2025-06-30', CURRENT_TIMESTAMP)"))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT org_id, name, title, roles, employed_from, authorised_until "
                "FROM staff WHERE id = '01J00000000000000000000SIG'")).one()
        assert row.org_id == "01J00000000000000000000ORG" and row.name == "张明"
        assert "signatory" in str(row.roles)
        assert str(row.employed_from) == "2020-01-01"
        assert str(row.authorised_until) == "2025-06-30"
    finally:
        engine.dispose()
