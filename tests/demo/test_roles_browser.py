"""Every demo role signs in in Chromium and finds meaningful content on every page it can open.

The pages are the named routes of ``leadpact.urls`` that take no arguments (so a page added later is
visited too), except the admin, the API, webhooks, language switching and the account pages.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from leadpact.demo._imports import FAIR_FILE, REEXPORT_FILE
from leadpact.demo.logins import DEMO_LOGINS, DEMO_LOGINS_FILE
from leadpact.demo.services import demo_load
from leadpact.organization.models import Person
from tests.browser import chromium_page

NOT_PAGES = ("admin/", "api/", "hooks/", "i18n/", "accounts/")
EMPTY = ("No agreement yet", "Server Error", "Traceback", "nothing to show")
#: the pages every role starts from: figures, tables, charts, not only a sentence
RICH = {"home", "targets", "measure", "accountability"}
#: what a page shows of the demo's own history, for every role that opens it: the import history (the
#: fair's HubSpot export and its re-run) and the outbox (the review packs the worker mailed; admins only)
SHOWS = {"data": (FAIR_FILE, REEXPORT_FILE), "data_outbox": ("Review pack: Monthly results review",)}


def page_names(patterns=None, prefix=""):
    """The named routes without arguments, in the order the URLconf lists them."""
    for item in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(item.pattern)
        if route.startswith(NOT_PAGES):
            continue
        if isinstance(item, URLResolver):
            yield from page_names(item.url_patterns, route)
        elif isinstance(item, URLPattern) and item.name and item.pattern.regex.groups == 0:
            yield item.name


def test_the_pages_the_browser_test_visits_are_found_in_the_urlconf():
    names = list(page_names())
    assert {"home", "targets", "measure", "accountability"} <= set(names)
    assert "agreement" not in names  # takes an id


def sign_in(page, base_url, name, password):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", password)
    page.click("#login-form [type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_role_finds_meaningful_content_on_every_page_it_can_open(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; not the point
    settings.EMAIL_BACKEND = "leadpact.outbox.backend.EmailBackend"  # as `leadpact start` has it
    demo_load(now=timezone.now() - dt.timedelta(minutes=5), leads=1500)
    kept = dict(line.split(" ", 1) for line in (tmp_path / DEMO_LOGINS_FILE).read_text().splitlines())
    urls = {reverse(name): name for name in page_names()}
    # what any page of the demo mentions when it shows the demo's data: the organisation, a person, a figure
    names = ["Noordkaap", *Person.objects.values_list("name", flat=True)]
    opened: dict[str, list[str]] = {}
    with chromium_page() as page:
        for login in DEMO_LOGINS:
            page.context.clear_cookies()
            sign_in(page, live_server.url, login.username, kept[login.username])
            assert "/accounts/login/" not in page.url, login.username
            opened[login.username] = []
            for url in urls:
                if page.request.get(f"{live_server.url}{url}", max_redirects=0).status == 405:
                    continue  # an action (a form's POST), not a page
                response = page.goto(f"{live_server.url}{url}")
                assert response is not None
                if response.status in (403, 404):
                    continue  # not a page this role can open
                assert response.status == 200, (login.username, url, response.status)
                main = page.locator("main").inner_text()
                where = f"{login.username} on {url}"
                assert not any(text in main for text in EMPTY), where
                # the demo's data (a name, a figure), or a form to act with beside words that say what to do
                shows = any(n in main for n in names) or re.search(r"\d", main)
                acts = page.locator("main form").count() > 0
                assert len(main.split()) >= 5 and (shows or acts), where
                for text in SHOWS.get(urls[url], ()):
                    assert text in main, (where, text)
                if urls[url] in RICH:
                    assert len(main.split()) >= 40 and re.search(r"\d", main), where
                    figures = page.locator("main table tr, main svg, main .tiles > *, main li, main dl")
                    assert figures.count() >= 3, where
                opened[login.username].append(url)
    for username, pages in opened.items():
        assert reverse("home") in pages and reverse("measure") in pages, username
    assert reverse("data_outbox") in opened["revops"]  # the admin reads the outbox; the others may not
    assert all(reverse("data_outbox") not in pages for name, pages in opened.items() if name != "revops")
    # the phone, in Dutch: no page scrolls sideways at 390 px (the role that opens the most pages)
    username = max(opened, key=lambda name: len(opened[name]))
    with chromium_page(locale="nl-NL") as page:
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, live_server.url, username, kept[username])
        for url in opened[username]:
            page.goto(f"{live_server.url}{url}")
            assert page.locator("html").get_attribute("lang") == "nl", url
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (username, url, width)
