"""The first login's password lives in the data folder only until it is changed."""

from __future__ import annotations

from typing import Any

from django.conf import settings

__all__ = ["FIRST_LOGIN_FILE", "FirstLoginForgotten"]

FIRST_LOGIN_FILE = "first-login.txt"


class FirstLoginForgotten:
    """A password "validator" that checks nothing: when the first user's password changes (by the
    password page, the admin or ``changepassword``), it removes the file that kept the first password."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        path = settings.DATA_DIR / FIRST_LOGIN_FILE
        if user is None or not path.exists():
            return
        name, _, stored = path.read_text().partition("\n")
        if name == user.get_username() and stored.strip() != password:
            path.unlink(missing_ok=True)

    def get_help_text(self) -> str:
        return ""
