from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("claudia/", views.assistant, name="assistant"),
    path("claudia/<slug:node_id>/", views.assistant, name="assistant_node"),
    path("claudia/<slug:node_id>/avis/", views.assistant_feedback, name="assistant_feedback"),
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/envoyer/", views.ticket_create, name="ticket_create"),
    path("tickets/rattacher/<str:token>/", views.ticket_claim, name="ticket_claim"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/piece-jointe/", views.ticket_attachment, name="ticket_attachment"),
]
