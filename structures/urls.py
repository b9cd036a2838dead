from django.urls import path

from structures import views

app_name = "structures"

urlpatterns = [
    path("", views.index, name="index"),
    path("structures/recherche/", views.search, name="search"),
    path("structures/creer/", views.structure_create, name="create"),
    path("structures/gerer/", views.manage, name="manage"),
    path("structures/<int:pk>/modifier/", views.update, name="update"),
    path("structures/<int:pk>/membres/", views.members, name="members"),
    path(
        "structures/<int:pk>/membres/<int:membership_pk>/gestionnaire-principal/",
        views.member_transfer,
        name="member_transfer",
    ),
    path(
        "structures/<int:pk>/membres/<int:membership_pk>/detacher/",
        views.member_detach,
        name="member_detach",
    ),
    path("structures/<int:pk>/services/", views.service_list, name="service_list"),
    path(
        "structures/<int:pk>/services/<int:service_pk>/basculer/",
        views.service_toggle,
        name="service_toggle",
    ),
    path("coordonnees-bancaires/", views.bank_account_list, name="bank_account_list"),
    path("coordonnees-bancaires/creer/", views.bank_account_create, name="bank_account_create"),
    path(
        "coordonnees-bancaires/<int:pk>/desactiver/",
        views.bank_account_deactivate,
        name="bank_account_deactivate",
    ),
    path("coordonnees-bancaires/<int:pk>/rib/", views.bank_account_rib, name="bank_account_rib"),
]
