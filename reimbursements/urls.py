from django.urls import path

from reimbursements import bulk_views, views

app_name = "reimbursements"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("export.csv", views.request_export, name="export"),
    path("mes-clients/", bulk_views.portfolio_page, name="portfolio"),
    path("mes-clients/export.csv", bulk_views.portfolio_export_csv, name="portfolio_csv"),
    path("mes-clients/export.xlsx", bulk_views.portfolio_export_xlsx, name="portfolio_xlsx"),
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
