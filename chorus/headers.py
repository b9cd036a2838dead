"""Response headers added to every page (defence in depth)."""

from django.utils.cache import add_never_cache_headers


class PrivatePagesNotStoredMiddleware:
    """A signed-in page (bank details, refund requests, tickets) must not be kept by the browser's cache or a
    proxy: after sign-out on a shared computer, « Précédent » would show it again. Responses that set their
    own Cache-Control (downloads, static files) keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
