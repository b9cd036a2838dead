from captcha import views as captcha_views
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path

from accounts import views as accounts_views
from chorus import health, observability, views
from support import views as support_views

# django-simple-captcha's views, reachable by visitors despite LoginRequiredMiddleware.
captcha_patterns = [
    re_path(
        r"image/(?P<key>\w+)/$",
        login_not_required(captcha_views.captcha_image),
        name="captcha-image",
        kwargs={"scale": 1},
    ),
    re_path(
        r"image/(?P<key>\w+)@2/$",
        login_not_required(captcha_views.captcha_image),
        name="captcha-image-2x",
        kwargs={"scale": 2},
    ),
    # Our view, not the library's: it reads the letters in French (accounts/captcha_audio.py).
    re_path(r"audio/(?P<key>\w+)\.wav$", accounts_views.captcha_audio, name="captcha-audio"),
    re_path(r"refresh/$", login_not_required(captcha_views.captcha_refresh), name="captcha-refresh"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("conditions-generales-d-utilisation/", views.terms, name="terms"),
    path("nous-contacter/", support_views.contact, name="contact"),
    path("compte/", include("accounts.urls")),
    path("organisation/", include("structures.urls")),
    path("rattachements/", include("attachments.urls")),
    path("remboursements/", include("reimbursements.urls")),
    path("aide/", include("support.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include(("api.urls", "ninja"), namespace="api-v1")),
    path("captcha/", include(captcha_patterns)),
    path("admin/", admin.site.urls),
    path("sante/vivant", health.live, name="health_live"),
    path("sante/pret", health.ready, name="health_ready"),
    path("metriques", observability.metrics, name="metrics"),
]
