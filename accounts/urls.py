from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import factor_views, token_views, views

app_name = "accounts"

urlpatterns = [
    path("creer/", views.signup, name="signup"),
    path("creer/message-envoye/", views.signup_done, name="signup_done"),
    path("activer/<str:key>/", views.activate, name="activate"),
    path("connexion/", views.login_view, name="login"),
    path("connexion/facteur/", views.login_factor, name="login_factor"),
    path("connexion/code/", views.login_code, name="login_code"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path("reinitialiser/<str:key>/", views.reset_confirm, name="reset_confirm"),
    path("mon-compte/", views.profile, name="profile"),
    path("mon-compte/mot-de-passe/", views.password_change, name="password_change"),
    path("mon-compte/adresse/", views.email_change, name="email_change"),
    path("confirmer-adresse/<str:key>/", views.email_change_confirm, name="email_change_confirm"),
    path("mon-compte/desactiver/", views.deactivate, name="deactivate"),
    path("mon-compte/facteurs/", factor_views.factor_list, name="factors"),
    path("mon-compte/facteurs/application/ajouter/", factor_views.totp_add, name="totp_add"),
    path("mon-compte/facteurs/codes-de-secours/", factor_views.backup_codes_show, name="backup_codes_show"),
    path(
        "mon-compte/facteurs/codes-de-secours/renouveler/",
        factor_views.backup_codes_regenerate,
        name="backup_codes_regenerate",
    ),
    path("mon-compte/facteurs/<slug:slug>/retirer/", factor_views.factor_remove, name="factor_remove"),
    path("mon-compte/acces-api/", token_views.token_list, name="api_tokens"),
    path("mon-compte/acces-api/nouveau-jeton/", token_views.token_created, name="api_token_created"),
    path("mon-compte/acces-api/<int:pk>/revoquer/", token_views.token_revoke, name="api_token_revoke"),
]
