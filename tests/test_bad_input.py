"""Bad input gets a clear error (problem+json naming the field, or one CLI line) on both
databases, and loses nothing that was already stored."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from helpers import credit_code, make_account, make_institution, sign_in
from tichub.cli import app as cli_app
from tichub.core.config import get_settings
from tichub.core.errors import PROBLEM_JSON
from tichub.core.models import ApiToken, OrgKind, User
from tichub.registry.models import Institution, Qualification, ScopeLine

SCOPE_HEADER = "资质编号,标准编号,检测对象,检测项目\n"
INST_HEADER = "机构名称,统一社会信用代码,所在区,地址,资质类型,资质编号,有效期至\n"
BIG = "x" * 200_000  # over the csv module's 128 KiB field limit


@pytest.fixture
def tichub(monkeypatch, database_url) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TICHUB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def _problem(r: Any, status: int) -> list[tuple[Any, str]]:
    """Checks a problem+json answer; returns its (row, field) pairs."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == status
    return [(e.get("row"), e["field"]) for e in body.get("errors", [])]


def _one_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return str(line)


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    db.rollback()  # see what the request committed
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _scope(db, qid: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    db.rollback()
    return [tuple(r) for r in db.execute(
        select(ScopeLine.standard, ScopeLine.product, ScopeLine.parameter)
        .where(ScopeLine.qualification_id == qid).order_by(ScopeLine.line_no))]


# --- 1. a zone-less expiry --------------------------------------------------------------------

def test_a_token_expiry_without_a_zone_is_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "admin@example.com")
    csrf = sign_in(client, "admin@example.com")
    url = f"/api/orgs/{acc.org.id}/tokens"
    body = {"name": "ci", "scopes": ["registry:read"], "expires_at": "2030-01-01T00:00:00"}
    r = client.post(url, headers={"X-CSRF-Token": csrf}, json=body)
    assert _problem(r, 422) == [(None, "expires_at")]
    assert _count(db, ApiToken) == 0
    r = client.post(url, headers={"X-CSRF-Token": csrf},
                    json={**body, "expires_at": "2030-01-01T00:00:00+08:00"})
    assert r.status_code == 201, r.text


# --- 2. renumbering a qualification onto another's number -------------------------------------

