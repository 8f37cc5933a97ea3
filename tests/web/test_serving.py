"""Serving: a taken port is said first and another one served; gunicorn answers, static files included;
the access log carries no query values or e-mail addresses; `serve` refuses a taken port by default."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leadpact.web.serving import listener_open, parse_addr


def _taken() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock, sock.getsockname()[1]


def test_a_taken_port_moves_to_a_free_one_and_says_which():
    holder, port = _taken()
    try:
        listener = listener_open(f"127.0.0.1:{port}")
        try:
            assert listener.moved and listener.port != port and listener.wanted == port
            assert listener.url == f"http://127.0.0.1:{listener.port}/"
        finally:
            listener.sock.close()
        with pytest.raises(OSError):
            listener_open(f"127.0.0.1:{port}", move=False)
    finally:
        holder.close()


def test_addresses_parse_or_name_the_mistake():
    assert parse_addr("0.0.0.0:80") == ("0.0.0.0", 80)
    with pytest.raises(ValueError, match="host:port"):
        parse_addr("localhost:eighty")


@pytest.mark.django_db
def test_serve_refuses_a_taken_port_unless_told(settings):
    holder, port = _taken()
    try:
        with pytest.raises(CommandError, match="--any-port"):
            call_command("serve", "--addr", f"127.0.0.1:{port}")
    finally:
        holder.close()


def _get(url: str, timeout: float = 30.0) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read()
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_start_with_port_taken_says_so_first_then_serves_with_gunicorn(tmp_path: Path):
    holder, port = _taken()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # its own SQLite file
    env["LEADPACT_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadpact",
            "start",
            "--no-demo",
            "--workers",
            "1",
            "--addr",
            f"127.0.0.1:{port}",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"port {port} is in use; serving on port ")
        served = int(first.rsplit("port ", 1)[1].split()[0])
        lines = [process.stdout.readline() for _ in range(3)]
        assert any(f"leadpact is ready at http://127.0.0.1:{served}/" in line for line in lines)
        assert _get(f"http://127.0.0.1:{served}/healthz") == (200, b"ok\n")
        status, css = _get(f"http://127.0.0.1:{served}/static/leadpact/app.css")
        assert status == 200 and b"{" in css  # whitenoise, not Django's development server
        status, page = _get(f"http://127.0.0.1:{served}/accounts/login/?next=/&email=ann.bos%40example.nl")
        assert status == 200 and b"id_username" in page
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        holder.close()
    assert "gunicorn" in output.lower()
    assert "/accounts/login/?next=[redacted]&email=[redacted]" in output
    assert "ann.bos" not in output and "runserver" not in output
