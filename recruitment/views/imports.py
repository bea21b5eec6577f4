"""Pages: bulk import of applicants (upload and dry run, report, import with progress,
error report and template downloads). Bureau officers only; another bureau's batch is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from laborlink import audit, outbox
from laborlink.errors import DomainError
from laborlink.models import Organization, User
from laborlink.views import form_add_domain_error, paginate
from recruitment import exports, imports, selectors
from recruitment.forms.imports import ImportUploadForm
from recruitment.models import ImportBatch

ERRORS_PER_PAGE = 50
TEMPLATE_NAME = "申请人导入模板"


def _require_officer(request: HttpRequest) -> None:
    user: User = request.user
    org = user.organization
    if not (
        user.role == User.Role.BUREAU_OFFICER
        and org is not None
        and org.is_active
        and org.kind == Organization.Kind.BUREAU
    ):
        raise Http404


def _batch_or_404(request: HttpRequest, pk: int) -> ImportBatch:
    _require_officer(request)
    batch = selectors.import_batches_visible_to(request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    _require_officer(request)
    page = paginate(request, selectors.import_batches_visible_to(request.user))
    return render(request, "recruitment/imports/list.html", {"page_obj": page})


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    """Upload a file; the dry run checks it in full and shows its report."""
    _require_officer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                batch = imports.import_check(actor=request.user, upload=form.cleaned_data["file"])
            except DomainError as error:
                form_add_domain_error(form, error)
                status = error.status_code
            else:
                return redirect("recruitment:import-detail", pk=batch.pk)
        else:
            status = 400
    return render(
        request,
        "recruitment/imports/new.html",
        {"form": form, "columns": imports.COLUMNS, "max_rows": imports.MAX_ROWS},
        status=status,
    )


@login_required
@never_cache
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    errors_page = Paginator(batch.errors or [], ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    errors = [
        {
            **entry,
            "column": imports.error_column(entry),
            "reason": imports.error_message(entry),
        }
        for entry in errors_page.object_list
    ]
    context = {
        "batch": batch,
        "page_obj": errors_page,
        "errors": errors,
        "errors_truncated": len(batch.errors or []) >= imports.MAX_STORED_ERRORS,
        "progress": imports.import_progress(batch),
        "failure": imports.failure_message(batch),
        "to_add": max(batch.total_rows - batch.unchanged_count - batch.error_rows, 0),
        "can_start": batch.status == ImportBatch.Status.CHECKED and not batch.error_rows,
        "running": batch.status in {ImportBatch.Status.QUEUED, ImportBatch.Status.IMPORTING},
    }
    return render(request, "recruitment/imports/detail.html", context)


@login_required
@require_POST
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    try:
        with outbox.deliveries() as delivery:
            imports.import_start(actor=request.user, batch=batch)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        if delivery.delayed:
            messages.warning(
                request, _("The import is recorded and will start when the task queue is back.")
            )
        else:
            messages.success(request, _("The import has started."))
    return redirect("recruitment:import-detail", pk=batch.pk)


@login_required
@never_cache
@require_GET
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    batch = _batch_or_404(request, pk)
    progress = imports.import_progress(batch)
    if progress["status"] in {ImportBatch.Status.QUEUED, ImportBatch.Status.IMPORTING}:
        label = _("%(done)s of %(total)s rows") % {
            "done": f"{progress['done']:,}",
            "total": f"{progress['total']:,}",
        }
    else:
        label = progress["status_label"]
    return JsonResponse({**progress, "label": label})


@login_required
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The error report, as CSV (default) or XLSX (`?format=xlsx`), formulae escaped."""
    batch = _batch_or_404(request, pk)
    header = [_("Row"), _("Name"), _("ID number"), _("Column"), _("Reason")]
    rows = imports.error_report_rows(batch)
    filename = f"import-{batch.pk}-errors"
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    audit.record_export(
        request, what="recruitment.importbatch", fmt=fmt, object_id=batch.pk, report="errors"
    )
    if fmt == "xlsx":
        return exports.xlsx_response(f"{filename}.xlsx", header, rows, title=_("Errors"))
    return exports.csv_response(f"{filename}.csv", header, rows)


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """The blank template with Chinese headers and one example row: XLSX (with a notes
    sheet) by default, CSV with `?format=csv`."""
    _require_officer(request)
    header = [header for _name, header in imports.COLUMNS]
    if request.GET.get("format") == "csv":
        return exports.csv_response(
            f"{TEMPLATE_NAME}.csv", header, [imports.template_example_row()]
        )
    response = HttpResponse(imports.template_xlsx(), content_type=exports.XLSX_CONTENT_TYPE)
    return exports.attachment(response, f"{TEMPLATE_NAME}.xlsx")


urlpatterns = [
    path("imports/", import_list, name="import-list"),
    path("imports/new/", import_new, name="import-new"),
    path("imports/template/", import_template, name="import-template"),
    path("imports/<int:pk>/", import_detail, name="import-detail"),
    path("imports/<int:pk>/start/", import_start, name="import-start"),
    path("imports/<int:pk>/progress/", import_progress, name="import-progress"),
    path("imports/<int:pk>/errors/", import_errors, name="import-errors"),
]
