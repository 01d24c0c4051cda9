"""Messages for people: translated where shown, refusals beside the fields, a flash message
after an action, and sign-in before a protected page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse

from helpers import PASSWORD, csrf_from, make_account, sign_in
from tichub.core import errors, fields
from tichub.core.flash import flash
from tichub.core.messages import Msg, MsgC
from tichub.market.models import OrderStatus

FORM = {"X-TICHub-Form": "1", "Accept": "application/json"}
PAGE = {"Accept": "text/html"}


def test_a_message_is_english_text_and_translates_with_its_parameters() -> None:
    inner = Msg("Back")
    m = Msg("{what}: {n} rows", what=inner, n=3)
    assert m == "Back: 3 rows" and isinstance(m, str)
    # The Chinese catalogue lacks this msgid: the template stays English, the inner Msg and
    # an enum member are translated anyway.
    assert m.localize("zh") == "返回: 3 rows"
    assert Msg("{s}", s=OrderStatus.report_issued).localize("zh") == "报告已出具"
    assert Msg("{s}", s=OrderStatus.report_issued).localize("en") == "Report issued"
    round_trip = Msg.from_json(m.as_json())
    assert round_trip == m and round_trip.localize("zh") == m.localize("zh")
    assert MsgC("OrderStatus", "report_issued").localize("zh") == "报告已出具"


def _routes(app) -> None:  # type: ignore[no-untyped-def]
    fields.register({"test_amount": Msg("Back")})

    async def refuse(request: Request) -> None:
        raise errors.invalid("test_amount", Msg("Back"))

    async def succeed(request: Request) -> RedirectResponse:
        return flash(request, RedirectResponse("/", status_code=303), Msg("Back"))

    app.router.add_route("/test-form/refuse", refuse, methods=["POST"])
    app.router.add_route("/test-form/succeed", succeed, methods=["POST"])


def test_a_form_sent_by_script_gets_its_refusal_in_the_readers_language(
        app, client, db) -> None:  # type: ignore[no-untyped-def]
    _routes(app)
    make_account(db, "lab@example.com")
    token = sign_in(client, "lab@example.com")
    r = client.post("/test-form/refuse", data={"csrf_token": token}, headers=FORM)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["errors"] == [{"field": "test_amount", "row": None, "label": "返回",
                               "message": "返回"}]
    # The API keeps the English text and the field's name.
    api = client.post("/test-form/refuse", data={"csrf_token": token})
    assert api.json()["errors"] == [{"field": "test_amount", "message": "Back"}]
    english = client.post("/test-form/refuse?lang=en", data={"csrf_token": token},
                          headers=FORM)
    assert english.json()["errors"][0]["message"] == "Back"


def test_success_redirects_by_json_and_the_next_page_shows_the_flash_once(
        app, client, db) -> None:  # type: ignore[no-untyped-def]
    _routes(app)
    make_account(db, "lab@example.com")
    token = sign_in(client, "lab@example.com")
    r = client.post("/test-form/succeed", data={"csrf_token": token}, headers=FORM,
                    follow_redirects=False)
    assert r.status_code == 200 and r.json() == {"redirect": "/"}
    assert "tichub_flash" in r.cookies
    page = client.get("/", headers=PAGE)
    assert 'role="status">返回</p>' in page.text
    assert 'role="status"' not in client.get("/", headers=PAGE).text
    # A forged cookie shows nothing.
    client.cookies.set("tichub_flash", r.cookies["tichub_flash"][:-2] + "00")
    assert 'role="status"' not in client.get("/", headers=PAGE).text


def test_a_protected_page_sends_a_browser_to_sign_in_and_back(client, db) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/account?tab=tokens", headers=PAGE, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Faccount%3Ftab%3Dtokens"
    # API clients still get 401 problem+json.
    assert client.get("/account").status_code == 401
    assert client.get("/api/me", headers=PAGE).status_code == 401
    make_account(db, "lab@example.com")
    login = client.get(r.headers["location"], headers=PAGE)
    done = client.post("/login", data={"email": "lab@example.com", "password": PASSWORD,
                                       "next": "/account?tab=tokens",
                                       "csrf_token": csrf_from(login.text)},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account?tab=tokens"


def test_a_translation_with_a_wrong_parameter_shows_the_english() -> None:
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    catalog = Catalog(locale="zh")
    catalog.add("{n} rows", "{count} 行")  # a translator's slip: the parameter renamed
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    assert Msg("{n} rows", n=3).localize(Translations(fp=buf)) == "3 rows"