def test_renumbering_onto_another_qualification_is_a_conflict(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    _, q1 = make_institution(db, acc, name="甲", serial=1, number="CNAS L0001")
    _, q2 = make_institution(db, acc, name="乙", serial=2, number="CNAS L0002")
    csrf = sign_in(client, "lab@example.com")
    r = client.put(f"/api/registry/qualifications/{q2}", headers={"X-CSRF-Token": csrf},
                   json={"kind": "cnas", "number": "CNAS  L0001", "valid_until": "2031-01-01"})
    assert _problem(r, 409) == [(None, "number")]
    db.rollback()
    assert db.get(Qualification, q2).number == "CNAS L0002"
    # Keeping its own number is no conflict.
    r = client.put(f"/api/registry/qualifications/{q1}", headers={"X-CSRF-Token": csrf},
                   json={"kind": "cnas", "number": "CNAS L0001", "valid_until": "2031-01-01"})
    assert r.status_code == 200, r.text


# --- 3. null for a field that cannot be empty -------------------------------------------------

def test_null_is_refused_for_fields_that_must_have_a_value(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    csrf = sign_in(client, "lab@example.com")
    url = f"/api/registry/institutions/{inst}"
    for field in ("name_zh", "district", "address", "specialised", "headquarters", "published"):
        r = client.patch(url, headers={"X-CSRF-Token": csrf}, json={field: None})
        assert _problem(r, 422) == [(None, field)]
    db.rollback()
    assert db.get(Institution, inst).name_zh == "甲检测"
    r = client.patch(url, headers={"X-CSRF-Token": csrf}, json={"name_en": None})
    assert r.status_code == 200, r.text


# --- 4. a CSV the csv module cannot read ------------------------------------------------------

def test_an_oversized_csv_field_is_a_file_error(client, db, tichub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_account(db, "op@example.com", kind=OrgKind.operator)
    inst, qid = make_institution(db, acc, name="甲检测", serial=1, number="CNAS L0001",
                                 scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    before = _scope(db, qid)
    csrf = sign_in(client, "op@example.com")
    body = (SCOPE_HEADER + "CNAS L0001,GB 4943.1-2022,设备,电气强度\n"
            + f"CNAS L0001,GB 4943.1-2022,{BIG},电气强度\n").encode()
    r = client.post(f"/api/registry/institutions/{inst}/scope/import",
                    headers={"X-CSRF-Token": csrf}, files={"file": ("s.csv", body)})
    assert _problem(r, 422) == [(3, "file")]
    r = client.post("/api/registry/institutions/import", headers={"X-CSRF-Token": csrf},
                    files={"file": ("i.csv", (INST_HEADER + BIG + "\n").encode())})
    assert _problem(r, 422) == [(2, "file")]
    path = tmp_path / "big.csv"
    path.write_bytes(body)
    line = _one_error(tichub("registry", "import-scope", inst, str(path)))
    assert "row 3, file" in line
    assert _scope(db, qid) == before and _count(db, Institution) == 1


# --- 5. text the columns cannot hold ----------------------------------------------------------

def test_over_long_text_and_control_characters_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, qid = make_institution(db, acc, name="甲检测", serial=1,
                                 scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    before = _scope(db, qid)
    csrf = sign_in(client, "lab@example.com")
    h = {"X-CSRF-Token": csrf}
    new = {"name_zh": "乙检测", "credit_code": credit_code(2), "district": "xuhui"}
    for bad, field in [({"address": "路" * 301}, "address"),
                       ({"industrial_park": "园" * 201}, "industrial_park"),
                       ({"name_zh": "乙\x00检测"}, "name_zh"),
                       ({"name_en": "B\x07"}, "name_en"),
                       ({"address": "\ud800"}, "address")]:  # an unpaired surrogate
        # json.dumps escapes what httpx could not encode as UTF-8.
        r = client.post(f"/api/registry/orgs/{acc.org.id}/institutions",
                        headers={**h, "content-type": "application/json"},
                        content=json.dumps({**new, **bad}))
        assert _problem(r, 422) == [(None, field)], bad
        r = client.patch(f"/api/registry/institutions/{inst}",
                         headers={**h, "content-type": "application/json"},
                         content=json.dumps(bad))
        assert _problem(r, 422) == [(None, field)], bad
    assert _count(db, Institution) == 1
    assert db.get(Institution, inst).name_zh == "甲检测"

    line = {"standard": "GB 4943.1-2022", "product": "设备", "parameter": "电气强度"}
    for bad, field in [({"product": "品" * 301}, "product"),
                       ({"parameter": "a\x00b"}, "parameter"),
                       ({"method_clause": "4." * 51}, "method_clause"),
                       ({"standard": "GB " + "1" * 120}, "standard"),
                       ({"standard": "GB" + "1" * 98}, "standard")]:  # normalised: 101
        r = client.put(f"/api/registry/qualifications/{qid}/scope", headers=h,
                       json=[line, {**line, **bad}])
        assert _problem(r, 422) in ([(None, f"1.{field}")], [(2, field)]), bad
    r = client.put(f"/api/registry/qualifications/{qid}", headers=h,
                   json={"kind": "cnas", "number": "L\x00", "valid_until": "2031-01-01"})
    assert _problem(r, 422) == [(None, "number")]
    r = client.post(f"/api/orgs/{acc.org.id}/tokens", headers=h,
                    json={"name": "t\x00", "scopes": ["registry:read"]})
    assert _problem(r, 422) == [(None, "name")]
    assert _scope(db, qid) == before

    # Query strings and paths are text too.
    assert _problem(client.get("/api/registry/search", params={"q": "电池\x00"}), 422) == [
        (None, "q")]
    assert _problem(client.get("/api/registry/institutions/%00"), 422) == [(None, "path")]


def test_imports_name_each_row_with_text_the_columns_cannot_hold(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_account(db, "op@example.com", kind=OrgKind.operator)
    inst, qid = make_institution(db, acc, name="甲检测", serial=1, number="CNAS L0001",
                                 scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    before = _scope(db, qid)
    csrf = sign_in(client, "op@example.com")
    scope = (SCOPE_HEADER + "CNAS L0001,GB 4943.1-2022,设备,电气强度\n"
             + f"CNAS L0001,GB 4943.1-2022,{'品' * 301},电气强度\n"
             + "CNAS L0001,GB 4943.1-2022,设备,电气\x00强度\n")
    r = client.post(f"/api/registry/institutions/{inst}/scope/import",
                    headers={"X-CSRF-Token": csrf}, files={"file": ("s.csv", scope.encode())})
    assert _problem(r, 422) == [(3, "product"), (4, "parameter")]
    assert _scope(db, qid) == before

    institutions = (INST_HEADER
                    + f"上海乙检测,{credit_code(2)},徐汇区,{'路' * 301},,,\n"
                    + f"上海丙\x00检测,{credit_code(3)},徐汇区,,,,\n"
                    + f"上海丁检测,{credit_code(4)},徐汇区,,cma,{'1' * 51},2030-01-01\n")
    r = client.post("/api/registry/institutions/import", headers={"X-CSRF-Token": csrf},
                    files={"file": ("i.csv", institutions.encode())})
    assert _problem(r, 422) == [(2, "address"), (3, "name_zh"), (4, "qualification_number")]
    wb = Workbook()
    ws = wb.active
    ws.append(["name_zh", "credit_code", "district", "address"])
    ws.append(["上海戊检测", credit_code(5), "minhang", "路" * 301])
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post("/api/registry/institutions/import", headers={"X-CSRF-Token": csrf},
                    files={"file": ("i.xlsx", buf.getvalue())})
    assert _problem(r, 422) == [(2, "address")]
    assert _count(db, Institution) == 1


# --- 6. the safety net ------------------------------------------------------------------------

def test_unexpected_errors_are_problems_without_internals(app, caplog) -> None:  # type: ignore[no-untyped-def]
    def boom() -> None:
        raise RuntimeError("secret-password-in-a-message")

    def clash() -> None:  # a unique constraint no use case checked first
        with app.state.sessionmaker() as s:
            s.add_all([User(email="twice@example.com", display_name="", password_hash="x")
                       for _ in range(2)])
            s.commit()

    app.add_api_route("/api/test-boom", boom)
    app.add_api_route("/api/test-clash", clash)
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        r = client.get("/api/test-boom")
        assert _problem(r, 500) == []
        assert r.json()["title"] == "Internal error"
        assert "secret" not in r.text and "Traceback" not in r.text
        assert "secret-password-in-a-message" in caplog.text  # logged for the operator
        app.add_api_route("/test-boom", boom)  # a page: browsers get the error page
        page = client.get("/test-boom", headers={"accept": "text/html"})
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        r = client.get("/api/test-clash")
        assert _problem(r, 409) == []
        assert r.json()["title"] == "Conflict" and "users" in r.json()["detail"]
        assert "twice@example.com" not in r.text  # the constraint, never the values


def test_the_cli_reports_database_and_file_errors_in_one_line(tichub, db, monkeypatch,  # type: ignore[no-untyped-def]
                                                              tmp_path) -> None:
    faulty = tmp_path / "faulty.csv"
    faulty.write_text(INST_HEADER + "甲,,火星区,,,,\n乙,,火星区,,,,\n", encoding="utf-8")
    line = _one_error(tichub("registry", "import-institutions", str(faulty),
                             "--report", str(tmp_path / "no" / "such" / "dir.csv")))
    assert "row 2" in line and "could not write" in line
    monkeypatch.setenv("TICHUB_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    get_settings.cache_clear()
    assert "no such table" in _one_error(tichub("token", "revoke", "NOSUCH"))
    monkeypatch.setenv("TICHUB_DATABASE_URL", f"sqlite:///{faulty}/x.db")  # under a file
    get_settings.cache_clear()
    assert "faulty.csv" in _one_error(tichub("token", "revoke", "NOSUCH"))


# --- 7. numbers out of range and malformed JSON -----------------------------------------------

INT64_OVER = 2**63  # one past a BIGINT: OverflowError on SQLite, out of range on PostgreSQL


def test_integers_beyond_what_the_database_holds_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    csrf = sign_in(client, "lab@example.com")
    h = {"X-CSRF-Token": csrf}
    for url, field in [
        (f"/api/registry/institutions/{inst}/scope?page={INT64_OVER - 1}", "page"),
        (f"/api/orgs/{acc.org.id}/members?page={INT64_OVER}", "page"),
        (f"/api/orgs/{acc.org.id}/tokens?page={INT64_OVER}", "page"),
        (f"/api/orgs/{acc.org.id}/audit?page={INT64_OVER}", "page"),
        (f"/api/orders?org_id={acc.org.id}&page={INT64_OVER}", "page"),
        (f"/institutions?page={INT64_OVER}", "page"),
        (f"/institutions/{inst}?page={INT64_OVER}", "page"),
        (f"/market/orders?page={INT64_OVER}", "page"),
        (f"/api/reports/log/checkpoints?since={INT64_OVER}", "since"),
        (f"/api/reports/log/checkpoints/{INT64_OVER}", "size"),
        (f"/api/reports/log/consistency?old=0&new={INT64_OVER}", "new"),
    ]:
        assert _problem(client.get(url, headers=h), 422) == [(None, field)], url
    r = client.post("/api/reports/log/cosignatures", headers=h,
                    json={"size": INT64_OVER, "cosignature": "— w.example AAAA"})
    assert _problem(r, 422) == [(None, "size")]
    # The largest page is still a page (empty); a size the log never had is not found.
    r = client.get(f"/api/orgs/{acc.org.id}/members?page=1000000", headers=h)
    assert r.status_code == 200 and r.json()["items"] == []
    assert _problem(client.get("/api/reports/log/checkpoints/9007199254740991"), 404) == []
    assert client.get("/api/reports/log/checkpoints?since=9007199254740991").json() == {
        "sizes": []}


def test_malformed_json_names_the_body_with_line_and_column(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "admin@example.com")
    csrf = sign_in(client, "admin@example.com")
    r = client.post(f"/api/orgs/{acc.org.id}/tokens", content='{"name": "ci",\n "scopes": }',
                    headers={"X-CSRF-Token": csrf, "content-type": "application/json"})
    assert _problem(r, 422) == [(None, "body")]
    assert r.json()["errors"][0]["message"] == \
        "malformed JSON at line 2, column 12: Expecting value"


def test_numbers_typed_in_page_forms_are_checked(client, db) -> None:  # type: ignore[no-untyped-def]
    from tichub.market import orders
    from tichub.market.models import Order, OrderStatus
    from tichub.market.schemas import ListingIn, OrderIn

    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1)
    firm = make_account(db, "firm@example.com", kind=OrgKind.enterprise)
    make_account(db, "ops@example.com", kind=OrgKind.operator)
    listing = orders.add_listing(db, lab.principal(db), ListingIn(
        org_id=lab.org.id, institution_id=inst, title="电气强度", standards=["GB 1-2000"],
        price_fen=100_000, accredited=False))
    order = orders.order_listing(db, firm.principal(db), listing.id, OrderIn(
        org_id=firm.org.id, product="适配器"))
    order.status = OrderStatus.completed
    db.commit()

    def form(who: str, url: str, **data: str) -> Any:
        csrf = sign_in(client, who)
        return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)

    # Words, digits int() refuses ("²"), more digits than int() reads, and past a BIGINT.
    for typed in ("five", "²", "9" * 5000, str(2**63)):
        r = form("firm@example.com", f"/market/orders/{order.id}/actions",
                 action="rate", rating=typed)
        assert r.status_code == 422, typed
        r = form("firm@example.com", "/market/requests", org_id=firm.org.id, product="样品",
                 standards="GB 1-2000", quantity=typed)
        assert r.status_code == 422, typed
        r = form("ops@example.com", "/market/vouchers/programme", org_id="x", code="P-1",
                 name="创新券", budget="100", max_share_pct=typed,
                 valid_from="2026-01-01", valid_until="2030-12-31")
        assert r.status_code == 422, typed
    db.expire_all()
    assert db.get(Order, order.id).rating is None
