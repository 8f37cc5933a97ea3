"""Data: upload a CSV or XLSX export, map its columns, watch it import, download its problems; the history.

An uploaded file is staged in the data folder (``uploads/<organisation>/<token><suffix>``, private to the
owner) until it is imported; the token in the URL finds it only under the current organisation's folder.
A file up to :data:`INLINE_BYTES` is imported while the request waits (tests, most uploads); a bigger one
in a thread of the server, whose job page follows its progress (``progress.json``, polled by data.js).
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from leadpact.connectors import PRESETS, AmbiguousDates, Mapping, MappingError, UnreadableFile, read_file
from leadpact.connectors.files import file_fingerprint, open_table
from leadpact.datadir import private_dir
from leadpact.errors import ApplicationError
from leadpact.leads.imports import import_job_status, lead_import
from leadpact.leads.models import ImportJob, SavedMapping
from leadpact.leads.services import saved_mapping_save
from leadpact.organization.models import Organization
from leadpact.outbox.selectors import outbox_in_use
from leadpact.web.access import AppRequest, page, require
from leadpact.web.data_forms import MappingForm, UploadForm, choice_label
from leadpact.web.data_mapping import column_choices, mapping_from_choices
from leadpact.web.exports import export_response

__all__ = [
    "INLINE_BYTES",
    "data_home",
    "import_job",
    "import_map",
    "import_problems",
    "import_progress",
    "stage_upload",
]

log = logging.getLogger(__name__)

#: Files up to this size are imported while the request waits; bigger ones in a background thread.
INLINE_BYTES = 2 * 2**20
_TOKEN = re.compile(r"[0-9a-f]{32}")
_PREVIEW_ROWS = 5


def _uploads(organization: Organization) -> Path:
    return private_dir(Path(settings.DATA_DIR) / "uploads" / str(organization.pk))


#: An uploaded file not imported within this many seconds (the mapping step left) is removed.
STAGED_FOR = 24 * 3600


def _sweep(folder: Path) -> None:
    """Remove files uploaded and never imported, once they are older than :data:`STAGED_FOR`."""
    limit = time.time() - STAGED_FOR
    for item in folder.iterdir():
        with contextlib.suppress(OSError):
            if item.is_file() and item.stat().st_mtime < limit:
                item.unlink()


def stage_upload(organization: Organization, name: str, chunks: Any) -> str:
    """Keep an uploaded file until it is imported; returns its token."""
    token = secrets.token_hex(16)
    suffix = Path(name).suffix.lower()[:6]
    folder = _uploads(organization)
    _sweep(folder)
    target = folder / f"{token}{suffix}"
    with target.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    target.chmod(0o600)
    (target.parent / f"{token}.name").write_text(Path(name).name[:200], encoding="utf-8")
    return token


def _staged(organization: Organization, token: str) -> tuple[Path, str]:
    """The staged file of this organisation with this token, and its original name (404 otherwise)."""
    if not _TOKEN.fullmatch(token):
        raise Http404
    folder = Path(settings.DATA_DIR) / "uploads" / str(organization.pk)
    found = [p for p in folder.glob(f"{token}.*") if p.suffix != ".name"] if folder.is_dir() else []
    if not found:
        raise Http404
    label = folder / f"{token}.name"
    return found[0], label.read_text(encoding="utf-8") if label.exists() else found[0].name


def _unstage(path: Path) -> None:
    for item in (path, path.with_suffix(".name")):
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


def _jobs(organization: Organization) -> list[ImportJob]:
    jobs = list(ImportJob.objects.filter(organization=organization).order_by("-started_at", "-id")[:50])
    now = timezone.now()
    for job in jobs:
        job.shown_status = import_job_status(job, now=now)  # type: ignore[attr-defined]
    return jobs


@page("view")
@require_http_methods(["GET", "POST"])
def data_home(request: AppRequest) -> HttpResponse:
    """The import history and, for an organisation admin, the upload form."""
    organization = request.access.organization
    may = request.access.allows("integrations.manage")
    form = UploadForm()
    if request.method == "POST":
        require(request, "integrations.manage")
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            token = stage_upload(organization, upload.name, upload.chunks())
            return redirect("data_map", token=token)
    return render(
        request,
        "leadpact/data/index.html",
        {
            "form": form,
            "may_manage": may,
            "jobs": _jobs(organization),
            "outbox": may and outbox_in_use(),
            "tab": "imports",
        },
        status=400 if form.errors else 200,
    )


def _first_rows(
    path: Path, after: int, header: tuple[str, ...] | None
) -> tuple[tuple[str, ...], list[list[str]], int]:
    """The header (the first non-empty row when not known), the first rows below it as text, and the
    header's row number."""
    table, close = open_table(path)
    try:
        rows: list[list[str]] = []
        found = header
        start = after
        for number, cells in table.rows():
            texts = ["" if c is None else str(c).strip() for c in cells]
            if found is None:
                if any(texts):
                    found, start = tuple(texts), number
                continue
            if number <= start or not any(texts):
                continue
            rows.append(texts)
            if len(rows) >= _PREVIEW_ROWS:
                break
        return found or (), rows, start
    finally:
        close()


