"""Logs without personal data: query values and e-mail addresses never reach an access or request log.

An admin search (``/admin/leads/lead/?q=someone@example.com``) put the address in the development
server's access log and would in any proxy's.  :class:`RedactFilter` rewrites each record of the loggers
in :data:`REDACTED_LOGGERS` before any handler sees it: every value of a query string becomes
``[redacted]`` (the names stay, so a log still says what was asked for) and so does every e-mail
address, also URL-encoded (``%40``).  Settings wire it in with ``LOGGING_CONFIG``:

>>> redact('"GET /admin/leads/lead/?q=someone%40example.com&o=2 HTTP/1.1" 200 512')
'"GET /admin/leads/lead/?q=[redacted]&o=[redacted] HTTP/1.1" 200 512'
>>> redact("Not Found: /leads/ann.bos@example.nl/")
'Not Found: /leads/[redacted]/'
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

__all__ = ["REDACTED", "REDACTED_LOGGERS", "RedactFilter", "logging_configure", "redact"]

REDACTED = "[redacted]"
REDACTED_LOGGERS = ("django.server", "django.request", "gunicorn.access")
"""The development server's access log, Django's request errors, and gunicorn's access log."""

_QUERY = re.compile(r"\?([^\s\"'#]*)")
# The local part without "/", "=", "?" and "&", which RFC 5322 allows but which end a path or a parameter.
_EMAIL = re.compile(r"[\w.!#$%'*+^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)


def _query_redact(match: re.Match[str]) -> str:
    parts = []
    for part in match.group(1).split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if equals else (REDACTED if part else ""))
    return "?" + "&".join(parts)


def redact(text: str) -> str:
    """``text`` with the value of every query-string parameter and every e-mail address replaced."""
    return _EMAIL.sub(REDACTED, _QUERY.sub(_query_redact, text))


class RedactFilter(logging.Filter):
    """Rewrites a record's message through :func:`redact`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def logging_configure(config: dict[str, Any]) -> None:
    """Django's ``LOGGING_CONFIG``: apply ``LOGGING`` as usual, then redact the loggers that see URLs.

    The filter sits on the loggers themselves, so every handler — Django's defaults, the project's own,
    gunicorn's — gets the cleaned record.
    """
    logging.config.dictConfig(config)
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFilter) for f in logger.filters):
            logger.addFilter(RedactFilter())
