"""Writes of the notifications app: the daily reminders run, preferences and one-click unsubscribe."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from attachments.models import AttachmentRequest
from chorus.outbox.services import mail_queue_many, mail_render
from notifications.models import Digest, Kind, OptOut, Reminder
from notifications.selectors import reminders_due
from reimbursements.models import Advance, Campaign, RefundRequest
from structures.models import Membership

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
# The digest's unsubscribe link switches every kind off at once.
ALL_KINDS = "all"
INSERT_BATCH = 1000


class InvalidUnsubscribeLink(Exception):
    pass


# One-click unsubscribe (RFC 8058): a signed (user, kind) pair, so the link works without signing in, cannot
# be forged, and cannot switch off anything for another user.


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps([user_id, kind], salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    token = unsubscribe_token(user_id=user_id, kind=kind)
    return settings.SITE_URL + reverse("notifications:unsubscribe", kwargs={"token": token})


def unsubscribe_headers(*, user_id: int, kind: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user_id=user_id, kind=kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_token_read(token: str) -> tuple:
    """The account and the kinds a link switches off; InvalidUnsubscribeLink when tampered with."""
    try:
        user_id, kind = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidUnsubscribeLink from exc
    if kind == ALL_KINDS:
        kinds = list(Kind.values)
    elif kind in Kind.values:
        kinds = [kind]
    else:
        raise InvalidUnsubscribeLink
    user = get_user_model().objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if user is None:
        raise InvalidUnsubscribeLink
    return user, kinds


def notifications_opt_out(*, user, kinds: list[str]) -> None:
    """Switch kinds off; idempotent (a mail client may POST the one-click link more than once)."""
    OptOut.objects.bulk_create([OptOut(user=user, kind=kind) for kind in kinds], ignore_conflicts=True)


@transaction.atomic
def notification_preferences_update(*, user, enabled: set[str]) -> None:
    OptOut.objects.filter(user=user, kind__in=enabled).delete()
    notifications_opt_out(user=user, kinds=[kind for kind in Kind.values if kind not in enabled])


# The daily run.


@dataclass(frozen=True)
class RunSummary:
    created: int
    mails: int
    digests: int
    skipped: int


def reminders_send_due(*, today: date | None = None) -> RunSummary:
    """Insert every reminder due `today` (unique rows: what an earlier or concurrent run inserted is skipped),
    then mail what is pending, in one transaction: a concurrent run waits on the unique index until this
    one commits, then finds nothing new; a failure rolls everything back and the next run starts over."""
    today = today or timezone.localdate()
    batch = uuid.uuid4()
    with transaction.atomic():
        created = _insert_due(today, batch)
        mails, digests, skipped = _deliver_pending(today, batch)
    return RunSummary(created=created, mails=mails, digests=digests, skipped=skipped)


def _insert_due(today: date, batch: uuid.UUID) -> int:
    chunk = []
    for due in reminders_due(today):
        chunk.append(
            Reminder(
                recipient_id=due.recipient_id,
                kind=due.kind,
                structure_id=due.structure_id,
                object_id=due.object_id,
                occasion=due.occasion,
                batch=batch,
            )
        )
        if len(chunk) >= INSERT_BATCH:
            Reminder.objects.bulk_create(chunk, ignore_conflicts=True)
            chunk = []
    Reminder.objects.bulk_create(chunk, ignore_conflicts=True)
    return Reminder.objects.filter(batch=batch).count()


@dataclass
class Item:
    """One line of a reminder mail, with what its template needs."""

    reminder: Reminder
    url: str
    campaign: Campaign | None = None
    days_left: int | None = None
    draft: RefundRequest | None = None
    refund_request: RefundRequest | None = None
    since: date | None = None
    attachment_request: AttachmentRequest | None = None
    for_requester: bool = False
    main_manager: object = None
    advance: Advance | None = None
    deadline: date | None = None

    @property
    def kind(self) -> str:
        return self.reminder.kind

    @property
    def kind_label(self) -> str:
        return self.reminder.get_kind_display()

    @property
    def structure(self):
        return self.reminder.structure


def _deliver_pending(today: date, batch: uuid.UUID) -> tuple[int, int, int]:
    # Rows another run is delivering right now are locked: skip them rather than wait and send twice.
    pending = list(
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(state=Reminder.State.PENDING)
        .select_related("recipient", "structure")
        .order_by("recipient_id", "kind", "structure__name", "pk")
    )
    if not pending:
        return 0, 0, 0
    recipient_ids = {r.recipient_id for r in pending}
    opted_out = set(OptOut.objects.filter(user_id__in=recipient_ids).values_list("user_id", "kind"))
    skipped = [r.pk for r in pending if not r.recipient.is_active or (r.recipient_id, r.kind) in opted_out]
    Reminder.objects.filter(pk__in=skipped).update(state=Reminder.State.SKIPPED)
    skipped_ids = set(skipped)
    live = [r for r in pending if r.pk not in skipped_ids]
    items = _items(live, today)
    # A reminder whose object disappeared (a deleted draft…) has nothing left to say.
    shown = {item.reminder.pk for item in items}
    vanished = [r.pk for r in live if r.pk not in shown]
    Reminder.objects.filter(pk__in=vanished).update(state=Reminder.State.SKIPPED)

    firms = set(
        Membership.objects.filter(user_id__in={r.recipient_id for r in live}, is_active=True)
        .values("user_id")
        .annotate(structures=Count("pk"))
        .filter(structures__gt=settings.NOTIFICATIONS_DIGEST_ABOVE)
        .values_list("user_id", flat=True)
    )
    by_recipient = defaultdict(list)
    for item in items:
        by_recipient[item.reminder.recipient_id].append(item)

    Digest.objects.bulk_create(
        [
            Digest(recipient_id=user_id, day=today, batch=batch)
            for user_id in firms
            if user_id in by_recipient
        ],
        ignore_conflicts=True,
    )
    # A firm that already had today's digest gets these items in tomorrow's.
    digests = {d.recipient_id: d for d in Digest.objects.filter(batch=batch)}

    outgoing = []  # (mail, its items, the digest it is)
    for user_id, user_items in by_recipient.items():
        recipient = user_items[0].reminder.recipient
        if user_id in firms:
            if user_id in digests:
                mail = _render(recipient, "notifications/emails/digest", ALL_KINDS, user_items, today)
                outgoing.append((mail, user_items, digests[user_id]))
            continue
        by_kind = defaultdict(list)
        for item in user_items:
            by_kind[item.kind].append(item)
        for kind, kind_items in by_kind.items():
            outgoing.append(
                (
                    _render(recipient, f"notifications/emails/{kind}", kind, kind_items, today),
                    kind_items,
                    None,
                )
            )
    mail_queue_many([mail for mail, _, _ in outgoing])

    now = timezone.now()
    sent = []
    for mail, items, digest in outgoing:
        sent += _sent(items, mail, now)
        if digest is not None:
            digest.mail = mail
    Reminder.objects.bulk_update(sent, ["state", "mail", "sent_at"], batch_size=500)
    Digest.objects.bulk_update(digests.values(), ["mail"])
    return len(outgoing), len(digests), len(skipped) + len(vanished)


def _render(recipient, template: str, kind: str, items: list[Item], today: date):
    return mail_render(
        to=[recipient.email],
        template=template,
        context={
            "recipient": recipient,
            "items": items,
            "today": today,
            "unsubscribe_url": unsubscribe_url(user_id=recipient.pk, kind=kind),
            "kind_label": Kind(kind).label if kind != ALL_KINDS else "",
        },
        headers=unsubscribe_headers(user_id=recipient.pk, kind=kind),
    )


def _sent(items: list[Item], mail, now) -> list[Reminder]:
    for item in items:
        item.reminder.state, item.reminder.mail, item.reminder.sent_at = Reminder.State.SENT, mail, now
    return [item.reminder for item in items]


def _items(reminders: list[Reminder], today: date) -> list[Item]:
    """What each reminder's line shows, loaded in a fixed number of queries whatever the count."""
    ids = defaultdict(set)
    for reminder in reminders:
        ids[reminder.kind].add(reminder.object_id)
    campaign_ids = ids[Kind.CAMPAIGN_OPEN] | ids[Kind.CAMPAIGN_CLOSING]
    campaigns = Campaign.objects.in_bulk(campaign_ids)
    drafts = {}
    if ids[Kind.CAMPAIGN_CLOSING]:
        structure_ids = {r.structure_id for r in reminders if r.kind == Kind.CAMPAIGN_CLOSING}
        for draft in RefundRequest.objects.filter(
            status=RefundRequest.Status.DRAFT,
            campaign_id__in=ids[Kind.CAMPAIGN_CLOSING],
            structure_id__in=structure_ids,
        ).only("pk", "structure_id", "campaign_id"):
            drafts[draft.structure_id, draft.campaign_id] = draft
    refund_requests = RefundRequest.objects.select_related("campaign").in_bulk(ids[Kind.REQUEST_TO_COMPLETE])
    attachment_requests = AttachmentRequest.objects.select_related("requester").in_bulk(
        ids[Kind.ATTACHMENT_PENDING]
    )
    advances = Advance.objects.select_related("offer").in_bulk(ids[Kind.ADVANCE_TO_REGULARISE])
    main_managers = {
        m.structure_id: m.user
        for m in Membership.objects.filter(
            structure_id__in={a.structure_id for a in attachment_requests.values()},
            role=Membership.Role.MAIN_MANAGER,
            is_active=True,
        ).select_related("user")
    }

    items = []
    for reminder in reminders:
        item = None
        if reminder.kind in (Kind.CAMPAIGN_OPEN, Kind.CAMPAIGN_CLOSING):
            campaign = campaigns.get(reminder.object_id)
            if campaign is not None:
                draft = drafts.get((reminder.structure_id, campaign.pk))
                url = (
                    reverse("reimbursements:detail", kwargs={"pk": draft.pk})
                    if draft
                    else reverse("reimbursements:create")
                )
                item = Item(
                    reminder,
                    url,
                    campaign=campaign,
                    days_left=(campaign.closes_on - today).days,
                    draft=draft if reminder.kind == Kind.CAMPAIGN_CLOSING else None,
                )
        elif reminder.kind == Kind.REQUEST_TO_COMPLETE:
            refund_request = refund_requests.get(reminder.object_id)
            if refund_request is not None:
                item = Item(
                    reminder,
                    reverse("reimbursements:detail", kwargs={"pk": refund_request.pk}),
                    refund_request=refund_request,
                    since=date.fromisoformat(reminder.occasion.split("/")[0]),
                )
        elif reminder.kind == Kind.ATTACHMENT_PENDING:
            attachment = attachment_requests.get(reminder.object_id)
            if attachment is not None:
                for_requester = attachment.requester_id == reminder.recipient_id
                url = reverse(
                    "attachments:history_detail" if for_requester else "attachments:approval_detail",
                    kwargs={"pk": attachment.pk},
                )
                item = Item(
                    reminder,
                    url,
                    attachment_request=attachment,
                    for_requester=for_requester,
                    main_manager=main_managers.get(attachment.structure_id),
                )
        elif reminder.kind == Kind.ADVANCE_TO_REGULARISE:
            advance = advances.get(reminder.object_id)
            if advance is not None:
                deadline = advance.offer.last_repayment_day()
                item = Item(
                    reminder,
                    reverse("reimbursements:list"),
                    advance=advance,
                    deadline=deadline,
                    days_left=(deadline - today).days,
                )
        if item is not None:
            items.append(item)
    return items
