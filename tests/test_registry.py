"""The directory: institutions, validation, search and its ranking, export."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select

from helpers import credit_code, make_account, make_institution, sign_in
from tichub.core import ids
from tichub.core.models import OrgKind
from tichub.registry import models, search
from tichub.registry import service as registry
from tichub.registry.models import Institution, QualificationKind, QualificationStatus
from tichub.registry.schemas import QualificationIn, ScopeLineIn

BATTERY = ("GB 31241-2022", "便携式电子产品用锂离子电池和电池组", "过充电保护")


def _count(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(Institution))


def test_invalid_credit_code_and_unknown_district_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="已有实验室", serial=1)
    before = _count(db)
    csrf = sign_in(client, "lab@example.com")
    good = credit_code(2)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = client.post(f"/api/registry/orgs/{acc.org.id}/institutions",
                    headers={"X-CSRF-Token": csrf},
                    json={"name_zh": "新实验室", "credit_code": bad, "district": "atlantis"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "check character" in fields["credit_code"]
    assert "atlantis" in fields["district"]
    assert _count(db) == before

    r = client.post(f"/api/registry/orgs/{acc.org.id}/institutions",
                    headers={"X-CSRF-Token": csrf},
                    json={"name_zh": "新实验室", "credit_code": good, "district": "浦东新区"})
    assert r.status_code == 201, r.text
    assert r.json()["district"] == "pudong"
    assert _count(db) == before + 1


def test_a_duplicate_credit_code_is_a_conflict(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="甲", serial=7)
    csrf = sign_in(client, "lab@example.com")
    r = client.post(f"/api/registry/orgs/{acc.org.id}/institutions",
                    headers={"X-CSRF-Token": csrf},
                    json={"name_zh": "乙", "credit_code": credit_code(7), "district": "xuhui"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "credit_code"


def _ranked_world(db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    a, _ = make_institution(db, acc, name="甲检测", serial=1, district="jiading",
                            scope=[BATTERY])
    b, _ = make_institution(db, acc, name="乙检测", serial=2, district="pudong",
                            scope=[("GB 31241-2014", BATTERY[1], BATTERY[2])])
    c, _ = make_institution(db, acc, name="丙检测", serial=3, district="pudong", scope=[BATTERY],
                            valid_until=date(2020, 1, 1))
    d, _ = make_institution(db, acc, name="丁检测", serial=4, district="minhang",
                            scope=[("GB 4943.1-2022", "信息技术设备", "电气强度")],
                            qual_kind=QualificationKind.cma, number="230912345678")
    return a, b, c, d


def _ids(client, **params) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get("/api/registry/search", params=params)
    assert r.status_code == 200, r.text
    return [h["institution"]["id"] for h in r.json()["items"]]


def test_exact_standard_first_then_valid_before_expired(client, db) -> None:  # type: ignore[no-untyped-def]
    a, b, c, _ = _ranked_world(db)
    assert _ids(client, q="GB 31241-2022") == [a, c, b]
    # Without a year every edition matches exactly; the valid ones come first.
    ranked = _ids(client, q="gb31241")
    assert set(ranked[:2]) == {a, b} and ranked[2] == c


def _add_qualification(db, acc, inst: str, kind: QualificationKind, number: str,  # type: ignore[no-untyped-def]
                       scope: list[tuple[str, str, str]]) -> None:
    p = acc.principal(db)
    q = registry.add_qualification(db, p, inst, QualificationIn(
        kind=kind, number=number, valid_until=date(2030, 1, 1)))
    registry.replace_scope(db, p, q.id, [ScopeLineIn(standard=s, product=prod, parameter=par)
                                         for s, prod, par in scope])


def test_valid_before_expired_holds_within_the_best_tier(client, db) -> None:  # type: ignore[no-untyped-def]
    """A has the exact edition only under an expired CNAS (B under a valid CMA); A's valid
    CMA covers the 2014 edition only, which must not make its exact match count as valid."""
    acc = make_account(db, "lab@example.com")
    older = ("GB 31241-2014", BATTERY[1], BATTERY[2])
    a, _ = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY, BATTERY],
                            status=QualificationStatus.expired)
    _add_qualification(db, acc, a, QualificationKind.cma, "230912345671", [older])
    # The same, with the CNAS lapsed by its date rather than marked expired.
    a2, _ = make_institution(db, acc, name="丙检测", serial=3, scope=[BATTERY, BATTERY],
                             valid_until=date(2021, 6, 30))
    _add_qualification(db, acc, a2, QualificationKind.cma, "230912345673", [older])
    b, _ = make_institution(db, acc, name="乙检测", serial=2, scope=[BATTERY],
                            qual_kind=QualificationKind.cma, number="230912345672")
    r = client.get("/api/registry/search", params={"q": "GB 31241-2022"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [h["institution"]["id"] for h in items] == [b, a, a2]
    assert [(h["match"]["tier"], h["match"]["valid"]) for h in items] == [
        (3, True), (3, False), (3, False)]


def test_the_ways_of_writing_a_standard_find_the_same(client, db) -> None:  # type: ignore[no-untyped-def]
    _, _, _, d = _ranked_world(db)
    for spelling in ("GB4943.1—2022", "GB 4943.1-2022", "gb 4943.1", "ＧＢ　4943.1－2022"):
        assert _ids(client, standard=spelling) == [d], spelling
    # A whole standard finds its parts.
    assert _ids(client, q="GB 4943") == [d]


def test_chinese_and_english_text(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    zh, _ = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY])
    en, _ = make_institution(db, acc, name="Alpha Lab", serial=2, scope=[
        ("IEC 62133-2:2017", "Secondary lithium cells and batteries", "Overcharge")])
    assert _ids(client, q="锂离子电池") == [zh]
    assert _ids(client, q="lithium battery") == [en]  # stems: batteries → battery
    assert _ids(client, product="电池组", parameter="过充电") == [zh]
    assert _ids(client, parameter="电池组") == []  # a product word is not a parameter
    assert _ids(client, q="Alpha") == [en]


def test_filters_and_facets(client, db) -> None:  # type: ignore[no-untyped-def]
    a, b, c, d = _ranked_world(db)
    body = client.get("/api/registry/search", params={"q": "gb 31241"}).json()
    assert body["total"] == 3
    assert body["facets"]["district"] == {"pudong": 2, "jiading": 1}
    assert _ids(client, q="gb 31241", district="pudong") == [b, c]
    assert body["facets"]["status"] == {"valid": 2, "expired": 1}
    assert body["facets"]["qualification_kind"] == {"cnas": 3}
    assert _ids(client, q="gb 31241", status="expired") == [c]
    assert _ids(client, kind="cma") == [d]
    assert set(_ids(client)) == {a, b, c, d}
    r = client.get("/api/registry/search", params={"district": "gotham"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "district"


def test_each_facet_counts_with_the_other_filters_only(client, db) -> None:  # type: ignore[no-untyped-def]
    _ranked_world(db)
    body = client.get("/api/registry/search",
                      params={"q": "gb 31241", "district": "pudong"}).json()
    assert body["total"] == 2
    # Ticking Pudong still shows what Jiading would add; the ticked districts sum to the total.
    assert body["facets"]["district"] == {"pudong": 2, "jiading": 1}
    assert body["facets"]["qualification_kind"] == {"cnas": 2}
    assert body["facets"]["status"] == {"valid": 1, "expired": 1}
    both = client.get("/api/registry/search", params=[
        ("q", "gb 31241"), ("district", "pudong"), ("district", "jiading"), ("status", "valid"),
    ]).json()
    assert both["total"] == 2
    assert both["facets"]["district"] == {"pudong": 1, "jiading": 1}
    assert both["facets"]["status"] == {"valid": 2, "expired": 1}
    assert sum(both["facets"]["district"].values()) == both["total"]


def test_a_query_of_stop_words_or_punctuation_finds_nothing(client, db) -> None:  # type: ignore[no-untyped-def]
    _ranked_world(db)
    for q in ("的", "!!!", "的 ， 。"):
        body = client.get("/api/registry/search", params={"q": q}).json()
        assert body["total"] == 0 and body["items"] == [], q
        assert body["interpreted"]["words"] == [] and body["interpreted"]["no_searchable_words"]
    body = client.get("/api/registry/search", params={"product": "的"}).json()
    assert body["total"] == 0 and body["interpreted"]["no_searchable_words"]
    # Browsing (no text at all) still lists everyone; a stop-word beside a word is dropped.
    body = client.get("/api/registry/search").json()
    assert body["total"] == 4 and not body["interpreted"]["no_searchable_words"]
    body = client.get("/api/registry/search", params={"q": "锂离子电池", "product": "的"}).json()
    assert body["total"] == 3 and not body["interpreted"]["no_searchable_words"]
    assert _ids(client, q="锂离子电池", product="的") == _ids(client, q="锂离子电池")


def test_search_decides_validity_on_the_day_the_models_use(client, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _ranked_world(db)
    assert search.today is ids.today  # one "today" (UTC) for search and displayed status
    later = date(2031, 1, 1)  # every qualification has lapsed by then
    monkeypatch.setattr(search, "today", lambda: later)
    monkeypatch.setattr(models, "today", lambda: later)
    body = client.get("/api/registry/search", params={"q": "gb 31241"}).json()
    assert body["facets"]["status"] == {"expired": 3}
    for hit in body["items"]:
        assert not hit["match"]["valid"]
        assert [q["status"] for q in hit["institution"]["qualifications"]] == ["expired"]


def test_csv_export(client, db) -> None:  # type: ignore[no-untyped-def]
    _ranked_world(db)
    r = client.get("/api/registry/search.csv", params={"q": "GB 31241-2022"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["name_zh", "name_en", "credit_code"]
    assert [row[0] for row in rows[1:]] == ["甲检测", "丙检测", "乙检测"]
    assert rows[2][9] == "no"  # 丙's match is under an expired accreditation


def test_revenue_tier_is_private(client, db) -> None:  # type: ignore[no-untyped-def]
    owner = make_account(db, "lab@example.com")
    make_account(db, "other@example.com")
    make_account(db, "reg@example.com", kind=OrgKind.regulator)
    inst, _ = make_institution(db, owner, name="甲", serial=1, revenue_tier="100m_to_1b")
    url = f"/api/registry/institutions/{inst}"
    assert client.get(url).json()["revenue_tier"] is None
    for email, expected in (("other@example.com", None), ("lab@example.com", "100m_to_1b"),
                            ("reg@example.com", "100m_to_1b")):
        client.cookies.clear()
        sign_in(client, email)
        assert client.get(url).json()["revenue_tier"] == expected, email


def test_scope_is_paginated_and_filtered(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    lines = [("GB 31241-2022", "锂离子电池", f"参数{i}") for i in range(30)]
    lines.append(("GB 4943.1-2022", "信息技术设备", "电气强度"))
    inst, _ = make_institution(db, acc, name="甲", serial=1, scope=lines)
    page = client.get(f"/api/registry/institutions/{inst}/scope?per_page=10&page=2").json()
    assert page["total"] == 31 and len(page["items"]) == 10
    assert page["items"][0]["line_no"] == 11
    only = client.get(f"/api/registry/institutions/{inst}/scope",
                      params={"standard": "GB4943.1"}).json()
    assert only["total"] == 1 and only["items"][0]["standard"] == "GB 4943.1-2022"


def test_effective_status_expires_lapsed_accreditation(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲", serial=1, valid_until=date(2021, 6, 30),
                               status=QualificationStatus.valid)
    quals = client.get(f"/api/registry/institutions/{inst}").json()["qualifications"]
    assert quals[0]["status"] == "expired"
