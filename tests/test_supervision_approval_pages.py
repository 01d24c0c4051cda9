"""Approval pages (zh and en), the reminder command and the demo applications."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from helpers import Account, make_account, make_institution, sign_in
from tichub.cli import app as cli_app
from tichub.core.config import get_settings
from tichub.core.models import Notification, OrgKind, Role
from tichub.registry.models import Qualification, QualificationKind, QualificationStatus
from tichub.registry.schemas import ScopeLineIn
from tichub.supervision.approval import service
from tichub.supervision.approval.demo import seed_applications
from tichub.supervision.approval.schemas import ApplicationIn, Conditions
from tichub.supervision.models import ApplicationStatus, Bureau, QualificationApplication


def _bureau(db: Session, email: str, district: str | None) -> Account:
    acc = make_account(db, email, kind=OrgKind.regulator, role=Role.editor)
    db.add(Bureau(org_id=acc.org.id, district=district))
    db.commit()
    return acc


def _form(client, path: str, data: dict[str, str], csrf: str):  # type: ignore[no-untyped-def]
    # As app.js sends a form: a refusal comes back as problem+json for the form to show.
    return client.post(path, data={**data, "csrf_token": csrf},
                       headers={"X-TICHub-Form": "1"}, follow_redirects=False)


def _goes_to(r) -> str:  # type: ignore[no-untyped-def]
    """Where a form sent by app.js lands once accepted."""
    assert r.status_code == 200, r.text
    return str(r.json()["redirect"])


def _apply_by_page(client, inst: str, csrf: str, sign: bool = True,
                   scope: str = "GB 4943.1-2022, 信息技术设备, 电气强度, 5.4.9\n"):  # type: ignore[no-untyped-def]
    page = client.get("/supervision/mine/applications/new",
                      params={"institution_id": inst, "route": "commitment", "kind": "first"})
    assert page.status_code == 200, page.text
    text = re.search(r'<input type="hidden" name="commitment" value="([^"]*)"', page.text)
    assert text is not None
    data = {"institution_id": inst, "route": "commitment", "kind": "first",
            "site_address": "上海市浦东新区张江路 1 号", "staff_count": "12",
            "key_instruments": "耐压测试仪, GPT-9904, EQ-001", "scope": scope,
            "commitment": html.unescape(text.group(1))}
    if sign:
        data["sign"] = "yes"
    return page, _form(client, "/supervision/mine/applications", data, csrf)


def test_a_lab_applies_signs_and_the_bureau_checks_on_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1, district="pudong")
    _bureau(db, "pudong@reg.example", "pudong")
    _bureau(db, "xuhui@reg.example", "xuhui")
    csrf = sign_in(client, "lab@example.com")
    assert "新建申请" in client.get("/supervision/mine/applications").text

    page, unsigned = _apply_by_page(client, inst, csrf, sign=False)
    assert "三个月内进行现场核查" in page.text and 'data-testid="sign"' in page.text
    assert unsigned.status_code == 422
    assert unsigned.json()["errors"][0]["field"] == "sign"
    _, bad = _apply_by_page(client, inst, csrf, scope="GB 4943.1-2022, 信息技术设备\n"
                                                     "not-a-standard, x, y\n")
    assert bad.status_code == 422
    assert {(e["row"], e["field"]) for e in bad.json()["errors"]} == {(1, "scope"),
                                                                      (2, "standard")}
    _, r = _apply_by_page(client, inst, csrf)
    landed = _goes_to(r)
    detail = client.get(landed)
    assert "承诺取证（待核查）" in detail.text and "电气强度" in detail.text
    app_id = landed.rsplit("/", 1)[1]
    # Shown as on commitment on the institution's page and in search results.
    assert 'data-testid="on-commitment"' in client.get(f"/institutions/{inst}").text
    assert 'data-testid="on-commitment"' in client.get("/institutions",
                                                       params={"q": "甲检测"}).text
    # A lab is no bureau.
    assert client.get("/supervision/applications").status_code == 403
    assert client.get(f"/supervision/applications/{app_id}").status_code == 403

    client.cookies.clear()
    csrf = sign_in(client, "xuhui@reg.example")
    assert "甲检测" not in client.get("/supervision/applications").text
    assert client.get(f"/supervision/applications/{app_id}").status_code == 404

    client.cookies.clear()
    csrf = sign_in(client, "pudong@reg.example")
    assert "甲检测" in client.get("/supervision/applications").text
    # Due in three months: not yet among the checks due within 30 days.
    assert "甲检测" not in client.get("/supervision/applications", params={"status": "due"}).text
    page = client.get(f"/supervision/applications/{app_id}")
    assert 'data-testid="check-form"' in page.text
    refused = _form(client, f"/supervision/applications/{app_id}/check",
                    {"outcome": "failed", "note": ""}, csrf)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "note"
    r = _form(client, f"/supervision/applications/{app_id}/check",
              {"outcome": "failed", "note": "关键设备不存在"}, csrf)
    page = client.get(_goes_to(r))
    assert "核查不通过" in page.text and 'data-testid="barred-until"' in page.text
    export = client.get("/supervision/applications.csv")
    assert export.status_code == 200 and "甲检测" in export.text
    english = client.get(f"/supervision/applications/{app_id}", params={"lang": "en"})
    assert "Commitment route closed until" in english.text

    client.cookies.clear()
    sign_in(client, "lab@example.com")
    again = client.get("/supervision/mine/applications/new",
                       params={"institution_id": inst, "route": "commitment"})
    assert 'data-testid="barred"' in again.text


def test_the_general_route_on_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1, district="pudong")
    _bureau(db, "city@reg.example", None)
    csrf = sign_in(client, "lab@example.com")
    page = client.get("/supervision/mine/applications/new",
                      params={"institution_id": inst, "route": "general", "kind": "first"})
    assert 'data-testid="commitment-text"' not in page.text
    r = _form(client, "/supervision/mine/applications", {
        "institution_id": inst, "route": "general", "kind": "first",
        "site_address": "上海市浦东新区张江路 1 号", "staff_count": "3",
        "scope": "GB 31241-2022, 锂离子电池, 过充电保护"}, csrf)
    app_id = _goes_to(r).rsplit("/", 1)[1]
    client.cookies.clear()
    csrf = sign_in(client, "city@reg.example")
    assert 'data-testid="decision-form"' in client.get(
        f"/supervision/applications/{app_id}").text
    r = _form(client, f"/supervision/applications/{app_id}/decision",
              {"outcome": "approved"}, csrf)
    assert _goes_to(r) == f"/supervision/applications/{app_id}"
    assert db.scalar(select(Qualification.on_commitment).where(
        Qualification.institution_id == inst, Qualification.kind == QualificationKind.cma)) \
        is False


@pytest.fixture
def tichub(monkeypatch, database_url) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TICHUB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_the_reminder_command(tichub, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1, district="pudong")
    bureau = _bureau(db, "pudong@reg.example", "pudong")
    app = service.apply(db, lab.principal(db), ApplicationIn(
        institution_id=inst, route="commitment", kind="first",
        conditions=Conditions(site_address="x", staff_count=1, scope=[ScopeLineIn(
            standard="GB 4943.1-2022", product="p", parameter="q")]),
        commitment=service.commitment_text("甲检测", service.ApplicationKind.first, "zh")),
        on=date(2026, 1, 10))
    due = app.check_due
    assert due == date(2026, 4, 10)
    r = tichub("supervision", "approval", "remind", "--on", (due + timedelta(days=1)).isoformat())
    assert r.exit_code == 0, r.output
    assert "1 reminder(s) sent; 1 on-site check(s)" in r.output
    r = tichub("supervision", "approval", "remind", "--on", (due + timedelta(days=1)).isoformat())
    assert "0 reminder(s) sent" in r.output
    db.expire_all()
    assert db.scalar(select(Notification.id).where(
        Notification.org_id == bureau.org.id, Notification.kind == "supervision.check_due"))
    bad = tichub("supervision", "approval", "remind", "--on", "yesterday")
    assert bad.exit_code == 1 and "not a date" in bad.stderr


def test_the_demo_applications(db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@demo.tichub.cn")
    make_institution(db, lab, name="演示实验室", serial=1, district="pudong",
                     qual_kind=QualificationKind.cma, number="230900000001")
    cb = make_account(db, "cb@demo.tichub.cn", kind=OrgKind.certification_body)
    make_institution(db, cb, name="演示认证机构", serial=2, district="xuhui",
                     qual_kind=QualificationKind.cma, number="230900000002")
    other = make_account(db, "x@example.com")
    make_institution(db, other, name="其他实验室", serial=3, district="minhang")
    assert seed_applications(db) == 3
    assert seed_applications(db) == 0  # once
    apps = {a.kind.value: a for a in db.scalars(select(QualificationApplication))}
    today = service.today()
    provisional = apps["added_parameters"]
    assert provisional.status is ApplicationStatus.provisional
    assert 50 <= (provisional.check_due - today).days <= 70
    overdue = apps["site_change"]
    assert service.to_out(db, overdue).overdue
    assert apps["first"].status is ApplicationStatus.submitted
    assert db.get(Qualification, overdue.qualification_id).status is QualificationStatus.valid


def test_the_scope_applied_for_may_come_as_the_scope_imports_file(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1, district="pudong")
    csrf = sign_in(client, "lab@example.com")
    fields = {"institution_id": inst, "route": "general", "kind": "first",
              "site_address": "上海市浦东新区张江路 1 号", "staff_count": "3",
              "csrf_token": csrf}

    def send(body: str):  # type: ignore[no-untyped-def]
        return client.post("/supervision/mine/applications", data=fields,
                           files={"scope_file": ("scope.csv", body.encode(), "text/csv")},
                           headers={"X-TICHub-Form": "1"})

    bad = send("标准编号,检测对象,检测项目\nGB 31241-2022,锂离子电池,过充电保护\n"
               "GB 31241-2022,,过放电\n")
    assert bad.status_code == 422
    assert {(e["row"], e["field"]) for e in bad.json()["errors"]} == {(3, "product")}
    good = send("标准编号,检测对象,检测项目,方法条款\nGB 31241-2022,锂离子电池,过充电保护,5.2\n"
                "GB 31241-2022,锂离子电池,过放电,5.3\n")
    app_id = _goes_to(good).rsplit("/", 1)[1]
    app = db.get(QualificationApplication, app_id)
    assert [line["parameter"] for line in app.conditions["scope"]] == ["过充电保护", "过放电"]
    assert app.conditions["scope"][1]["method_clause"] == "5.3"