def _inspect(path: Path, base: Mapping | None) -> tuple[tuple[str, ...], int, str | None]:
    """The file's header, its row number, and the preset detected (when ``base`` is None)."""
    try:
        with read_file(path, mapping=base, dayfirst=True) as result:
            return result.header, result.header_row, result.preset
    except (UnreadableFile, MappingError, ValueError):
        header, _rows, number = _first_rows(path, 0, None)
        return header, number, None


def _bases(organization: Organization) -> dict[str, tuple[str, Mapping]]:
    """Every mapping a person can start from: ``preset:<name>`` and ``saved:<name>`` → (label, mapping)."""
    out: dict[str, tuple[str, Mapping]] = {}
    for row in SavedMapping.objects.filter(organization=organization).order_by("-created_at"):
        with contextlib.suppress(MappingError):
            out[f"saved:{row.name}"] = (
                _("saved: %(name)s") % {"name": row.name},
                Mapping.from_dict(row.mapping),
            )
    for name, mapping in PRESETS.items():
        out[f"preset:{name}"] = (_("preset: %(name)s") % {"name": name}, mapping)
    return out


def _suggest(path: Path, bases: dict[str, tuple[str, Mapping]]) -> str:
    """A saved mapping that fits the file's header (its id column is there), else the detected preset."""
    header, _row, detected = _inspect(path, None)
    present = {h.casefold().strip() for h in header}
    for key, (_label, mapping) in bases.items():
        if key.startswith("saved:") and any(
            h.casefold().strip() in present for h, t in mapping.columns if t == "external_id"
        ):
            return key
    return f"preset:{detected}" if detected else "none"


@page("integrations.manage")
@require_http_methods(["GET", "POST"])
def import_map(request: AppRequest, token: str) -> HttpResponse:
    """The mapping step: a preview of the file, every column with what it becomes; then the import."""
    organization = request.access.organization
    path, name = _staged(organization, token)
    bases = _bases(organization)
    chosen = request.POST.get("base") or request.GET.get("base") or _suggest(path, bases)
    if chosen != "none" and chosen not in bases:
        chosen = "none"
    base = bases[chosen][1] if chosen != "none" else None
    header, header_row, _detected = _inspect(path, base)
    if not header:
        messages.error(request, _("%(name)s has no header row: nothing to import.") % {"name": name})
        _unstage(path)
        return redirect("data")
    _header, samples, _number = _first_rows(path, header_row, header)
    initial = column_choices(base, header)
    rules = base.events if base is not None else ()
    form_kwargs: dict[str, Any] = {"header": header, "initial_choices": initial, "rules": rules}
    start = {"source": base.source if base is not None else "import"}
    if request.method == "POST" and "base" in request.POST and "import" not in request.POST:
        form = MappingForm(initial=start, **form_kwargs)  # only the starting point changed
    elif request.method == "POST":
        form = MappingForm(request.POST, **form_kwargs)
        if form.is_valid():
            response = _import(request, form, base, chosen, header, path, name)
            if response is not None:
                return response
    else:
        form = MappingForm(initial=start, **form_kwargs)
    columns = []
    for i, field in enumerate(form.column_fields()):
        columns.append(
            {
                "field": field,
                "header": header[i],
                "samples": [row[i] for row in samples if i < len(row) and row[i]][:3],
                "becomes": choice_label(initial[i], rules),
            }
        )
    return render(
        request,
        "leadpact/data/map.html",
        {
            "form": form,
            "name": name,
            "token": token,
            "columns": columns,
            "bases": [(key, label) for key, (label, _m) in bases.items()],
            "base": chosen,
            "header_row": header_row,
            "zone": organization.timezone,
            "tab": "imports",
        },
        status=400 if form.errors else 200,
    )


