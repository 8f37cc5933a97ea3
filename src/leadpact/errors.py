"""The application's error tree: one root with a stable code, a message and extra detail.

Services raise :class:`ApplicationError` (or a subclass) for business rules; the API renders it as RFC 9457
problem details, pages as a message beside the field, the CLI as one line that says what to do.  Every
app raises it (or a subclass); nothing else is an application error.

>>> error = ApplicationError("version.not_draft", "version 3 is signed; make a new draft to change it")
>>> (error.code, str(error))
('version.not_draft', 'version 3 is signed; make a new draft to change it')
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApplicationError"]


class ApplicationError(Exception):
    """A business rule said no: ``code`` is stable for programs, ``message`` is for people."""

    def __init__(self, code: str, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra: dict[str, Any] = dict(extra or {})

    def __repr__(self) -> str:
        return f"ApplicationError({self.code!r}, {self.message!r}, extra={self.extra!r})"
