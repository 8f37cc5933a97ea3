"""Access and request logs keep no e-mail address and no query value (issue 11, point 8).

A real request through Django's development server (the handler ``leadpact start`` serves with): an
admin search for an address, and a page that is not there with an address in its path and its query.
"""

from __future__ import annotations

import doctest
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.wsgi import get_wsgi_application
from django.db import connections

import leadpact.logging
from leadpact.logging import REDACTED, RedactFilter, redact


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Server:
    """Django's development server in a thread; ``stop`` returns once the last request is logged."""

    def __init__(self) -> None:
        self.httpd = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
        self.httpd.set_app(get_wsgi_application())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.httpd.serve_forever()
        finally:
            connections.close_all()  # this thread's connection; left open it outlives the test database

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()  # one request at a time: returns after the request in hand is logged
            self.httpd.server_close()
            self.thread.join()


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    yield running
    running.stop()


@pytest.fixture
def logged() -> Iterator[list[str]]:
    collect = _Collect()
    loggers = [logging.getLogger(name) for name in ("django.server", "django.request")]
    for logger in loggers:
        logger.addHandler(collect)
    yield collect.messages
    for logger in loggers:
        logger.removeHandler(collect)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_a_request_with_an_email_in_the_query_string_logs_no_email(server, logged):
    assert _get(f"{server.url}/admin/?q=someone%40example.com&o=1") == 200  # the login page, after a redirect
    assert _get(f"{server.url}/no-such-page/ann.bos@example.nl/?email=ann.bos@example.nl") == 404
    server.stop()
    text = "\n".join(logged)
    assert "example" not in text and "someone" not in text and "ann.bos" not in text
    assert f'"GET /admin/?q={REDACTED}&o={REDACTED} HTTP/1.1" 302' in text
    assert f"/no-such-page/{REDACTED}/?email={REDACTED}" in text
    assert f"Not Found: /no-such-page/{REDACTED}/" in text  # django.request's own line


def test_the_loggers_that_see_urls_carry_the_filter():
    for name in leadpact.logging.REDACTED_LOGGERS:
        assert any(isinstance(f, RedactFilter) for f in logging.getLogger(name).filters), name


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /measure/?period=2026-10 HTTP/1.1", "GET /measure/?period=[redacted] HTTP/1.1"),
        ("GET /?flag HTTP/1.1", "GET /?[redacted] HTTP/1.1"),
        ("GET /a/?x=1#frag", "GET /a/?x=[redacted]#frag"),
        ("mail to First.Last+tag@sub.example.co.uk, please", "mail to [redacted], please"),
        ("GET /agreements/2/ HTTP/1.1 200", "GET /agreements/2/ HTTP/1.1 200"),
    ],
)
def test_redact(line, expected):
    assert redact(line) == expected


def test_a_record_with_arguments_is_rewritten_whole_and_kept():
    record = logging.LogRecord(
        "django.server", logging.INFO, "", 0, '"%s" %s %s', ("GET /?q=a@b.nl", "200", "5"), None
    )
    assert RedactFilter().filter(record) is True
    assert (record.getMessage(), record.args) == (f'"GET /?q={REDACTED}" 200 5', None)


def test_the_examples_in_the_module_hold():
    assert doctest.testmod(leadpact.logging).failed == 0
