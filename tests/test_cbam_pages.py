"""CBAM pages: signed-in pages in Chinese and English, installations created through the
form (the Commission's cement and screws-and-nuts examples, as in tests/test_cbam.py),
their results with the published figures, exports, and a communication read back."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from helpers import make_account, sign_in
from tichub.carbon.models import CbamInstallation
from tichub.core.models import OrgKind

CEMENT_AL = 1_255_000 / 0.95


def cement_form(org_id: str) -> dict[str, str]:
    """The cement example as typed into the form (thousands separators included)."""
    streams = [("Raw meal for clinker", "process", "1,255,000", "", "0.525", ""),
               ("Coal", "combustion", "88000", "25", "95", ""),
               ("Household waste", "combustion", "25000", "20", "83", "0.15"),
               ("Heavy fuel oil", "combustion", "43000", "40", "78", "")]
    form = {"org_id": org_id, "name": "示例水泥厂", "name_en": "Example cement works",
            "country": "CN", "unlocode": "CNSHA", "period_start": "2025-01-01",
            "period_end": "2025-12-31", "processes-0-key": "P1",
            "processes-0-name": "Cement Bubble", "processes-0-cn": "2523 29 00",
            "processes-0-activity_level": repr(CEMENT_AL),
            "processes-0-electricity_mwh": repr(CEMENT_AL * 0.14675),
            "processes-0-electricity_ef": "0.833"}
    for i, (name, method, activity, ncv, ef, biomass) in enumerate(streams):
        form |= {f"streams-{i}-name": name, f"streams-{i}-method": method,
                 f"streams-{i}-activity": activity, f"streams-{i}-unit": "t",
                 f"streams-{i}-ncv": ncv, f"streams-{i}-ef": ef,
                 f"streams-{i}-biomass": biomass}
    # An unused row, as the form always offers one: ignored.
    form |= {"streams-4-name": "", "streams-4-method": "combustion", "streams-4-unit": "t"}
    return form


def screws_form(org_id: str) -> dict[str, str]:
    form = {"org_id": org_id, "name": "Example screws and nuts", "country": "CN",
            "period_start": "2023-01-01", "period_end": "2023-12-31",
            "streams-0-name": "Natural gas", "streams-0-method": "combustion",
            "streams-0-activity": "1837.5", "streams-0-ncv": "48", "streams-0-ef": "56.1"}
    for i, (key, name, cn, country, see, mwh, ef) in enumerate([
            ("PP1", "Carbon steel", "7208", "CN", "1.539", "0.3455925",
             "0.5902905879033833"),
            ("PP2", "High alloy steel", "7219", "US", "1.44", "2.0786092594604715",
             "0.833249439314805")]):
        form |= {f"precursors-{i}-key": key, f"precursors-{i}-name": name,
                 f"precursors-{i}-cn": cn, f"precursors-{i}-country": country,
                 f"precursors-{i}-see_direct": see, f"precursors-{i}-electricity_mwh_per_t": mwh,
                 f"precursors-{i}-electricity_ef": ef, f"precursors-{i}-default": "no"}
    for i, (key, name, cn, al, direct, mwh, uses) in enumerate([
            ("P1", "Carbon steel screws and nuts", "7318 15 42", "17000", "3337.95", "3400",
             "PP1=20000"),
            ("P2", "High alloy steel screws and nuts", "7318 15 35", "8200", "1610.07",
             "1640", "PP2: 10 000")]):
        form |= {f"processes-{i}-key": key, f"processes-{i}-name": name,
                 f"processes-{i}-cn": cn, f"processes-{i}-activity_level": al,
                 f"processes-{i}-direct": direct, f"processes-{i}-electricity_mwh": mwh,
                 f"processes-{i}-electricity_ef": "0.833", f"processes-{i}-uses": uses}
    form |= {"carbon_prices-0-cn": "7318 15 42", "carbon_prices-0-instrument": "carbon tax",
             "carbon_prices-0-legal_reference": "Example Act art. 3",
             "carbon_prices-0-currency": "CNY", "carbon_prices-0-price_per_t": "80",
             "carbon_prices-0-covered_t_per_t": "0.2", "carbon_prices-0-fx_to_eur": "0.128"}
    return form


@pytest.fixture
def firm(client, db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "operator@steel.cn", kind=OrgKind.enterprise)
    return acc, sign_in(client, acc.user.email)


def post(client: TestClient, url: str, csrf: str, data: dict[str, str], **kw: Any):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False, **kw)


def test_the_pages_in_chinese_and_english(client, db, firm) -> None:  # type: ignore[no-untyped-def]
    home = client.get("/carbon/cbam")
    assert home.status_code == 200 and '<html lang="zh-CN">' in home.text
    assert "出口欧盟货物的隐含排放" in home.text and "尚无装置" in home.text
    english = client.get("/carbon/cbam?lang=en")
    assert "CBAM: embedded emissions of goods exported to the EU" in english.text
    assert "No installation yet." in english.text
    form = client.get("/carbon/cbam/new")
    assert form.status_code == 200 and "Production processes and their goods" in form.text
    assert "生产过程及其货物" in client.get("/carbon/cbam/new?lang=zh").text
    upload = client.get("/carbon/cbam/communications")
    assert upload.status_code == 200 and "读取排放数据通报文件" in upload.text


def test_default_values_are_looked_up_without_signing_in(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/carbon/cbam", params={"cn": "7207 11 14", "country": "CN",
                                              "year": 2028})
    assert page.status_code == 200
    table = page.text[page.text.index('data-testid="default-values"'):]
    # 2025/2621 Annex I, China: 3.169, 2028 with its mark-up 4.119 as printed
    assert "3.169" in table and "4.119" in table and "+30 %" in table
    part = client.get("/carbon/cbam/defaults", params={"cn": "7208 51 20", "country": "VN"})
    assert part.status_code == 200 and "<html" not in part.text
    assert "no default value for CN 7208 51 20 from VN" in part.text


def test_an_installation_through_the_form_and_its_results(client, db, firm) -> None:  # type: ignore[no-untyped-def]
    acc, csrf = firm
    # "Add a row" gives the form back one process longer, saving nothing.
    more = post(client, "/carbon/cbam/installations", csrf,
                {**cement_form(acc.org.id), "add": "processes"})
    assert more.status_code == 200 and 'name="processes-1-key"' in more.text
    assert 'value="Heavy fuel oil"' in more.text
    assert db.scalar(select(func.count()).select_from(CbamInstallation)) == 0

    r = post(client, "/carbon/cbam/installations", csrf, cement_form(acc.org.id))
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = client.get(url)
    assert page.status_code == 200
    row = page.text[page.text.index('data-testid="good-P1"'):]
    row = row[:row.index("</tr>")]
    # Summary_Products of the Commission's cement workbook: 0.78521…, 0.12224…, 0.90746…
    for figure in ("0.7852", "0.1222", "0.9075"):
        assert figure in row, figure
    assert re.search(r"0\.146[78]", row)  # 0.14675 MWh/t: a tie at four places
    # China's grey Portland cement, 1.420, with 2026's mark-up 1.562 (2025/2621 Annex I)
    assert "1.420" in row and "1.562" in row and "+10 %" in row
    assert "1,037,310.00 t CO2e" in page.text  # the source streams, B_EmInst
    assert "过渡期" in page.text
    chart = json.loads(html.unescape(re.search(r'data-testid="cbam-chart" data-chart="([^"]*)"',
                                               page.text).group(1)))  # type: ignore[union-attr]
    assert chart["actual"] == [0.9075] and chart["default"] == [1.562]
    later = client.get(url, params={"year": 2027, "lang": "en"}).text
    assert "1.704" in later and "+20 %" in later and "Specific embedded emissions" in later

    # The edit form shows the stored values with every digit, so saving it again changes
    # nothing.
    edit = client.get(f"{url}/edit")
    assert f'value="{CEMENT_AL!r}"' in edit.text
    assert f'value="{CEMENT_AL * 0.14675!r}"' in edit.text

    # Exports of the results table.
    rows = list(csv.DictReader(io.StringIO(client.get(f"{url}/results.csv").text
                                           .lstrip("\ufeff"))))
    assert float(rows[0]["see_direct"]) == pytest.approx(0.7852147410358565, rel=1e-12)
    assert float(rows[0]["default_with_markup"]) == 1.562
    wb = load_workbook(io.BytesIO(client.get(f"{url}/results.xlsx?year=2028").content))
    sheet = wb.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["default_with_markup"] == 1.846 and values["year"] == 2028


def test_precursors_carbon_prices_and_a_communication_read_back(client, db, firm) -> None:  # type: ignore[no-untyped-def]
    acc, csrf = firm
    bad = screws_form(acc.org.id) | {"processes-0-uses": "PP9=1"}
    r = post(client, "/carbon/cbam/installations", csrf, bad)
    assert r.status_code == 422
    # The fault is named as the form names it, not by its path, in the reader's language.
    assert "processes.0.uses.0.source" not in r.text
    assert "生产过程及其货物第 1 行" in r.text and "没有代码为 PP9 的过程或前体" in r.text
    assert re.search(r'name="processes-0-uses" value="PP9=1"[^>]*aria-invalid="true"', r.text)
    assert db.scalar(select(func.count()).select_from(CbamInstallation)) == 0

    r = post(client, "/carbon/cbam/installations", csrf, screws_form(acc.org.id))
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = client.get(url).text
    carbon = page[page.index('data-testid="good-P1"'):]
    carbon = carbon[:carbon.index("</tr>")]
    # Summary_Products rows 10 and 11 of the screws-and-nuts workbook
    for figure in ("2.0069", "0.4066", "2.4135", "0.6066", "2.0480"):  # 80 × 0.2 × 0.128
        assert figure in carbon, figure
    alloy = page[page.index('data-testid="good-P2"'):]
    assert all(f in alloy[:alloy.index("</tr>")] for f in ("1.9524", "2.2788", "4.2312"))
    assert "默认值表中没有来自 CN 的 CN 7318 15 42 的数值" in page

    # The communication, downloaded with the session, is read back on the upload page.
    installation_id = url.rsplit("/", 1)[1]
    xlsx = client.get(f"/api/carbon/cbam/installations/{installation_id}/communication.xlsx")
    assert xlsx.status_code == 200
    shown = client.post("/carbon/cbam/communications", data={"csrf_token": csrf,
                                                             "year": "2026"},
                        files={"file": ("supplier.xlsx", xlsx.content)})
    assert shown.status_code == 200
    goods = shown.text[shown.text.index('data-testid="communication-goods"'):]
    assert "7318 15 42" in goods and "2.0069" in goods and "4.2312" in goods
    assert goods.count('data-testid="checks-ok"') == 2
    refused = client.post("/carbon/cbam/communications", data={"csrf_token": csrf},
                          files={"file": ("notes.xlsx", b"plain text")})
    assert refused.status_code == 422 and "not a readable Excel workbook" in refused.text


def test_a_json_document_can_be_uploaded_instead(client, db, firm) -> None:  # type: ignore[no-untyped-def]
    acc, csrf = firm
    doc = {"name": "JSON works", "country": "CN", "period_start": "2026-01-01",
           "period_end": "2026-12-31", "processes": [
               {"key": "P1", "name": "Clinker", "cn": "2523 10 00", "route": "B",
                "activity_level": 1000, "direct": 850, "electricity_mwh": 50,
                "electricity_ef": 0.6}]}
    r = post(client, "/carbon/cbam/installations", csrf, {"org_id": acc.org.id},
             files={"document": ("doc.json", json.dumps(doc).encode(), "application/json")})
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    row = page[page.index('data-testid="good-P1"'):]
    row = row[:row.index("</tr>")]
    # 850/1000 direct, 50 × 0.6 / 1000 indirect; route B picks white clinker (1.300, 1.430)
    assert "0.8500" in row and "0.0300" in row and "1.430" in row
    broken = post(client, "/carbon/cbam/installations", csrf, {"org_id": acc.org.id},
                  files={"document": ("doc.json", b"{not json", "application/json")})
    assert broken.status_code == 422 and "不是 JSON 文档" in broken.text


def test_another_company_cannot_see_or_change_the_installation(app, db, client, firm) -> None:  # type: ignore[no-untyped-def]
    acc, csrf = firm
    url = post(client, "/carbon/cbam/installations", csrf,
               cement_form(acc.org.id)).headers["location"]
    make_account(db, "rival@steel.cn", kind=OrgKind.enterprise)
    with TestClient(app) as rival:
        rival_csrf = sign_in(rival, "rival@steel.cn")
        for path in (url, f"{url}/edit", f"{url}/results.csv"):
            r = rival.get(path)
            assert r.status_code == 404 and "示例水泥厂" not in r.text, path
        r = post(rival, url, rival_csrf, cement_form(acc.org.id) | {"name": "篡改"})
        assert r.status_code == 404
        assert "示例水泥厂" not in rival.get("/carbon/cbam").text
    db.expire_all()
    assert db.scalar(select(CbamInstallation.name)) == "示例水泥厂"
