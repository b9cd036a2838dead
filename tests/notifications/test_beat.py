from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings

from chorus import celery_app
from notifications.checks import unsubscribe_links_use_https
from notifications.tasks import reminders_daily
from tests.factories import MembershipFactory
from tests.notifications.conftest import CLOSES


def test_beat_runs_the_reminders_every_morning():
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-reminders"]
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == crontab(hour=7, minute=30)


@pytest.mark.django_db
def test_the_task_runs_the_day_and_reports_what_it_did(time_machine, django_capture_on_commit_callbacks):
    MembershipFactory(user__email="exploitant@example.fr", main_manager=True)
    time_machine.move_to(f"{CLOSES - timedelta(days=7)}T07:30:00+01:00", tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_daily.delay().get()

    assert result == {"created": 1, "mails": 1, "digests": 0, "skipped": 0}


@pytest.mark.parametrize(
    ("production", "site", "warned"),
    [
        (True, "http://chorus.example", True),
        (True, "https://chorus.example", False),
        (False, "http://127.0.0.1:8000", False),
    ],
)
def test_production_warns_when_unsubscribe_links_would_not_be_https(settings, production, site, warned):
    settings.IS_PRODUCTION, settings.SITE_URL = production, site
    assert [w.id for w in unsubscribe_links_use_https(None)] == (["notifications.W001"] if warned else [])
