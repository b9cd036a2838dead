"""Views for users with many clients: « Mes clients » (portfolio, exports) and « Importer des lignes »."""

import secrets

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from chorus.spreadsheets import csv_response, xlsx_response
from chorus.storage import PendingFiles, StorageUnavailable
from reimbursements import import_files, import_services, portfolio, tasks
from reimbursements.bulk_forms import ImportConfirmForm, ImportUploadForm, PortfolioFilterForm
from reimbursements.import_models import ImportJob
from reimbursements.models import EnergyProduct

PORTFOLIO_PAGE_SIZE = 50


def _portfolio_query(request):
    today = timezone.localdate()
    columns = portfolio.campaign_columns(today=today)
    form = PortfolioFilterForm(request.GET or None, years=[c.campaign.year for c in columns])
    filters = form.filters()
    if filters.year:
        columns = [c for c in columns if c.campaign.year == filters.year]
    campaigns = [c.campaign for c in columns]
    clients = portfolio.clients(user=request.user, campaigns=campaigns, filters=filters)
    return form, columns, campaigns, clients


@require_safe
def portfolio_page(request):
    form, columns, campaigns, clients = _portfolio_query(request)
    page = Paginator(clients, PORTFOLIO_PAGE_SIZE).get_page(request.GET.get("page"))
    totals = portfolio.totals(
        clients_queryset=clients, client_count=page.paginator.count, campaigns=campaigns
    )
    return render(
        request,
        "reimbursements/portfolio.html",
        {
            "form": form,
            "columns": columns,
            "page": page,
            "rows": portfolio.rows(page.object_list, campaigns),
            "totals": totals,
            "bars": portfolio.chart_bars(totals.per_campaign),
            "chart": {"width": portfolio.CHART_WIDTH, "height": portfolio.CHART_HEIGHT},
        },
    )


def _export_name(extension: str) -> str:
    return f"mes-clients-{timezone.localdate():%Y-%m-%d}.{extension}"


@require_safe
def portfolio_export_csv(request):
    _, _, campaigns, clients = _portfolio_query(request)
    return csv_response(
        _export_name("csv"), portfolio.EXPORT_HEADER, portfolio.export_rows(clients, campaigns)
    )


@require_safe
def portfolio_export_xlsx(request):
    _, _, campaigns, clients = _portfolio_query(request)
    return xlsx_response(
        _export_name("xlsx"),
        portfolio.EXPORT_HEADER,
        portfolio.export_rows(clients, campaigns),
        title="Mes clients",
    )


@require_POST
def portfolio_file(request):
    """« Déposer les demandes complètes » for every client: a filing job, then its page."""
    try:
        job = import_services.filing_job_create(user=request.user)
    except import_services.BulkError as exc:
        messages.info(request, str(exc))
        return redirect("reimbursements:portfolio")
    tasks.import_job_enqueue(job)
    return redirect("reimbursements:import_job", pk=job.pk)


# --- « Importer des lignes » ---------------------------------------------------------------------------

RECENT_JOBS = 10
# A 10,000-row job carries megabytes of verdicts: lists and the progress poll don't load them.
HEAVY_FIELDS = ("rows", "results", "request_ids")
ERROR_ROWS_SHOWN = 200


@require_http_methods(["GET", "POST"])
def import_page(request):
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            lines, archive = form.cleaned_data["lines_file"], form.cleaned_data["archive"]
            job = ImportJob(
                user=request.user,
                lines_original_name=lines.name[:255],
                archive_original_name=archive.name[:255],
                total=form.row_count,
            )
            # Stored through Django's storage API under random names (private files, local or S3), and
            # deleted again if the job row is not committed.
            lines.name, archive.name = f"{secrets.token_urlsafe(24)}.dat", f"{secrets.token_urlsafe(24)}.zip"
            try:
                with PendingFiles() as files, transaction.atomic():
                    files.store(job.lines_file, lines)
                    files.store(job.archive, archive)
                    job.save()
                    tasks.import_job_enqueue(job)
            except StorageUnavailable as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("reimbursements:import_job", pk=job.pk)
    else:
        form = ImportUploadForm()
    return render(
        request,
        "reimbursements/import.html",
        {
            "form": form,
            "jobs": ImportJob.objects.filter(user=request.user).defer(*HEAVY_FIELDS)[:RECENT_JOBS],
            "products": EnergyProduct.objects.filter(rates__isnull=False).distinct().order_by("position"),
        },
    )


