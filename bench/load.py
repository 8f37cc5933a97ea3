"""Load: signed-in people over the main pages and API reads, with locust, bounded in users, time and
requests; prints each endpoint's p50/p95/p99 and errors, and fails when p95 or the error count is over
the bar.  Loopback only.

    leadpact start --no-serve                      # once: the demo organisation (or: leadpact demo --leads N)
    leadpact serve --addr 127.0.0.1:8000 &         # gunicorn, as in production
    leadpact token create load --scope read        # prints lp_…
    python bench/load.py --host http://127.0.0.1:8000 --username admin --password … --token lp_… \\
        --users 50 --seconds 60

Needs the bench extra (`pip install -e '.[bench]'`: locust).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

PAGES = ["/", "/measure/", "/targets/", "/accountability/", "/organizations/"]
P95_BAR_MS = 300.0

try:  # as locust's locustfile
    from locust import HttpUser, between, task

    class SignedIn(HttpUser):
        wait_time = between(0.2, 1.0)

        def on_start(self) -> None:
            self.api = {"Authorization": f"Bearer {os.environ['LOAD_TOKEN']}"}
            self.lead_ids: list[int] = []
            shared = os.environ.get("LOAD_SESSION")
            if shared:  # signed in once before the run (--shared-session): the cookie, no password hash
                name, _, value = shared.partition("=")
                self.client.cookies.set(name, value)
                return
            self.client.get("/accounts/login/", name="login form")
            token = self.client.cookies.get("csrftoken", "")
            self.client.post(
                "/accounts/login/",
                {
                    "username": os.environ["LOAD_USERNAME"],
                    "password": os.environ["LOAD_PASSWORD"],
                    "csrfmiddlewaretoken": token,
                },
                headers={"Referer": f"{self.host}/accounts/login/"},
                name="sign in",
            )

        @task(5)
        def page(self) -> None:
            path = random.choice(PAGES)
            with self.client.get(path, name=path, catch_response=True) as response:
                if response.status_code != 200 or "/accounts/login/" in response.url:
                    response.failure(f"{path}: {response.status_code} {response.url}")

        @task(3)
        def api_leads(self) -> None:
            response = self.client.get("/api/leads?limit=50", headers=self.api, name="/api/leads")
            if response.ok:
                self.lead_ids = [row["id"] for row in response.json()][:50]

        @task(2)
        def api_lead(self) -> None:
            if self.lead_ids:
                lead = random.choice(self.lead_ids)
                self.client.get(f"/api/leads/{lead}", headers=self.api, name="/api/leads/{id}")

except ImportError:  # run as a script without locust imported at module level
    pass


def _sign_in(host: str, username: str, password: str) -> str:
    """Sign in once with the standard library; returns the session cookie as ``name=value``."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"{host}/accounts/login/"
    opener.open(login, timeout=120).read()
    csrf = next(c.value for c in jar if c.name.endswith("csrftoken"))
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
    request = urllib.request.Request(login, data=form.encode(), headers={"Referer": login})
    opener.open(request, timeout=120).read()
    session = next((c for c in jar if c.name.endswith("sessionid")), None)
    if session is None:
        raise SystemExit(f"sign-in as {username} failed: no session cookie")
    return f"{session.name}={session.value}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="http://127.0.0.1:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument(
        "--token", required=True, help="a read token: leadpact token create load --scope read"
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--shared-session",
        action="store_true",
        help="sign in once before the run and let every user reuse that session: the run then measures "
        "pages and API reads, not 50 password hashes at once (each user signs in by default)",
    )
    args = parser.parse_args()
    if not args.host.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("loopback only: --host must be http://127.0.0.1:PORT or localhost")
    env = dict(os.environ, LOAD_USERNAME=args.username, LOAD_PASSWORD=args.password, LOAD_TOKEN=args.token)
    if args.shared_session:
        env["LOAD_SESSION"] = _sign_in(args.host, args.username, args.password)
    with tempfile.TemporaryDirectory() as folder:
        prefix = str(Path(folder) / "load")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                __file__,
                "--headless",
                "--host",
                args.host,
                "--users",
                str(args.users),
                "--spawn-rate",
                str(max(1, args.users // 5)),
                "--run-time",
                f"{args.seconds}s",
                "--csv",
                prefix,
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            check=False,
            timeout=args.seconds + 120,
        )
        rows = Path(prefix + "_stats.csv").read_text().splitlines()
    import csv

    table = list(csv.DictReader(rows))
    print(f"\n{'endpoint':<22} {'requests':>9} {'errors':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    worst = 0.0
    errors = 0
    for row in table:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        p95 = float(row["95%"] or 0)
        print(
            f"{name:<22} {row['Request Count']:>9} {row['Failure Count']:>7} {row['50%']:>7} {row['95%']:>7}"
            f" {row['99%']:>7}"
        )
        if name == "all":
            worst, errors = p95, int(row["Failure Count"])
    print(json.dumps({"users": args.users, "seconds": args.seconds, "p95_ms": worst, "errors": errors}))
    return 0 if worst <= P95_BAR_MS and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
