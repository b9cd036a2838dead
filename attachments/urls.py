from django.urls import path

from attachments import views

app_name = "attachments"

urlpatterns = [
    path("", views.membership_list, name="membership_list"),
    path("demander/", views.request_create, name="request_create"),
    path("demander/plusieurs/", views.request_bulk, name="request_bulk"),
    path("historique/", views.history, name="history"),
    path("historique/<int:pk>/", views.history_detail, name="history_detail"),
    path("historique/<int:pk>/annuler/", views.history_cancel, name="history_cancel"),
    path("approbations/", views.approval_list, name="approval_list"),
    path("approbations/approuver/", views.approval_bulk_approve, name="approval_bulk_approve"),
    path("approbations/<int:pk>/", views.approval_detail, name="approval_detail"),
]
