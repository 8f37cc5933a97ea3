"""Serving leadpact: a listening socket chosen before anything is printed, then gunicorn on it.

The socket is bound by leadpact itself and handed to gunicorn as ``fd://N``, so the address printed is
the address served — no window in which another program takes the port between the check and the
serve.  When the wanted port is taken (``make run`` while another leadpact runs), the next free one of
the following :data:`PORT_TRIES` is used, and the caller says so before it prints anything else.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from typing import Any

__all__ = ["PORT_TRIES", "Listener", "listener_open", "parse_addr", "serve_gunicorn"]

PORT_TRIES = 50
"""How many ports after the wanted one are tried before the system is asked for any free one."""


@dataclass(frozen=True, slots=True)
class Listener:
    """A bound, listening socket; ``wanted`` is the port asked for, ``port`` the one served."""

    sock: socket.socket
    host: str
    port: int
    wanted: int

    @property
    def moved(self) -> bool:
        return self.port != self.wanted

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def parse_addr(addr: str, *, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``"127.0.0.1:8000"``, ``"8000"``, ``"[::1]:8000"`` or ``"0.0.0.0:80"`` → host and port.

    >>> parse_addr("8001")
    ('127.0.0.1', 8001)
    >>> parse_addr("[::1]:8000")
    ('::1', 8000)
    """
    host, sep, port = addr.rpartition(":")
    if not sep:
        host, port = default_host, addr
    host = host.strip("[]") or default_host
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{addr!r}: give host:port, e.g. 127.0.0.1:8000")
    return host, int(port)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def listener_open(addr: str, *, move: bool = True) -> Listener:
    """Bind ``addr``; if its port is taken and ``move`` is true, the next free port (then any)."""
    host, wanted = parse_addr(addr)
    candidates = [wanted]
    if move and wanted:
        candidates += [p for p in range(wanted + 1, wanted + 1 + PORT_TRIES) if p <= 65535] + [0]
    last: OSError | None = None
    for port in candidates:
        try:
            sock = _bind(host, port)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            last = error
            continue
        return Listener(sock=sock, host=host, port=sock.getsockname()[1], wanted=wanted)
    assert last is not None
    raise last


def serve_gunicorn(listener: Listener, *, workers: int, threads: int, timeout: int = 60) -> None:
    """Run gunicorn (threaded workers) on ``listener`` until stopped; the calling process is its master.

    The application is loaded before the fork (``preload``) so a broken setting fails once, loudly.
    """
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from leadpact.wsgi import application

    connections.close_all()  # never share a database connection with the forked workers

    class _App(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": [f"fd://{listener.sock.fileno()}"],
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": timeout,
                "graceful_timeout": 20,
                "preload_app": True,
                "accesslog": "-",  # redacted: leadpact/logging.py filters gunicorn.access
                "errorlog": "-",
                "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
                "proc_name": "leadpact",
                "control_socket_disable": True,  # one shared $HOME path would clash between servers
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    _App().run()
