from django.urls import path

from attachments import views

app_name = "attachments"

urlpatterns = [
    path("demander/", views.request_create, name="request_create"),
]
