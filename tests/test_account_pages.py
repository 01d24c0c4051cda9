"""What every signed-in person has: the notifications page with the header's unread count,
the password change, the favicon, the error pages and the API's security schemes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from helpers import PASSWORD, make_account, sign_in
from tichub.core.notify import notify

FORM = {"X-TICHub-Form": "1", "Accept": "application/json"}


def test_notifications_page_lists_counts_and_marks_read(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    first = notify(db, acc.org.id, "booking.created", "新预约 / new booking", body="明天上午",
                   link="/market")
    notify(db, acc.org.id, "voucher.issued", "创新券已发放 / voucher issued")
    other = make_account(db, "other@example.com")
    notify(db, other.org.id, "booking.created", "别人的通知")
    db.commit()
    csrf = sign_in(client, "lab@example.com")

    page = client.get("/notifications")
    assert page.status_code == 200
    assert "新预约 / new booking" in page.text and "明天上午" in page.text
    assert "别人的通知" not in page.text  # another organisation's
    assert 'data-testid="unread-count">2<' in page.text

    r = client.post(f"/notifications/{first.id}/read?stay=1", data={"csrf_token": csrf},
                    headers=FORM)
    assert r.json() == {"redirect": "/notifications"}
    assert 'data-testid="unread-count">1<' in client.get("/notifications").text

    r = client.post("/notifications/read-all", data={"csrf_token": csrf}, headers=FORM)
    assert r.status_code == 200
    page = client.get("/notifications")
    assert 'data-testid="unread-count"' not in page.text
    assert "已将全部通知标为已读（1 条）" in page.text  # the flash, in Chinese

    # Someone else's notification is not theirs to mark.
    foreign = client.post(f"/notifications/{_id_of(db, '别人的通知')}/read",
                          data={"csrf_token": csrf}, headers=FORM)
    assert foreign.status_code == 403


def _id_of(db, title: str) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tichub.core.models import Notification

    return str(db.scalar(select(Notification.id).where(Notification.title == title)))


def test_an_empty_inbox_says_so(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "lab@example.com")
    sign_in(client, "lab@example.com")
    assert 'data-testid="no-notifications"' in client.get("/notifications?lang=en").text


def test_password_change_checks_and_ends_other_sessions(app, client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "lab@example.com")
    with TestClient(app) as elsewhere:
        sign_in(elsewhere, "lab@example.com")
        assert elsewhere.get("/account", follow_redirects=False).status_code == 200
        csrf = sign_in(client, "lab@example.com")

        wrong = client.post("/account/password", headers=FORM, data={
            "csrf_token": csrf, "current_password": "not it at all",
            "new_password": "a much better passphrase", "new_password_again": "same"})
        assert wrong.status_code == 422
        body = wrong.json()
        assert body["errors"][0]["field"] == "current_password"
        assert body["errors"][0]["label"] == "当前密码"
        assert body["errors"][0]["message"] == "与当前密码不符"

        short = client.post("/account/password?lang=en", headers=FORM, data={
            "csrf_token": csrf, "current_password": PASSWORD, "new_password": "short",
            "new_password_again": "short"})
        assert short.json()["errors"][0] == {
            "field": "new_password", "row": None, "label": "New password",
            "message": "must have at least 12 characters"}

        mismatch = client.post("/account/password", headers=FORM, data={
            "csrf_token": csrf, "current_password": PASSWORD,
            "new_password": "a much better passphrase",
            "new_password_again": "a much better passphrasf"})
        assert mismatch.json()["errors"][0]["field"] == "new_password_again"

        ok = client.post("/account/password", headers=FORM, data={
            "csrf_token": csrf, "current_password": PASSWORD,
            "new_password": "a much better passphrase",
            "new_password_again": "a much better passphrase"})
        assert ok.json() == {"redirect": "/account"}
        assert "密码已修改" in client.get("/account").text  # still signed in here
        # The other session ended: it is sent to sign in.
        ended = elsewhere.get("/account", follow_redirects=False, headers={"accept": "text/html"})
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    client.cookies.clear()
    sign_in(client, "lab@example.com", "a much better passphrase")


def test_favicon_and_its_link(client) -> None:  # type: ignore[no-untyped-def]
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in icon.text
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text
    assert client.get("/static/favicon.svg").status_code == 200


def test_error_pages_speak_peoples_words(client) -> None:  # type: ignore[no-untyped-def]
    html = {"accept": "text/html"}
    missing = client.get("/no-such-page", headers=html)
    assert missing.status_code == 404
    assert "页面不存在" in missing.text and "Not Found" not in missing.text
    english = client.get("/no-such-page?lang=en", headers=html)
    assert "Page not found" in english.text
    api = client.get("/api/no-such-thing")
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["title"] == "Not found"


def test_the_api_declares_its_security_schemes(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/api/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["sessionCookie"]["name"] == "tichub_session"
    ops = [op for path in doc["paths"].values() for op in path.values() if "x-access" in op]
    assert ops and all("security" in op for op in ops)
    verify = doc["paths"]["/api/reports/verify"]["get"]
    assert {} in verify["security"]  # public: a credential is optional
    tokens = doc["paths"]["/api/orgs/{org_id}/tokens"]["post"]
    assert tokens["security"] == [{"apiToken": []}, {"sessionCookie": []}]


def test_a_notification_reads_in_each_readers_language(client, db) -> None:  # type: ignore[no-untyped-def]
    from tichub.core.messages import Msg
    from tichub.market.models import BookingStatus

    acc = make_account(db, "lab@example.com")
    n = notify(db, acc.org.id, "booking.confirmed", Msg(
        "Booking from {start} (Beijing time): {status}", start="2026-12-04 09:00",
        status=BookingStatus.confirmed))
    db.commit()
    # The e-mail (and the API) carry both languages; the page only the reader's.
    assert n.title == "2026-12-04 09:00（北京时间）开始的预约：已确认 / " \
                      "Booking from 2026-12-04 09:00 (Beijing time): Confirmed"
    sign_in(client, "lab@example.com")
    zh = client.get("/notifications").text
    assert "2026-12-04 09:00（北京时间）开始的预约：已确认<" in zh and "Booking from" not in zh
    en = client.get("/notifications?lang=en").text
    assert "Booking from 2026-12-04 09:00 (Beijing time): Confirmed<" in en
    assert "已确认" not in en
