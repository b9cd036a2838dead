from django.urls import path

from reimbursements import bulk_views, views

app_name = "reimbursements"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("export.csv", views.request_export, name="export"),
    path("mes-clients/", bulk_views.portfolio_page, name="portfolio"),
    path("mes-clients/export.csv", bulk_views.portfolio_export_csv, name="portfolio_csv"),
    path("mes-clients/export.xlsx", bulk_views.portfolio_export_xlsx, name="portfolio_xlsx"),
    path("mes-clients/deposer/", bulk_views.portfolio_file, name="portfolio_file"),
    path("importer/", bulk_views.import_page, name="import"),
    path("importer/modele.csv", bulk_views.import_template, {"extension": "csv"}, name="import_template_csv"),
    path(
        "importer/modele.xlsx", bulk_views.import_template, {"extension": "xlsx"}, name="import_template_xlsx"
    ),
    path("importer/<int:pk>/", bulk_views.import_job, name="import_job"),
    path("importer/<int:pk>/importer/", bulk_views.import_job_start, name="import_job_start"),
    path("importer/<int:pk>/deposer/", bulk_views.import_job_file, name="import_job_file"),
    path("importer/<int:pk>/rapport.csv", bulk_views.import_job_report, name="import_job_report"),
    path("nouvelle/", views.request_create, name="create"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/en-tete/", views.request_header, name="header"),
    path("<int:pk>/deposer/", views.request_file, name="file"),
    path("<int:pk>/accuse-de-depot.pdf", views.request_receipt, name="receipt"),
    path("<int:pk>/lignes/ajouter/", views.line_create, name="line_create"),
    path("<int:pk>/lignes/estimation/", views.line_estimate, name="line_estimate"),
    path("<int:pk>/lignes/<int:line_pk>/", views.line_update, name="line_update"),
    path("<int:pk>/lignes/<int:line_pk>/supprimer/", views.line_delete, name="line_delete"),
    path("<int:pk>/lignes/<int:line_pk>/facture/", views.line_invoice, name="line_invoice"),
]
