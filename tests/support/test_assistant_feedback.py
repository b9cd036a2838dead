import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from support.models import AssistantAnswerStat
from tests.conftest import requires_postgresql, verify_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ANSWER = "mail_activation"


def vote(client, answer, node=ANSWER, **headers):
    return client.post(reverse("support:assistant_feedback", args=[node]), {"avis": answer}, headers=headers)


def test_yes_is_counted_and_thanked(client):
    response = vote(client, "oui")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "ravie d'avoir pu vous aider" in page.text.replace("&#x27;", "'")
    assert AssistantAnswerStat.objects.filter(node=ANSWER, helpful=1, not_helpful=0).exists()


def test_no_is_counted_and_leads_to_contact(client):
    response = vote(client, "non")
    page = client.get(response["Location"])
    assert f'href="{reverse("contact")}"' in page.text
    assert "Nous contacter" in page.text
    assert "Cette réponse vous a-t-elle aidé ?" not in page.text
    assert AssistantAnswerStat.objects.get(node=ANSWER).not_helpful == 1


def test_a_second_vote_from_the_same_session_is_not_counted(client):
    vote(client, "non")
    vote(client, "non")
    vote(client, "oui")
    stat = AssistantAnswerStat.objects.get(node=ANSWER)
    assert (stat.helpful, stat.not_helpful) == (0, 1)


def test_votes_from_different_visitors_add_up(client_factory):
    for answer in ["oui", "non", "non"]:
        vote(client_factory(), answer)
    stat = AssistantAnswerStat.objects.get(node=ANSWER)
    assert (stat.helpful, stat.not_helpful) == (1, 2)


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


@pytest.mark.parametrize("answer", ["", "peut-être", "<script>alert(1)</script>"])
def test_an_answer_other_than_yes_or_no_gets_a_message_and_counts_nothing(client, answer):
    response = vote(client, answer)
    assert response.status_code == 400
    assert "Répondez par « Oui » ou par « Non »." in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert not AssistantAnswerStat.objects.exists()


def test_questions_that_are_not_answers_take_no_vote(client):
    assert vote(client, "oui", node="connexion").status_code == 404
    assert vote(client, "oui", node="inconnu").status_code == 404
    assert not AssistantAnswerStat.objects.exists()


def test_dialog_gets_the_conversation_without_the_page(client):
    response = client.get(reverse("support:assistant_node", args=[ANSWER]), headers={"X-Assistant": "dialog"})
    assert "<html" not in response.text
    assert "Cette réponse vous a-t-elle aidé ?" in response.text
    assert "X-Assistant" in response["Vary"]
    response = vote(client, "non", **{"X-Assistant": "dialog"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Nous contacter" in response.text


def test_page_without_javascript_is_a_full_page(client):
    response = client.get(reverse("support:assistant"))
    assert '<html lang="fr">' in response.text
    assert "<h1>Claudia, votre assistante virtuelle</h1>" in response.text
    assert "Je rencontre des problèmes à la connexion" in response.text


def test_votes_are_rate_limited_per_address(client_factory):
    for _ in range(60):
        assert vote(client_factory(), "oui").status_code == 302
    assert vote(client_factory(), "oui").status_code == 429
    assert AssistantAnswerStat.objects.get(node=ANSWER).helpful == 60


def test_support_staff_see_which_answers_fail_in_admin(client):
    AssistantAnswerStat.objects.create(node=ANSWER, helpful=1, not_helpful=3)
    AssistantAnswerStat.objects.create(node="ancienne_reponse", helpful=2, not_helpful=0)
    staff = UserFactory(staff=True)
    staff.groups.add(Group.objects.get(name="Support"))
    verify_session(client, staff)
    response = client.get(reverse("admin:support_assistantanswerstat_changelist"))
    assert response.status_code == 200
    text = response.text.replace("&#x27;", "'")
    assert "Je n'ai pas reçu le mail d'activation" in text
    assert "75 %" in text
    assert "ancienne_reponse (retirée de l'arbre)" in text


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_votes_on_one_answer_are_all_counted():
    import threading

    from django.db import connection

    from support.services import assistant_feedback_record

    barrier = threading.Barrier(4)
    errors = []

    def cast(helpful):
        try:
            barrier.wait()
            assistant_feedback_record(node="code_connexion", helpful=helpful)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=cast, args=(helpful,)) for helpful in [True, True, False, False]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stat = AssistantAnswerStat.objects.get(node="code_connexion")
    assert (stat.helpful, stat.not_helpful) == (2, 2)
