"""Notifications: in the app for an organisation, and by e-mail to its members through a
configured SMTP server (``TICHUB_SMTP_HOST`` …). A use case adds them in its own
transaction; the mailer sends what is pending afterwards, so a slow or failing mail server
never holds up, or undoes, the work it reports."""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tichub.core import errors
from tichub.core.auth import Principal, require_member
from tichub.core.config import Settings
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import Membership, Notification, Role, User

log = logging.getLogger(__name__)
SCOPE = "accounts:read"
MAX_ATTEMPTS = 5


def notify(db: Session, org_id: str, kind: str, title: str | Msg, body: str = "",
           link: str = "") -> Notification:
    """Tells an organisation something, inside the caller's transaction. A ``Msg`` title is
    shown in each reader's language; the e-mail carries it in Chinese and English."""
    message = title.as_json() if isinstance(title, Msg) else None
    if isinstance(title, Msg):
        zh, en = title.localize("zh"), title.localize("en")
        title = zh if zh == en else f"{zh} / {en}"
    n = Notification(org_id=org_id, kind=kind, title=title[:300], message=message, body=body,
                     link=link, at=utcnow(), email_state="pending", email_attempts=0)
    db.add(n)
    return n


def title_of(n: Notification, locale: str) -> str:
    """A notification's title in the reader's language (older ones: as stored)."""
    if n.message:
        try:
            return Msg.from_json(n.message).localize(locale)
        except (KeyError, TypeError, ValueError):
            pass
    return n.title


def inbox(db: Session, principal: Principal, org_id: str, unread_only: bool = False,
          limit: int = 50) -> list[Notification]:
    """An organisation's notifications, for its own members (they carry orders' notes,
    bookings' purposes and amounts: not even supervision reads them here)."""
    require_member(principal, Role.viewer, org=org_id, scope=SCOPE)
    q = select(Notification).where(Notification.org_id == org_id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return list(db.scalars(q.order_by(Notification.at.desc()).limit(limit)))


def mark_read(db: Session, principal: Principal, notification_id: str) -> Notification:
    n = db.get(Notification, notification_id)
    if n is None:
        raise errors.not_found(Msg("notification"))
    require_member(principal, Role.viewer, org=n.org_id, scope=SCOPE)
    if n.read_at is None:
        n.read_at = utcnow()
        db.commit()
    return n


def my_inbox(db: Session, principal: Principal, limit: int = 100) -> list[Notification]:
    """The notifications of every organisation the user belongs to, newest first."""
    orgs = list(principal.roles)
    if not orgs:
        return []
    for org in orgs:
        require_member(principal, Role.viewer, org=org, scope=SCOPE)
    return list(db.scalars(select(Notification).where(Notification.org_id.in_(orgs))
                           .order_by(Notification.at.desc(), Notification.id.desc())
                           .limit(limit)))


def unread_count(db: Session, principal: Principal) -> int:
    """How many of the user's organisations' notifications are unread: one indexed count,
    run for the header of every page."""
    if not principal.roles:
        return 0
    return db.scalar(select(func.count()).select_from(Notification).where(
        Notification.org_id.in_(list(principal.roles)), Notification.read_at.is_(None))) or 0


def mark_all_read(db: Session, principal: Principal) -> int:
    """Marks every unread notification of the user's organisations read; returns how many."""
    orgs = list(principal.roles)
    for org in orgs:
        require_member(principal, Role.viewer, org=org, scope=SCOPE)
    if not orgs:
        return 0
    done = db.execute(update(Notification).where(
        Notification.org_id.in_(orgs), Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.commit()
    return int(getattr(done, "rowcount", 0) or 0)


def _recipients(db: Session, org_id: str) -> list[str]:
    """The organisation's editors and admins: those who act on what it is told."""
    return list(db.scalars(select(User.email).join(Membership, Membership.user_id == User.id)
                           .where(Membership.org_id == org_id, User.is_active,
                                  Membership.role.in_((Role.editor, Role.admin)))
                           .order_by(User.email)))


def deliver_pending(factory: sessionmaker[Session], settings: Settings, limit: int = 100) -> int:
    """Sends the pending notifications' e-mails; returns how many were sent."""
    if not settings.smtp_host:
        return 0
    sent = 0
    with factory() as db:
        pending = list(db.scalars(select(Notification).where(
            Notification.email_state == "pending").order_by(Notification.at).limit(limit)))
        if not pending:
            return 0
        try:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10)
        except OSError as exc:
            log.warning("SMTP server %s:%s unreachable: %s", settings.smtp_host,
                        settings.smtp_port, exc)
            return 0
        with smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            for n in pending:
                to = _recipients(db, n.org_id)
                state = "none"
                if to:
                    msg = EmailMessage()
                    msg["From"] = settings.smtp_from
                    msg["To"] = ", ".join(to)
                    msg["Subject"] = n.title
                    link = f"\n\n{settings.public_url.rstrip('/')}{n.link}" if n.link else ""
                    msg.set_content(f"{n.body}{link}\n\n— TICHub")
                    try:
                        smtp.send_message(msg)
                        state, sent = "sent", sent + 1
                    except smtplib.SMTPException as exc:
                        log.warning("mail for notification %s failed: %s", n.id, exc)
                        state = "failed" if n.email_attempts + 1 >= MAX_ATTEMPTS else "pending"
                db.execute(update(Notification).where(Notification.id == n.id).values(
                    email_state=state, email_attempts=Notification.email_attempts + 1))
                db.commit()
    return sent


class Mailer:
    """Sends pending e-mails every few seconds in the background."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings,
                 every: float = 2.0) -> None:
        self.factory, self.settings, self.every = factory, settings, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                deliver_pending(self.factory, self.settings)
            except Exception:  # the next round tries again; nothing is marked sent
                log.exception("sending notifications failed")
