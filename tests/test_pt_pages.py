"""PT pages: a round run through the forms, the round report in HTML and PDF, zh and en."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from helpers import make_account, make_institution, sign_in
from tichub.pt import pdfs, service
from tichub.pt.schemas import ResultIn

# Paired items for a Youden plot: lab i reports A and B with its own bias.
BIAS = [0.0, 0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15, 0.3, -0.3, 1.5]


def form(client: TestClient, url: str, csrf: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)


def refused(client: TestClient, url: str, csrf: str, **data: str):  # type: ignore[no-untyped-def]
    """A form sent as app.js sends it: a refusal comes back as problem+json in the page's
    language, for the page to show beside the fields."""
    r = client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False,
                    headers={"X-TICHub-Form": "1"})
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r


def fetch_pdf(client: TestClient, url: str):  # type: ignore[no-untyped-def]
    """The report PDF as a browser gets it: a progress page (202) first, then the file."""
    first = client.get(url)
    assert first.status_code == 202 and 'data-testid="pdf-progress"' in first.text
    pdfs.wait()
    pdf = client.get(url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    return pdf


def test_a_round_through_the_pages(app, db) -> None:  # type: ignore[no-untyped-def]
    provider = make_account(db, "pt@provider.cn")
    inst, _ = make_institution(db, provider, name="能力验证中心", serial=901)
    labs = [make_account(db, f"lab{i}@example.cn") for i in range(len(BIAS))]
    with TestClient(app) as p_client:
        csrf = sign_in(p_client, "pt@provider.cn")
        r = form(p_client, "/pt/schemes", csrf, org_id=provider.org.id, code="METALS",
                 name_zh="食品中重金属", name_en="Metals in food", institution_id=inst,
                 measurands="铅 lead, mg/kg, 1e-6\n镉 cadmium, µg/kg, 1e-9")
        assert r.status_code == 303, r.text
        scheme_url = r.headers["location"]
        page = p_client.get(scheme_url)
        assert "铅 lead" in page.text and "食品中重金属" in page.text
        scheme = service.get_scheme(db, scheme_url.rsplit("/", 1)[1])
        lead, cadmium = scheme.measurands
        deadline = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
        r = form(p_client, f"{scheme_url}/rounds", csrf, code="2026-A", items="A, B",
                 deadline=deadline, score="z",
                 **{f"sigma_kind_{lead.id}": "horwitz",
                    f"sigma_kind_{cadmium.id}": "fixed", f"sigma_value_{cadmium.id}": "5"})
        assert r.status_code == 303, r.text
        round_url = r.headers["location"]
        round_id = round_url.rsplit("/", 1)[1]
        # the items' checks: homogeneity from a sheet, stability from typed values
        replicates = "item,value\n" + "".join(f"H{i},{0.5 + 0.01 * (i % 2)}\nH{i},0.505\n"
                                               for i in range(8))
        r = p_client.post(f"{round_url}/homogeneity", data={
            "csrf_token": csrf, "measurand": "铅 lead", "sigma_pt": "0.1"},
            files={"file": ("h.csv", replicates.encode())}, follow_redirects=False)
        assert r.status_code == 303, r.text
        r = form(p_client, f"{round_url}/stability", csrf, measurand="镉 cadmium",
                 before="40 40.2 39.9", after="40.1, 40.3, 39.8")  # σ_pt 5, fixed
        assert r.status_code == 303, r.text
        r = refused(p_client, f"{round_url}/stability", csrf, measurand="镉 cadmium",
                    before="40 x", after="40")
        assert r.status_code == 422
        assert r.json()["errors"] == [{"field": "before", "row": None, "label": "分发前的测量结果",
                                       "message": "“x”不是数字"}]
        checks = p_client.get(round_url).text
        assert checks.count("通过") >= 2
        for lab in labs:
            assert form(p_client, f"{round_url}/invite", csrf,
                        org_id=lab.org.id).status_code == 303
        # opening with nobody accepted is refused on the page, nothing changes
        r = refused(p_client, f"{round_url}/open", csrf)
        assert r.status_code == 409 and r.json()["errors"][0]["message"] == "尚无参加者接受邀请"
        # without JavaScript, the error page says it
        page = form(p_client, f"{round_url}/open", csrf)
        assert page.status_code == 409 and "no participant has accepted" in page.text

    for i, lab in enumerate(labs):
        with TestClient(app) as l_client:
            csrf = sign_in(l_client, lab.user.email)
            page = l_client.get(round_url)
            part = re.search(r'action="/pt/participants/(\w+)/answer"', page.text)
            assert part, page.text
            assert form(l_client, f"/pt/participants/{part.group(1)}/answer", csrf,
                        accept="yes", round_id=round_id).status_code == 303
            if i == 0:
                continue
            if i == 1:  # before opening, results are refused with the reason
                service.transition(db, provider.principal(db), round_id, "open")
            settings = {s.measurand.name: s.id for s in service.get_round(db, round_id).settings}
            data = {"org_id": lab.org.id}
            for item, extra in (("A", 0.0), ("B", 0.2)):
                data[f"value_{settings['铅 lead']}_{item}"] = str(0.5 + extra + BIAS[i] / 5)
                data[f"value_{settings['镉 cadmium']}_{item}"] = str(40 + extra + BIAS[i] * 4)
                data[f"unit_{settings['镉 cadmium']}_{item}"] = "µg/kg"
            if i == 2:  # typing slips: each refused beside its input, nothing stored
                lead_a, cd_b = f"{settings['铅 lead']}_A", f"{settings['镉 cadmium']}_B"
                slips = {**data, f"value_{lead_a}": "0,51", f"unit_{cd_b}": "kg"}
                r = refused(l_client, f"{round_url}/results", csrf, **slips)
                assert r.status_code == 422 and r.json()["title"] == "结果被拒绝"
                assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [
                    (f"value_{lead_a}", "“铅 lead”样品 A：“0,51”不是数字")]
                slips[f"value_{lead_a}"] = data[f"value_{lead_a}"]
                r = refused(l_client, f"{round_url}/results", csrf, **slips)
                assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [
                    (f"unit_{cd_b}", "“镉 cadmium”以 µg/kg 报告：“kg”无法换算为该单位")]
                assert not l_client.get(round_url).text.count('data-testid="own-results"')
            sent = form(l_client, f"{round_url}/results", csrf, **data)
            assert sent.status_code == 303
            assert "已提交 4 个结果" in l_client.get(sent.headers["location"]).text
            # the same again: refused beside the inputs, in the page's language
            again = refused(l_client, f"{round_url}/results", csrf, **data)
            assert again.status_code == 422
            first = again.json()["errors"][0]
            assert first["field"] == f"value_{settings['铅 lead']}_A"
            assert first["message"] == "“铅 lead”样品 A 的结果已提交过"
    # lab 0 uploads a sheet, in ng/g (= µg/kg) for cadmium
    service.submit_results(db, labs[0].principal(db), round_id, labs[0].org.id, [
        ResultIn(measurand="铅 lead", item="A", value=0.5),
        ResultIn(measurand="铅 lead", item="B", value=0.7),
        ResultIn(measurand="镉 cadmium", item="A", value=40, unit="ng/g"),
        ResultIn(measurand="镉 cadmium", item="B", value=40.2, unit="ng/g")])

    with TestClient(app) as p_client:
        csrf = sign_in(p_client, "pt@provider.cn")
        for step in ("close", "compute", "publish"):
            r = form(p_client, f"{round_url}/{step}", csrf)
            assert r.status_code == 303, (step, r.text)
        page = p_client.get(round_url)
        assert "METALS-2026-A-P" in page.text  # the participation certificates
        sheet = load_workbook(io.BytesIO(p_client.get(f"{round_url}/scores.xlsx").content))
        rows = list(sheet.active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert rows[0][:4] == ("measurand", "unit", "item", "code")
        assert len(rows) == 1 + 2 * 2 * len(BIAS)  # 2 measurands × 2 items × 12 labs
        assert {r[11] for r in rows[1:]} <= {"satisfactory", "questionable", "unsatisfactory"}

    with TestClient(app) as l_client:
        sign_in(l_client, labs[11].user.email)
        own = l_client.get(round_url)
        assert 'data-testid="own-results"' in own.text and "不满意" in own.text
        report = l_client.get(f"{round_url}/report")
        assert report.status_code == 200
        assert report.text.count('data-testid="section"') == 6  # 2 × 2 items + 2 Youden
        assert report.text.count("<svg") == 10 and "能力验证" in report.text
        assert report.text.count('data-testid="item-check"') == 2  # lead and cadmium
        # x_pt is the default consensus, Algorithm A: the report shows its steps
        assert report.text.count('data-testid="steps"') == 4

        code = re.search(r'class="own"><td>(P\d+)</td>', report.text)
        assert code, "the lab's own row is marked"
        english = l_client.get(f"{round_url}/report?lang=en")
        assert "Proficiency testing round report" in english.text
        assert "Metals in food" in english.text
        pdf = fetch_pdf(l_client, f"{round_url}/report.pdf?lang=zh")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "能力验证" in text and "METALS" in text and code.group(1) in text
        pdf_en = fetch_pdf(l_client, f"{round_url}/report.pdf?lang=en")
        assert "Proficiency testing round report" in "".join(
            p.extract_text() for p in PdfReader(io.BytesIO(pdf_en.content)).pages)
        history = l_client.get("/pt/history")
        assert 'data-testid="history-chart"' in history.text and "METALS/2026-A" in history.text

    # an outsider signed in sees neither the report nor the results
    make_account(db, "outsider@example.cn")
    with TestClient(app) as o_client:
        sign_in(o_client, "outsider@example.cn")
        assert o_client.get(f"{round_url}/report").status_code == 403
        assert o_client.get(f"{round_url}/report.pdf").status_code == 403
