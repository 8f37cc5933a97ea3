"""What every page template may read: the current organisation and the user's access to it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from leadpact.web.access import current_access

__all__ = ["current"]


def current(request: HttpRequest) -> dict[str, Any]:
    access = current_access(request) if hasattr(request, "user") else None
    return {"access": access, "current_organization": access.organization if access else None}
