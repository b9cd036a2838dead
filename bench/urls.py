"""The portal's URLs plus `/bare/`: a Django view with one query and no template, the yardstick that tells
the framework's and the machine's share of a page's time from our own."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path

from accounts.models import User


@login_not_required
def bare(request):
    return HttpResponse(f"{User.objects.filter(pk=1).exists()}", content_type="text/plain")


urlpatterns = [path("bare/", bare), path("", include("chorus.urls"))]
