"""Bulk import of institutions by the operator: row-by-row errors, all or nothing."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from helpers import credit_code, make_account, sign_in
from tichub.core.models import OrgKind
from tichub.registry.models import Institution, Qualification

HEADER = ("机构名称,英文名称,统一社会信用代码,所在区,地址,机构类型,专精特新,"
          "资质类型,资质编号,有效期至\n")


def _post(client, csrf: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post("/api/registry/institutions/import", headers={"X-CSRF-Token": csrf},
                       files={"file": (name, data, "application/octet-stream")})


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model))


def test_operator_imports_institutions_with_their_qualifications(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "op@example.com", kind=OrgKind.operator)
    csrf = sign_in(client, "op@example.com")
    body = (HEADER
            + f"上海甲检测,Jia Testing,{credit_code(1)},嘉定区,沪宜公路1号,检验检测机构,是,cma,"
              "230912345678,2030-01-01\n"
            + f"上海甲检测,,{credit_code(1)},嘉定区,,,,cnas,CNAS L0001,2029-06-30\n"
            + f"上海乙认证,,{credit_code(2)},pudong,,认证机构,否,cnas,CNAS C001,2031-01-01\n")
    r = _post(client, csrf, "institutions.csv", body.encode())
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 2
    jia = db.scalar(select(Institution).where(Institution.credit_code == credit_code(1)))
    assert jia.district == "jiading" and jia.specialised
    assert sorted(q.number for q in jia.qualifications) == ["230912345678", "CNAS L0001"]
    found = client.get("/api/registry/search", params={"q": "上海甲检测"}).json()
    assert [h["institution"]["id"] for h in found["items"]] == [jia.id]


def test_faulty_rows_are_named_and_nothing_is_imported(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "op@example.com", kind=OrgKind.operator)
    csrf = sign_in(client, "op@example.com")
    good = credit_code(3)
    bad_code = good[:-1] + ("0" if good[-1] != "0" else "1")
    body = (HEADER
            + f"上海丙检测,,{credit_code(4)},嘉定区,,,,cma,111,2030-01-01\n"  # fine on its own
            + f"上海丁检测,,{bad_code},嘉定区,,,,,,\n"                       # row 3
            + f"上海戊检测,,{credit_code(5)},火星区,,,,,,\n"                  # row 4
            + f"上海己检测,,{credit_code(6)},徐汇区,,,也许,cma,222,明年\n")   # row 5
    before = (_count(db, Institution), _count(db, Qualification))
    r = _post(client, csrf, "institutions.csv", body.encode())
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    errors = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert errors == {(3, "credit_code"), (4, "district"), (5, "specialised"),
                      (5, "valid_until")}
    assert (_count(db, Institution), _count(db, Qualification)) == before


def test_excel_works_too_and_duplicates_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "op@example.com", kind=OrgKind.operator)
    csrf = sign_in(client, "op@example.com")
    wb = Workbook()
    ws = wb.active
    ws.append(["name_zh", "credit_code", "district"])
    ws.append(["上海庚检测", credit_code(7), "minhang"])
    buf = io.BytesIO()
    wb.save(buf)
    assert _post(client, csrf, "i.xlsx", buf.getvalue()).status_code == 201
    again = _post(client, csrf, "i.xlsx", buf.getvalue())
    assert again.status_code == 422
    assert again.json()["errors"] == [{"field": "credit_code", "row": 2, "message":
                                       "an institution with this credit code is already "
                                       "registered"}]


def test_only_the_operator_may_import(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "lab@example.com")
    csrf = sign_in(client, "lab@example.com")
    body = HEADER + f"上海辛检测,,{credit_code(8)},嘉定区,,,,,,\n"
    assert _post(client, csrf, "i.csv", body.encode()).status_code == 403
    assert _count(db, Institution) == 0
