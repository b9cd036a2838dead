from django.conf import settings


def portal(request):
    return {"portal_name": "Chorus Agri", "site_url": settings.SITE_URL}
