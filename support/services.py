"""Every write of the support app: tickets, support answers, assistant feedback."""

from datetime import timedelta

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from chorus.outbox.services import mail_queue
from chorus.storage import PendingFiles, StorageUnavailable
from support.models import AssistantAnswerStat, SupportReply, SupportTicket

Status = SupportTicket.Status

# Nouveau → En cours → Résolu; a ticket never goes back.
STATUS_NEXT = {
    Status.NEW: {Status.IN_PROGRESS, Status.RESOLVED},
    Status.IN_PROGRESS: {Status.RESOLVED},
    Status.RESOLVED: set(),
}


# A visitor's ticket joins the account of the address it was sent from only when the link mailed there is used:
# typing someone's address does not put a ticket (and its attachment) in their « Mes tickets ».
TICKET_CLAIM_SALT = "support.ticket-claim"
TICKET_CLAIM_VALIDITY = timedelta(days=7)


class SupportError(Exception):
    """A refused support action; the message is French and shown to the user."""


def ticket_create(
    *,
    user: User | None,
    situation: str,
    subject: str,
    message: str,
    email: str = "",
    attachment: UploadedFile | None = None,
) -> SupportTicket:
    """Record a ticket, give it its number and queue the acknowledgement mail. A signed-in user's ticket is
    answered at their login address, the one address of theirs the portal has verified (the contact address
    of « Mon compte » is typed freely: a ticket could mail anyone through it); `email` is the address a
    visitor typed. The acknowledgement repeats nothing the sender wrote (it may reach someone else's mailbox)."""
    if user is None and situation != SupportTicket.Situation.CONNECTION:
        raise SupportError("Sans être connecté, seul un « Problème de connexion » peut être signalé.")
    if user is not None:
        email = user.email
    elif not email:
        raise SupportError("Indiquez l'adresse électronique à laquelle vous répondre.")
    try:
        with PendingFiles() as files, transaction.atomic():
            ticket = SupportTicket(
                user=user,
                email=email,
                situation=situation,
                subject=subject,
                message=message,
                attachment_name=getattr(attachment, "original_name", "")[:255] if attachment else "",
            )
            if attachment:
                # Stored before the row, deleted again if the ticket is not committed.
                files.store(ticket.attachment, attachment)
            ticket.save()
            ticket.number = f"SUP-{timezone.localtime(ticket.created_at):%Y}-{ticket.pk:06d}"
            ticket.save(update_fields=["number"])
            mail_queue(
                to=[ticket.email],
                template="support/emails/ticket_received",
                context={"ticket": ticket, "claim_token": "" if user else ticket_claim_token(ticket)},
            )
    except StorageUnavailable as exc:
        raise SupportError(exc.message) from exc
    return ticket


def ticket_claim_token(ticket: SupportTicket) -> str:
    """The signed key of the link that attaches a visitor's ticket to the account of its address."""
    return signing.dumps({"ticket": ticket.pk, "email": ticket.email.lower()}, salt=TICKET_CLAIM_SALT)


def ticket_claim_read(token: str) -> SupportTicket:
    """The visitor's ticket behind a mailed link, or SupportError when the link is malformed or expired."""
    try:
        payload = signing.loads(token, salt=TICKET_CLAIM_SALT, max_age=TICKET_CLAIM_VALIDITY)
        ticket = SupportTicket.objects.filter(pk=payload["ticket"], email__iexact=payload["email"]).first()
    except (signing.BadSignature, KeyError, TypeError) as exc:
        raise SupportError("Ce lien n'est pas valide ou a expiré.") from exc
    if ticket is None:
        raise SupportError("Ce lien n'est pas valide ou a expiré.")
    return ticket


def ticket_claim(*, token: str) -> SupportTicket:
    """Attach a visitor's ticket to the account whose login address it was sent from (activated or not: the
    ticket is often about a missing activation mail). Whoever holds the link reads that mailbox."""
    ticket = ticket_claim_read(token)
    with transaction.atomic():
        ticket = SupportTicket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
        if ticket.user_id is not None:
            return ticket
        owner = User.objects.filter(email=ticket.email.strip().lower()).first()
        if owner is None:
            raise SupportError(
                f"Aucun compte Chorus Agri n'utilise l'adresse {ticket.email} : le ticket n'est rattaché à "
                "aucun compte. La réponse du support vous parviendra à cette adresse."
            )
        ticket.user = owner
        ticket.save(update_fields=["user", "updated_at"])
    return ticket


def ticket_status_check(*, current: str, new: str) -> None:
    """Raise SupportError unless `current` → `new` follows Nouveau → En cours → Résolu."""
    if new != current and new not in STATUS_NEXT[Status(current)]:
        raise SupportError(
            f"Un ticket « {Status(current).label} » ne peut pas revenir à « {Status(new).label} » "
            "(Nouveau → En cours → Résolu)."
        )


def ticket_answer(
    *, ticket_id: int, author: User, body: str = "", status: str | None = None
) -> SupportTicket:
    """Support's action on a ticket: an optional answer (mailed to the ticket's address and shown in
    « Mes tickets ») and an optional status change. Answering a new ticket puts it « En cours »."""
    body = body.strip()
    with transaction.atomic():
        ticket = SupportTicket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
        new_status = status or ticket.status
        if body and new_status == Status.NEW:
            new_status = Status.IN_PROGRESS
        ticket_status_check(current=ticket.status, new=new_status)
        if not body and new_status == ticket.status:
            return ticket
        reply = SupportReply.objects.create(ticket=ticket, author=author, body=body) if body else None
        ticket.status = new_status
        ticket.save(update_fields=["status", "updated_at"])
        if reply:
            mail_queue(
                to=[ticket.email],
                template="support/emails/ticket_answered",
                context={"ticket": ticket, "reply": reply},
            )
    return ticket


def assistant_feedback_record(*, node: str, helpful: bool) -> None:
    """Count one « Oui » or « Non » for an answer of the assistant."""
    counter = "helpful" if helpful else "not_helpful"
    with transaction.atomic():
        # get_or_create retries the read when another first vote created the row at the same moment.
        AssistantAnswerStat.objects.get_or_create(node=node)
        AssistantAnswerStat.objects.filter(node=node).update(**{counter: F(counter) + 1})