def _import(
    request: AppRequest,
    form: MappingForm,
    base: Mapping | None,
    chosen: str,
    header: tuple[str, ...],
    path: Path,
    name: str,
) -> HttpResponse | None:
    """Check the mapping against the file, save it when asked, then import (inline or in a thread)."""
    organization = request.access.organization
    order = form.cleaned_data["dayfirst"]
    dayfirst = {"day": True, "month": False}.get(order)
    save_as = form.cleaned_data["save_as"]
    choices = form.choices()
    label = save_as or (chosen.split(":", 1)[1] if chosen != "none" else "custom")
    try:
        mapping = mapping_from_choices(
            base, header, choices, source=form.cleaned_data["source"], dayfirst=dayfirst, name=label
        )
        with read_file(path, mapping=mapping, tz=organization.timezone):
            pass
    except AmbiguousDates as exc:
        form.add_error(
            "dayfirst",
            _(
                "Column “%(column)s” has dates such as %(examples)s that read both ways: "
                "say which comes first."
            )
            % {"column": exc.column, "examples": ", ".join(exc.examples[:3])},
        )
        return None
    except (UnreadableFile, MappingError, ValueError) as exc:
        form.add_error(
            None, _("%(name)s cannot be imported this way: %(reason)s") % {"name": name, "reason": exc}
        )
        return None
    if save_as:
        saved_mapping_save(organization=organization, name=save_as, mapping=mapping)
    unchanged = chosen.startswith("preset:") and choices == column_choices(base, header)
    options: dict[str, Any] = {
        "organization": organization,
        "preset": chosen.removeprefix("preset:") if unchanged and dayfirst is None else None,
        "mapping": None if unchanged and dayfirst is None else mapping,
        "dayfirst": dayfirst,
        "tz": organization.timezone,  # times without an offset are the organisation's local times
        "resume": True,
    }
    if options["preset"] is not None and form.cleaned_data["source"] != mapping.source:
        options["preset"], options["mapping"] = None, mapping
    if path.stat().st_size <= INLINE_BYTES:
        return _import_now(request, path, name, options)
    return _import_later(request, path, name, options)


def _named_copy(path: Path, name: str) -> Path:
    """The staged file under its original name (the job's file name), in its own private folder."""
    folder = private_dir(path.parent / path.stem)
    target = folder / Path(name).name
    if not target.exists():
        path.rename(target)
        path.with_suffix(".name").unlink(missing_ok=True)
    return target


def _import_now(request: AppRequest, path: Path, name: str, options: dict[str, Any]) -> HttpResponse | None:
    target = _named_copy(path, name)
    try:
        outcome = lead_import(path=target, reader="thread", **options)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("data")
    finally:
        _drop(target)
    if outcome.result == "already_imported":
        messages.info(
            request,
            _("%(name)s was imported before (import %(job)s): nothing was added.")
            % {"name": name, "job": outcome.job.pk},
        )
    return redirect("data_import", pk=outcome.job.pk)


