"""Cross-cutting request handling that belongs to no app."""

from django.shortcuts import render

from chorus.storage import StorageUnavailable


class StorageUnavailableMiddleware:
    """A download (or any page) that needs the file storage while it is down answers 503 with a French page
    and a Retry-After, not 500: the load balancer and the user both know it is temporary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, StorageUnavailable):
            response = render(request, "503.html", status=503)
            response["Retry-After"] = "60"
            response["Cache-Control"] = "no-store"
            return response
        return None
