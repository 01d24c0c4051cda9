"""The password rule: 12 characters, not a common password, not the account's e-mail —
wherever a password is set (the use case, so the CLI and the demo seed too)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from helpers import PASSWORD
from tichub.cli import app as cli_app
from tichub.core import errors, service
from tichub.core.config import get_settings
from tichub.core.passwords import COMMON_PASSWORDS, common_passwords, password_fault
from tichub.demo.seed import DEMO_PASSWORD

# The accepted examples, and longer ones of the same kinds.
WEAK = ["aaaaaaaaaa", "1234567890", "password12", "aaaaaaaaaaaa", "abababababab",
        "qwerty123456", "1qaz2wsx3edc", "Whosyourdaddy", "someone@example.com",
        "someone-secret-2027", "x SOMEONE@example.com x"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_naming_the_field(db, password: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.Problem) as caught:
        service.create_user(db, email="someone@example.com", password=password)
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["password"]


def test_the_demo_and_test_passwords_pass() -> None:
    for password in (DEMO_PASSWORD, PASSWORD, "a long enough password"):
        assert password_fault(password, "lab@example.com") is None
        assert password.lower() not in common_passwords()


def test_a_short_local_part_does_not_refuse_every_password() -> None:
    assert password_fault(PASSWORD, "a@example.com") is None
    assert password_fault("see a@example.com here", "a@example.com") is not None


def test_the_list_is_shipped_with_its_provenance_and_matches_without_case() -> None:
    head = COMMON_PASSWORDS.read_text(encoding="utf-8")[:2000]
    assert "zxcvbn" in head and "MIT" in head
    assert password_fault("QwErTy123456") == password_fault("qwerty123456") is not None


@pytest.fixture
def tichub(monkeypatch, database_url) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TICHUB_DATABASE_URL", database_url)
    monkeypatch.delenv("TICHUB_PASSWORD", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_the_cli_refuses_a_common_password(tichub) -> None:  # type: ignore[no-untyped-def]
    r = tichub("user", "create", "--email", "x@example.com", "--org", "Lab A",
               "--org-kind", "lab", "--password", "qwerty123456")
    assert r.exit_code == 1 and "password" in r.stderr and "common" in r.stderr
