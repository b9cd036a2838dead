"""Views for users with many clients: « Mes clients » (portfolio, exports) and « Importer des lignes »."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from chorus.spreadsheets import csv_response, xlsx_response
from reimbursements import portfolio
from reimbursements.bulk_forms import PortfolioFilterForm

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
