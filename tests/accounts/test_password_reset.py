import re
import statistics
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from tests.accounts.conftest import SIGNUP, mailed_path, page
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = "Recolte-Automne-88!"


def ask_reset(client, email, callbacks):
    with callbacks(execute=True):
        return client.post("/compte/mot-de-passe-oublie/", {"email": email})


def test_known_and_unknown_addresses_get_the_same_answer(
    client, active_user, django_capture_on_commit_callbacks
):
    known = ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    unknown = ask_reset(client, "personne@example.fr", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/"
    assert page(Client().get("/")) == page(Client().get("/"))
    assert [m.to for m in mail.outbox] == [[active_user.email]]
    known_page = page(client.get("/"))
    assert "Si un compte existe avec cette adresse" in known_page


def test_reset_link_sets_a_new_password_signs_out_other_sessions_and_does_not_sign_in(
    client, active_user, django_capture_on_commit_callbacks
):
    other = Client()
    other.force_login(active_user)
    assert other.get("/compte/mon-compte/").status_code == 200

    ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    path = mailed_path("/compte/reinitialiser/")
    response = client.post(path, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/compte/connexion/"
    active_user.refresh_from_db()
    assert active_user.check_password(NEW)
    assert SESSION_KEY not in client.session
    assert other.get("/compte/mon-compte/").status_code == 302  # the other session ended
    assert client.get(path).status_code == 410


def test_reset_for_a_never_activated_account_sends_an_activation_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/creer/", SIGNUP)
    mail.outbox.clear()
    ask_reset(client, SIGNUP["email"], django_capture_on_commit_callbacks)
    path = mailed_path("/compte/activer/")
    client.post(path, {"new_password1": NEW, "new_password2": NEW})
    user = User.objects.get(email=SIGNUP["email"])
    assert user.is_active and user.activated_at


def test_deactivated_account_gets_no_reset_mail(client, active_user, django_capture_on_commit_callbacks):
    User.objects.filter(pk=active_user.pk).update(is_active=False)
    response = ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["", "pas-une-adresse", "a" * 300 + "@x.fr", "<script>@x.fr"])
def test_bad_address_gets_a_message(client, email):
    response = client.post("/compte/mot-de-passe-oublie/", {"email": email})
    assert response.status_code == 200
    assert "errorlist" in response.text


def test_reset_is_rate_limited_per_address_without_mail(
    client, active_user, django_capture_on_commit_callbacks
):
    for _ in range(5):
        ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    response = client.post(
        "/compte/mot-de-passe-oublie/", {"email": active_user.email}, REMOTE_ADDR="192.0.2.99"
    )
    assert response.status_code == 429
    assert mail.outbox == []


def request_work(client, email: str, ip: str) -> list[str]:
    """The SQL the request itself runs (deferred work runs after commit, in a task), literals masked."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/compte/mot-de-passe-oublie/", {"email": email}, REMOTE_ADDR=ip)
    assert response.status_code == 302
    literals = r"'(?:[^']|'')*'|\bs\d+_x\d+\b|\b\d+\b"  # strings, savepoint names, numbers
    return [re.sub(literals, "?", query["sql"]) for query in queries.captured_queries]


@pytest.mark.parametrize("state", ["active", "never_activated", "deactivated"])
def test_known_and_unknown_addresses_do_the_same_work_in_the_request(client, state):
    """No timing difference to measure: the request runs the same statements whatever the address; the
    lookup and the mail happen in a Celery task."""
    user = UserFactory(
        activated_at=None if state == "never_activated" else timezone.now(), is_active=state == "active"
    )
    assert request_work(client, user.email, "192.0.2.1") == request_work(
        client, "personne@example.fr", "192.0.2.2"
    )


def test_known_and_unknown_addresses_take_the_same_time(client):
    runs = 40
    users = UserFactory.create_batch(runs, activated_at=timezone.now())
    timings = {"known": [], "unknown": []}
    for n, user in enumerate(users):
        pair = [("known", user.email), ("unknown", f"personne{n}@example.fr")]
        for kind, email in pair if n % 2 else reversed(pair):  # neither always goes first
            start = time.perf_counter()
            response = client.post(
                "/compte/mot-de-passe-oublie/", {"email": email}, REMOTE_ADDR=f"10.{n}.{len(kind)}.1"
            )
            timings[kind].append(time.perf_counter() - start)
            assert response.status_code == 302
    # Paired: each known request is compared with the unknown one made next to it, under the same load from the
    # other processes of a busy machine. The bound is tolerant (the exact check is the test above, on the
    # statements run); the old code's known-address path was 20 to 40 % slower here.
    gap = statistics.median(k - u for k, u in zip(timings["known"], timings["unknown"], strict=True))
    typical = statistics.median(timings["known"] + timings["unknown"])
    assert abs(gap) <= max(0.0015, 0.2 * typical), (gap, typical)


def test_the_task_sends_the_reset_mail_after_commit(client, active_user, django_capture_on_commit_callbacks):
    from accounts.models import PasswordResetDemand

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post("/compte/mot-de-passe-oublie/", {"email": active_user.email})
    assert mail.outbox == []
    assert PasswordResetDemand.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert [m.to for m in mail.outbox] == [[active_user.email]]
    assert not PasswordResetDemand.objects.exists()  # the typed address is not kept


def test_the_sweep_handles_a_demand_whose_task_was_never_queued(
    client, active_user, django_capture_on_commit_callbacks
):
    from accounts.models import PasswordResetDemand
    from accounts.tasks import password_reset_sweep

    client.post(
        "/compte/mot-de-passe-oublie/", {"email": active_user.email}
    )  # callbacks dropped: broker down
    assert PasswordResetDemand.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert password_reset_sweep() == 0  # too recent: its task may still be on its way
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=2)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert password_reset_sweep() == 1
    assert [m.to for m in mail.outbox] == [[active_user.email]]
    assert not PasswordResetDemand.objects.exists()
