"""Accounts: argon2 passwords, browser sign-in with CSRF, API tokens, the audit log."""

from __future__ import annotations

from sqlalchemy import select

from helpers import PASSWORD, csrf_from, make_account, sign_in
from tichub.core.auth import SESSION_COOKIE
from tichub.core.models import AuditEvent, OrgKind, Role, User


def test_password_is_stored_as_argon2id(db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "a@example.com")
    stored = db.scalar(select(User.password_hash).where(User.id == acc.user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_sign_in_sets_a_protected_cookie_and_sign_out_ends_it(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "a@example.com")
    page = client.get("/login")
    r = client.post("/login", data={"email": "a@example.com", "password": PASSWORD,
                                    "csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/me").json()["email"] == "a@example.com"

    old = client.cookies.get(SESSION_COOKIE)
    csrf = csrf_from(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, old)
    assert client.get("/api/me").status_code == 401


def test_secure_flag_follows_the_setting(app, db) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    make_account(db, "a@example.com")
    app.state.settings = app.state.settings.model_copy(update={"cookie_secure": True})
    with TestClient(app, base_url="https://testserver") as c:
        page = c.get("/login")
        r = c.post("/login", data={"email": "a@example.com", "password": PASSWORD,
                                   "csrf_token": csrf_from(page.text)}, follow_redirects=False)
        assert "Secure" in r.headers["set-cookie"]


def test_sign_in_refuses_a_missing_csrf_token_and_a_wrong_password(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "a@example.com")
    client.get("/login")
    r = client.post("/login", data={"email": "a@example.com", "password": PASSWORD},
                    headers={"accept": "application/json"})
    assert r.status_code == 403 and "CSRF" in r.json()["title"]
    page = client.get("/login")
    r = client.post("/login", data={"email": "a@example.com", "password": "wrong password!",
                                    "csrf_token": csrf_from(page.text)})
    assert r.status_code == 401
    assert SESSION_COOKIE not in client.cookies


def test_cookie_writes_need_the_csrf_header(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "a@example.com")
    csrf = sign_in(client, "a@example.com")
    body = {"name": "ci", "scopes": ["registry:read"]}
    r = client.post(f"/api/orgs/{acc.org.id}/tokens", json=body)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    r = client.post(f"/api/orgs/{acc.org.id}/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    assert r.json()["token"].startswith("tichub_")


def test_api_tokens_are_scoped_hashed_and_revocable(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "a@example.com")
    csrf = sign_in(client, "a@example.com")
    made = client.post(f"/api/orgs/{acc.org.id}/tokens", headers={"X-CSRF-Token": csrf},
                       json={"name": "reader", "scopes": ["registry:read"]}).json()
    plain = made["token"]
    from tichub.core.models import ApiToken

    row = db.get(ApiToken, made["id"])
    assert plain.removeprefix("tichub_") not in row.secret_hash  # only a hash is kept

    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {plain}"}
    me = client.get("/api/me", headers=bearer).json()
    assert me["scopes"] == ["registry:read"]
    # The token lacks accounts:read, whatever its user's role.
    assert client.get(f"/api/orgs/{acc.org.id}/members", headers=bearer).status_code == 403

    sign_in(client, "a@example.com")
    csrf = csrf_from(client.get("/").text)
    r = client.delete(f"/api/tokens/{made['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["revoked_at"]
    client.cookies.clear()
    r = client.get("/api/me", headers=bearer)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_unknown_scope_is_refused_naming_the_field(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "a@example.com")
    csrf = sign_in(client, "a@example.com")
    r = client.post(f"/api/orgs/{acc.org.id}/tokens", headers={"X-CSRF-Token": csrf},
                    json={"name": "x", "scopes": ["everything"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "scopes"


def test_state_changes_are_audited(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "a@example.com", role=Role.admin)
    csrf = sign_in(client, "a@example.com")
    client.post(f"/api/orgs/{acc.org.id}/tokens", headers={"X-CSRF-Token": csrf},
                json={"name": "x", "scopes": ["registry:read"]})
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.org_id == acc.org.id)))
    assert {"org.created", "member.added", "token.created"} <= actions
    page = client.get(f"/api/orgs/{acc.org.id}/audit?per_page=2").json()
    assert page["total"] >= 3 and len(page["items"]) == 2


def test_viewer_cannot_read_the_audit_log(client, db) -> None:  # type: ignore[no-untyped-def]
    admin = make_account(db, "admin@example.com", kind=OrgKind.enterprise)
    make_account(db, "viewer@example.com", role=Role.viewer, org=admin.org)
    sign_in(client, "viewer@example.com")
    assert client.get(f"/api/orgs/{admin.org.id}/audit").status_code == 403
    assert client.get(f"/api/orgs/{admin.org.id}/members").status_code == 200


def test_a_member_revokes_their_own_token_but_not_a_colleagues(client, db) -> None:  # type: ignore[no-untyped-def]
    admin = make_account(db, "admin@example.com")
    make_account(db, "viewer@example.com", role=Role.viewer, org=admin.org)
    csrf = sign_in(client, "admin@example.com")
    admins = client.post(f"/api/orgs/{admin.org.id}/tokens", headers={"X-CSRF-Token": csrf},
                         json={"name": "admin's", "scopes": ["registry:read"]}).json()
    client.cookies.clear()
    csrf = sign_in(client, "viewer@example.com")
    own = client.post(f"/api/orgs/{admin.org.id}/tokens", headers={"X-CSRF-Token": csrf},
                      json={"name": "mine", "scopes": ["registry:read"]})
    assert own.status_code == 201

    r = client.delete(f"/api/tokens/{admins['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/orgs/{admin.org.id}/tokens").status_code == 403  # admins only
    r = client.delete(f"/api/tokens/{own.json()['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["revoked_at"]

    client.cookies.clear()
    sign_in(client, "admin@example.com")
    listed = client.get(f"/api/orgs/{admin.org.id}/tokens").json()
    assert listed["total"] == 2
    assert {t["name"]: t["revoked_at"] is None for t in listed["items"]} == {
        "admin's": True, "mine": False}


def test_member_and_token_lists_are_paged_like_every_list(client, db) -> None:  # type: ignore[no-untyped-def]
    admin = make_account(db, "admin@example.com")
    for i in range(3):
        make_account(db, f"member{i}@example.com", role=Role.viewer, org=admin.org)
    sign_in(client, "admin@example.com")
    first = client.get(f"/api/orgs/{admin.org.id}/members?per_page=3").json()
    second = client.get(f"/api/orgs/{admin.org.id}/members?per_page=3&page=2").json()
    assert (first["total"], first["page"], first["per_page"]) == (4, 1, 3)
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    emails = {m["email"] for m in first["items"] + second["items"]}
    assert emails == {"admin@example.com", *(f"member{i}@example.com" for i in range(3))}
    r = client.get(f"/api/orgs/{admin.org.id}/members?per_page=101")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "per_page"


def test_the_api_document_states_the_role_each_accounts_route_needs(app) -> None:  # type: ignore[no-untyped-def]
    paths = app.openapi()["paths"]
    assert "admin role" in paths["/api/orgs/{org_id}/tokens"]["get"]["x-access"]
    assert "admin role" in paths["/api/orgs/{org_id}/audit"]["get"]["x-access"]
    assert "viewer role" in paths["/api/orgs/{org_id}/members"]["get"]["x-access"]
    assert "token's own user" in paths["/api/tokens/{token_id}"]["delete"]["x-access"]


def test_an_old_password_hash_moves_to_todays_settings_at_sign_in(client, db) -> None:  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    acc = make_account(db, "a@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    db.get(User, acc.user.id).password_hash = weak
    db.commit()
    sign_in(client, "a@example.com")
    db.expire_all()
    stored = db.get(User, acc.user.id).password_hash
    assert stored != weak and stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, PASSWORD)
    assert not PasswordHasher().check_needs_rehash(stored)


def test_a_token_mints_only_tokens_within_its_own_scopes(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "a@example.com", role=Role.admin)
    csrf = sign_in(client, "a@example.com")
    admin_only = client.post(f"/api/orgs/{acc.org.id}/tokens", headers={"X-CSRF-Token": csrf},
                             json={"name": "admin", "scopes": ["accounts:admin"]}).json()
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {admin_only['token']}"}
    r = client.post(f"/api/orgs/{acc.org.id}/tokens", headers=bearer,
                    json={"name": "wider", "scopes": ["accounts:admin", "registry:write",
                                                      "reports:write"]})
    assert r.status_code == 403, r.text
    assert "registry:write, reports:write" in r.json()["detail"]
    assert "accounts:admin" not in r.json()["detail"].split("lacks")[1]
    r = client.post(f"/api/orgs/{acc.org.id}/tokens", headers=bearer,
                    json={"name": "same", "scopes": ["accounts:admin"]})
    assert r.status_code == 201 and r.json()["scopes"] == ["accounts:admin"]
