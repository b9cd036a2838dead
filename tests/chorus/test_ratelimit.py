from django.test import RequestFactory

from chorus.ratelimit import client_ip, exceeded, too_many_requests, value_key


def make_request(ip="203.0.113.7", forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


def test_limit_counts_per_ip_and_per_value():
    limits = {"ip": ("ip", "3/h"), "email": (value_key("anne@example.fr"), "2/h")}
    assert [exceeded(make_request(), "signup", limits) for _ in range(3)] == [False, False, True]
    # Another IP, same address: the per-address limit still holds.
    assert exceeded(make_request("198.51.100.1"), "signup", limits) is True
    # Another IP and another address: free.
    other = {"ip": ("ip", "3/h"), "email": (value_key("paul@example.fr"), "2/h")}
    assert exceeded(make_request("198.51.100.1"), "signup", other) is False


def test_groups_do_not_share_counters():
    limits = {"ip": ("ip", "1/h")}
    assert exceeded(make_request(), "signin", limits) is False
    assert exceeded(make_request(), "reset", limits) is False


def test_client_ip_ignores_forwarded_header_unless_proxies_are_trusted(settings):
    request = make_request("10.0.0.5", forwarded="1.2.3.4, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the client's own "1.2.3.4" is not trusted


def test_limited_request_gets_a_french_429_page(db):
    request = make_request()
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = too_many_requests(request)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
