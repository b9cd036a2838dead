"""Refuse requests whose body is declared in another charset than UTF-8."""

from django.shortcuts import render


class Utf8RequestMiddleware:
    """A form posted as `charset=utf-16` (or any charset but UTF-8) made Django decode the body and the query
    string in that charset, and the error raised while reading them answered 500 on every URL. Every page of
    the portal is served in UTF-8, so a browser never sends anything else: such requests get a 400.

    The check runs in the request phase, before any view middleware (the CSRF check reads the body in
    `process_view`); it sits after the authentication middleware so that the page has the site's header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = (request.content_params or {}).get("charset")
        # Exactly "utf-8", as Django itself requires of form bodies (it refuses aliases such as "utf8").
        if charset is not None and charset.strip().lower() != "utf-8":
            return render(request, "chorus/bad_encoding.html", status=400)
        return self.get_response(request)
