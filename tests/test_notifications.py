"""Notifications: in the app, and by e-mail through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller

from helpers import api_token, make_account, make_institution
from tichub.core.config import Settings
from tichub.core.models import OrgKind, Role
from tichub.core.notify import deliver_pending


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_an_order_step_tells_the_other_side_in_app_and_by_mail(client, db, app, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    lab = make_account(db, "lab@lab.cn")
    make_account(db, "viewer@lab.cn", role=Role.viewer, org=lab.org)  # not e-mailed
    inst, _ = make_institution(db, lab, name="甲检测", serial=31,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    firm = make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    head = {"Authorization": "Bearer " + api_token(db, firm, ["market:write", "accounts:read"])}
    r = client.post("/api/requests", headers=head, json={
        "org_id": firm.org.id, "product": "储能电池包", "institution_ids": [inst]})
    assert r.status_code == 201, r.text
    lab_head = {"Authorization": "Bearer " + api_token(db, lab, ["market:write", "accounts:read"])}
    got = client.get(f"/api/orgs/{lab.org.id}/notifications", headers=lab_head).json()
    assert len(got) == 1 and got[0]["kind"] == "order.submitted"
    assert got[0]["link"] == f"/market/orders/{r.json()[0]['id']}"
    # the company is not told of its own step, and cannot read the lab's notifications
    assert client.get(f"/api/orgs/{firm.org.id}/notifications", headers=head).json() == []
    assert client.get(f"/api/orgs/{lab.org.id}/notifications",
                      headers=head).status_code == 403

    settings = Settings(database_url="sqlite://", smtp_host="127.0.0.1", smtp_port=port,
                        smtp_from="TICHub <noreply@tichub.test>",
                        public_url="https://tichub.test")
    assert deliver_pending(app.state.sessionmaker, settings) == 1
    [(to, raw)] = inbox.messages
    assert to == ["lab@lab.cn"]
    msg = message_from_bytes(raw)
    assert "新的检测需求" in str(make_header(decode_header(msg["Subject"])))
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "储能电池包" in body and "https://tichub.test/market/orders/" in body
    assert deliver_pending(app.state.sessionmaker, settings) == 0  # sent once
    # supervision reads orders, not an organisation's notifications, and marks nothing read
    regulator = make_account(db, "samr@example.cn", kind=OrgKind.regulator)
    assert client.get(f"/api/orgs/{lab.org.id}/notifications", headers={
        "Authorization": "Bearer " + api_token(db, regulator, ["accounts:read"])}
    ).status_code == 403
    read = client.post(f"/api/notifications/{got[0]['id']}/read", headers=lab_head)
    assert read.status_code == 200 and read.json()["read_at"]
    assert client.get(f"/api/orgs/{lab.org.id}/notifications", headers=lab_head,
                      params={"unread": True}).json() == []


def test_an_unreachable_mail_server_loses_nothing(app, db) -> None:  # type: ignore[no-untyped-def]
    from tichub.core.notify import notify

    org = make_account(db, "a@lab.cn").org
    notify(db, org.id, "test", "你好")
    db.commit()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = int(s.getsockname()[1])  # nothing listens here once the socket closes
    settings = Settings(database_url="sqlite://", smtp_host="127.0.0.1", smtp_port=closed)
    assert deliver_pending(app.state.sessionmaker, settings) == 0
    from tichub.core.models import Notification

    db.expire_all()
    assert db.query(Notification).one().email_state == "pending"
