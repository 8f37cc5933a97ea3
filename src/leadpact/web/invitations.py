"""The invitation e-mail: a link to choose a password, made with Django's password-reset tokens (valid
for ``PASSWORD_RESET_TIMEOUT``; used once, since setting the password changes the token), in the
language the inviter chose."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from leadpact.organization.models import Organization
from leadpact.outbox.context import mail_for

__all__ = ["invitation_link", "invitation_send"]


def invitation_link(request: HttpRequest, user: User) -> str:
    """The absolute set-password link for ``user``."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


def invitation_send(
    request: HttpRequest, *, user: User, organization: Organization, inviter: str, language: str
) -> None:
    """Send the invitation to ``user.email`` in ``language`` (``en`` or ``nl``)."""
    with translation.override(language):
        context = {
            "user": user,
            "name": user.first_name or user.get_username(),
            "organization": organization.name,
            "inviter": inviter,
            "link": invitation_link(request, user),
            "login": request.build_absolute_uri(reverse("login")),
        }
        subject = " ".join(render_to_string("registration/invitation_subject.txt", context).split())
        body = render_to_string("registration/invitation_email.txt", context)
    with mail_for(organization):  # the outbox shows it to the organisation's admins
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