TEMPLATE_EXAMPLE = [
    ["12345678900012", "2023", "FAC-2023-001", "15/03/2023", "gnr", "1250,5", "FAC-2023-001.pdf"],
]


@require_safe
def import_template(request, extension):
    name = f"modele-import-lignes.{extension}"
    if extension == "xlsx":
        return xlsx_response(name, import_files.TEMPLATE_HEADER, TEMPLATE_EXAMPLE, title="Lignes")
    return csv_response(name, import_files.TEMPLATE_HEADER, TEMPLATE_EXAMPLE)


def _job(request, pk) -> ImportJob:
    return get_object_or_404(ImportJob.objects.filter(user=request.user), pk=pk)


@require_safe
def import_job(request, pk):
    job = get_object_or_404(ImportJob.objects.filter(user=request.user).defer(*HEAVY_FIELDS), pk=pk)
    if job.is_running:
        context = {"job": job}
        if request.htmx:
            return render(request, "reimbursements/_import_job.html", context)
        return render(request, "reimbursements/import_job.html", context)
    context = {
        "job": job,
        "error_rows": job.error_rows[:ERROR_ROWS_SHOWN],
        "counts": {outcome: job.count(outcome) for outcome in import_services.OUTCOME_LABELS},
        "confirm_form": ImportConfirmForm(),
        "error_rows_shown": ERROR_ROWS_SHOWN,
        "results": sorted(job.results, key=lambda r: r["filed"])[:ERROR_ROWS_SHOWN],
        "filed_count": sum(1 for r in job.results if r["filed"]),
        "not_filed_count": sum(1 for r in job.results if not r["filed"]),
    }
    if request.htmx:
        return render(request, "reimbursements/_import_job.html", context)
    return render(request, "reimbursements/import_job.html", context)


@require_POST
def import_job_start(request, pk):
    job = _job(request, pk)
    form = ImportConfirmForm(request.POST)
    form.is_valid()
    try:
        job = import_services.import_start(
            job_id=job.pk,
            user=request.user,
            not_in_difficulty=form.cleaned_data.get("not_in_difficulty", False),
        )
    except import_services.BulkError as exc:
        messages.error(request, str(exc))
    else:
        tasks.import_job_enqueue(job)
    return redirect("reimbursements:import_job", pk=pk)


@require_POST
def import_job_file(request, pk):
    job = _job(request, pk)
    try:
        job = import_services.filing_start(job_id=job.pk, user=request.user)
    except import_services.BulkError as exc:
        messages.error(request, str(exc))
    else:
        tasks.import_job_enqueue(job)
    return redirect("reimbursements:import_job", pk=pk)


REPORT_HEADER = [
    "Ligne",
    "SIRET",
    "Structure",
    "Année",
    "Numéro de facture",
    "Date de livraison",
    "Produit",
    "Quantité",
    "Fichier de la facture",
    "Résultat",
    "Détail",
]
FILING_REPORT_HEADER = ["SIRET", "Structure", "Année", "Déposée", "Numéro", "Ce qui empêche le dépôt"]


@require_safe
def import_job_report(request, pk):
    job = _job(request, pk)
    name = f"rapport-import-{job.pk}.csv"
    if job.kind == ImportJob.Kind.FILING or job.status == ImportJob.Status.FILED:
        rows = (
            [
                r["siret"],
                r["structure"],
                r["year"],
                "oui" if r["filed"] else "non",
                r["number"],
                " ".join(r["problems"]),
            ]
            for r in job.results
        )
        return csv_response(f"rapport-depot-{job.pk}.csv", FILING_REPORT_HEADER, rows)
    rows = (
        [
            r["number"],
            r["siret"],
            r["name"],
            r["year"],
            r["invoice_number"],
            r["delivery_date"],
            r["product"],
            r["quantity"],
            r["invoice_file"],
            import_services.OUTCOME_LABELS[r["outcome"]],
            r["message"],
        ]
        for r in job.rows
    )
    return csv_response(name, REPORT_HEADER, rows)
