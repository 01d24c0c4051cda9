"""The round report PDF: made in the background behind a progress page, served from the
cache while the round is unchanged, made again when a result changes; readers asking at
once share one job."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import make_account, sign_in
from tichub.pt import pdfs, report, service
from tichub.pt.models import PtReportPdf
from tichub.pt.schemas import MeasurandIn, ResultIn, RoundIn, SchemeIn

VALUES = [10.1, 9.8, 10.3, 10.0, 9.6, 10.4]


@pytest.fixture
def open_round(db):  # type: ignore[no-untyped-def]
    """An open round (one measurand, item A) with results from all labs but the last."""
    provider = make_account(db, "pt@provider.cn")
    labs = [make_account(db, f"lab{i}@example.cn") for i in range(len(VALUES) + 1)]
    prov = provider.principal(db)
    scheme = service.create_scheme(db, prov, SchemeIn(
        org_id=provider.org.id, code="PDF-TEST", name_zh="水中硝酸盐", name_en="Nitrate",
        measurands=[MeasurandIn(name="硝酸盐", unit="mg/L")]))
    rnd = service.create_round(db, prov, scheme.id, RoundIn(
        code="2026-1", items=["A"], deadline=datetime.now(UTC) + timedelta(days=10)))
    for lab in labs:
        p = service.invite(db, prov, rnd.id, lab.org.id)
        service.answer(db, lab.principal(db), p.id, accept=True)
    service.transition(db, prov, rnd.id, "open")
    for lab, value in zip(labs, VALUES, strict=False):
        service.submit_results(db, lab.principal(db), rnd.id, lab.org.id,
                               [ResultIn(measurand="硝酸盐", value=value)])
    return provider, labs, rnd.id


@pytest.fixture
def renders(monkeypatch):  # type: ignore[no-untyped-def]
    """Counts the PDFs actually made (the background job calls ``report.pdf``)."""
    made: list[str] = []
    real = report.pdf

    def counting(locale, principal, content):  # type: ignore[no-untyped-def]
        made.append(locale)
        return real(locale, principal, content)

    monkeypatch.setattr(report, "pdf", counting)
    return made


def test_progress_page_then_the_cached_pdf_until_a_result_changes(
        app, db, open_round, renders) -> None:  # type: ignore[no-untyped-def]
    provider, labs, round_id = open_round
    url = f"/pt/rounds/{round_id}/report.pdf?lang=en"
    with TestClient(app) as client:
        sign_in(client, provider.user.email)
        waiting = client.get(url)
        assert waiting.status_code == 202
        assert 'data-testid="pdf-progress"' in waiting.text and "<progress" in waiting.text
        assert f'hx-get="/pt/rounds/{round_id}/report.pdf/progress?lang=en"' in waiting.text
        pdfs.wait()
        done = client.get(f"/pt/rounds/{round_id}/report.pdf/progress?lang=en")
        assert done.status_code == 200 and done.headers["HX-Redirect"] == url
        assert 'data-state="ready"' in done.text and "hx-get" not in done.text
        first = client.get(url)
        assert first.status_code == 200 and first.content.startswith(b"%PDF")
        assert renders == ["en"]
        # unchanged round: served from the cache, nothing made again
        again = client.get(url)
        assert again.status_code == 200 and again.content == first.content
        assert renders == ["en"]
        # the other language is its own PDF
        assert client.get(f"/pt/rounds/{round_id}/report.pdf?lang=zh").status_code == 202
        pdfs.wait()
        assert renders == ["en", "zh"]
        # a new result changes the report: the cached PDF is stale, made again
        last = labs[-1]
        service.submit_results(db, last.principal(db), round_id, last.org.id,
                               [ResultIn(measurand="硝酸盐", value=10.2)])
        stale = client.get(url)
        assert stale.status_code == 202
        pdfs.wait()
        fresh = client.get(url)
        assert fresh.status_code == 200 and fresh.content != first.content
        assert renders == ["en", "zh", "en"]
        rows = db.scalars(select(PtReportPdf).where(PtReportPdf.round_id == round_id)).all()
        assert sorted(r.locale for r in rows) == ["en", "zh"]


def test_readers_asking_at_once_share_one_job(app, db, open_round, renders) -> None:  # type: ignore[no-untyped-def]
    provider, _labs, round_id = open_round
    prov = provider.principal(db)
    gate = threading.Barrier(4)
    states: list[str] = []
    faults: list[BaseException] = []

    def ask() -> None:
        with app.state.sessionmaker() as session:
            gate.wait()
            try:
                states.append(pdfs.request(session, app.state.sessionmaker, prov, round_id,
                                           "zh").state)
            except BaseException as exc:
                faults.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert faults == [] and len(states) == 4
    assert set(states) <= {pdfs.QUEUED, pdfs.CHARTS, pdfs.LAYOUT}
    pdfs.wait()
    assert renders == ["zh"]
    with app.state.sessionmaker() as session:
        status = pdfs.request(session, app.state.sessionmaker, prov, round_id, "zh")
    assert status.state == pdfs.READY and status.pdf and status.pdf.startswith(b"%PDF")


def test_a_failed_pdf_says_so_and_can_be_tried_again(app, db, open_round,
                                                     monkeypatch) -> None:  # type: ignore[no-untyped-def]
    provider, _labs, round_id = open_round

    def broken(locale, principal, content):  # type: ignore[no-untyped-def]
        raise RuntimeError("layout failed")

    monkeypatch.setattr(report, "pdf", broken)
    with TestClient(app) as client:
        sign_in(client, provider.user.email)
        assert client.get(f"/pt/rounds/{round_id}/report.pdf").status_code == 202
        pdfs.wait()
        page = client.get(f"/pt/rounds/{round_id}/report.pdf/progress")
        assert page.status_code == 200 and 'data-state="failed"' in page.text
        assert "HX-Redirect" not in page.headers and 'data-testid="pdf-retry"' in page.text
        assert "生成失败" in page.text or "无法生成" in page.text
        monkeypatch.undo()
        assert client.get(f"/pt/rounds/{round_id}/report.pdf").status_code == 202
        pdfs.wait()
        assert client.get(f"/pt/rounds/{round_id}/report.pdf").content.startswith(b"%PDF")


def test_outsiders_get_neither_the_pdf_nor_its_progress(app, db, open_round) -> None:  # type: ignore[no-untyped-def]
    _provider, _labs, round_id = open_round
    make_account(db, "outsider@example.cn")
    with TestClient(app) as client:
        sign_in(client, "outsider@example.cn")
        assert client.get(f"/pt/rounds/{round_id}/report.pdf").status_code == 403
        assert client.get(f"/pt/rounds/{round_id}/report.pdf/progress").status_code == 403


def test_the_reports_warnings_are_in_the_readers_language(app, db, open_round) -> None:  # type: ignore[no-untyped-def]
    provider, _labs, round_id = open_round
    prov = provider.principal(db)
    service.transition(db, prov, round_id, "close")
    service.compute(db, prov, round_id)
    with TestClient(app) as client:
        sign_in(client, provider.user.email)
        zh = client.get(f"/pt/rounds/{round_id}/report?lang=zh").text
        en = client.get(f"/pt/rounds/{round_id}/report?lang=en").text
        api = client.get(f"/api/pt/rounds/{round_id}/report")
    assert api.status_code == 200, api.text
    stats = api.json()["measurands"][0]["items"][0]["statistics"]
    assert "notes" not in stats and stats["warnings"][0].startswith("only 6 results")
    assert "仅有 6 个结果：ISO 13528 不建议在参加者少于约 12 个时采用公议值" in zh
    assert "only 6 results: ISO 13528 advises against consensus values" in en
    # the API keeps its documented statistics, warnings in English
    [item] = service.round_report(db, prov, round_id)[1][0].items
    assert item.computed["warnings"][0].startswith("only 6 results")
