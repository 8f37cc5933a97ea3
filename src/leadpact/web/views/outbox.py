"""Data → Outbox: the e-mails leadpact kept instead of sending (development and demos).

An organisation admin reads its organisation's messages; the operator (a superuser) reads every message,
also those sent outside any organisation (a password reset). The rule is in :mod:`leadpact.outbox`.
A message's HTML is served on its own address, in a sandbox (no scripts, no requests, a unique origin)
and shown in a sandboxed frame; attachments download.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from leadpact.outbox.models import OutboxAttachment, OutboxMessage
from leadpact.outbox.selectors import outbox_in_use, outbox_messages
from leadpact.web.access import AppRequest, page

__all__ = ["outbox", "outbox_attachment", "outbox_html", "outbox_message"]

#: the policy of a message's HTML: its own inline styles and data: images; no script, no request out
HTML_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
_PER_PAGE = 50


def _message(request: AppRequest, pk: int) -> OutboxMessage:
    return get_object_or_404(
        outbox_messages(user=request.user, organization=request.access.organization), pk=pk
    )


@page("integrations.manage")
@require_GET
def outbox(request: AppRequest) -> HttpResponse:
    """The messages, newest first."""
    messages = outbox_messages(user=request.user, organization=request.access.organization)
    shown = Paginator(messages, _PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "leadpact/data/outbox.html",
        {
            "page_obj": shown,
            "operator": request.user.is_superuser,
            "in_use": outbox_in_use(),
            "tab": "outbox",
        },
    )


@page("integrations.manage")
@require_GET
def outbox_message(request: AppRequest, pk: int) -> HttpResponse:
    """One message: its envelope, text, HTML (framed) and attachments."""
    message = _message(request, pk)
    return render(
        request,
        "leadpact/data/outbox_message.html",
        {
            "message": message,
            "attachments": list(
                message.attachments.order_by("id").only("id", "name", "content_type", "size")
            ),
            "operator": request.user.is_superuser,
            "tab": "outbox",
        },
    )


@page("integrations.manage")
@require_GET
@xframe_options_sameorigin
def outbox_html(request: AppRequest, pk: int) -> HttpResponse:
    """The message's HTML as sent, sandboxed by its own policy (also when opened on its own)."""
    message = _message(request, pk)
    if not message.html:
        raise Http404
    response = HttpResponse(message.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = HTML_CSP
    response["Cache-Control"] = "private, no-store"
    return response


@page("integrations.manage")
@require_GET
def outbox_attachment(request: AppRequest, pk: int, attachment: int) -> HttpResponse:
    """An attachment, as a download."""
    message = _message(request, pk)
    item = get_object_or_404(OutboxAttachment, pk=attachment, message=message)
    response = HttpResponse(bytes(item.content), content_type=item.content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, item.name)
    response["Cache-Control"] = "private, no-store"
    return response