def _drop(target: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    with contextlib.suppress(OSError):
        target.parent.rmdir()


def _line_count(path: Path) -> int | None:
    if path.suffix.lower() == ".xlsx":
        return None
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            count += chunk.count(b"\n")
    return max(count - 1, 1)


def _import_later(request: AppRequest, path: Path, name: str, options: dict[str, Any]) -> HttpResponse:
    """Import in a thread of this process; the job page follows it. The job is found by the file's
    fingerprint: a new one, or the unfinished one the import resumes."""
    target = _named_copy(path, name)
    organization = options["organization"]
    fingerprint = file_fingerprint(target)
    jobs = ImportJob.objects.filter(organization=organization, fingerprint=fingerprint).order_by("-id")
    done = jobs.filter(status=ImportJob.Status.COMPLETED).first()
    if done is not None:
        _drop(target)
        messages.info(
            request,
            _("%(name)s was imported before (import %(job)s): nothing was added.")
            % {"name": name, "job": done.pk},
        )
        return redirect("data_import", pk=done.pk)
    total = _line_count(target)
    before = jobs.values_list("id", flat=True).first() or 0
    failed: list[str] = []

    def work() -> None:
        try:
            lead_import(path=target, **options)
        except ApplicationError as exc:
            failed.append(exc.message)
        except Exception as exc:  # the job, if it was made, says failed too
            log.exception("background import of %s failed", target.name)
            failed.append(str(exc))
        finally:
            _drop(target)
            close_old_connections()
            connection.close()

    threading.Thread(target=work, name=f"import-{name[:40]}", daemon=True).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = (
            jobs.filter(id__gt=before).first()
            or jobs.filter(id=before, status=ImportJob.Status.RUNNING).first()
        )
        if job is not None:
            cache.set(f"leadpact:import-total:{job.pk}", total, 24 * 3600)
            return redirect("data_import", pk=job.pk)
        if failed:
            messages.error(request, failed[0])
            return redirect("data")
        time.sleep(0.2)
    messages.info(request, _("The import of %(name)s has started.") % {"name": name})
    return redirect("data")


def _job(request: AppRequest, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob, pk=pk, organization=request.access.organization)


def _progress(job: ImportJob) -> dict[str, Any]:
    status = import_job_status(job)
    total = cache.get(f"leadpact:import-total:{job.pk}")
    done = status != ImportJob.Status.RUNNING
    percent = (
        100
        if status == ImportJob.Status.COMPLETED
        else (min(99, int(job.rows_read * 100 / total)) if total else None)
    )
    return {
        "status": status,
        "done": done,
        "rows_read": job.rows_read,
        "rows_imported": job.rows_imported,
        "leads_added": job.leads_added,
        "events_added": job.events_added,
        "problems": job.problems_count,
        "total": total,
        "percent": percent,
    }


@page("view")
@require_GET
def import_job(request: AppRequest, pk: int) -> HttpResponse:
    """One import: its counters, its progress while it runs, its first problems."""
    job = _job(request, pk)
    progress = _progress(job)
    return render(
        request,
        "leadpact/data/job.html",
        {
            "job": job,
            "progress": progress,
            "problems": list(job.problems.order_by("row", "id")[:50]),
            "mapping_name": (job.mapping or {}).get("name", ""),
            "tab": "imports",
        },
    )


@page("view")
@require_GET
def import_progress(request: AppRequest, pk: int) -> JsonResponse:
    """The job's progress as JSON, for the job page's script."""
    return JsonResponse(_progress(_job(request, pk)))


@page("view")
@require_GET
def import_problems(request: AppRequest, pk: int) -> HttpResponse:
    """Every problem of the job as ``row,column,reason`` CSV (cells a spreadsheet would run, neutralised)."""
    job = _job(request, pk)
    rows = job.problems.order_by("row", "id").values_list("row", "column", "reason")
    return export_response(
        fmt="csv",
        filename=f"import-{job.pk}-problems",
        header=[_("row"), _("column"), _("reason")],
        rows=rows.iterator(),
    )
