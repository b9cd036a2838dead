from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from chorus.ratelimit import exceeded, too_many_requests, value_key
from chorus.uploads import private_file_response
from support import selectors, services
from support.assistant import Node, assistant_tree
from support.forms import TicketForm

FEEDBACK = {"oui": True, "non": False}
# The dialog opened by static/js/assistant.js asks for the conversation alone, without the page around it.
FRAGMENT_HEADER = "X-Assistant"


@login_not_required
@require_safe
def contact(request):
    return render(request, "support/contact.html")


def _node_url(node_id: str) -> str:
    if node_id == assistant_tree().root:
        return reverse("support:assistant")
    return reverse("support:assistant_node", args=[node_id])


def _assistant_response(request, node: Node, *, feedback: str = "", error: str = "", status: int = 200):
    tree = assistant_tree()
    context = {
        "node": node,
        "trail": tree.trail(node),
        "choices": tree.choices(node),
        "links": [(link.label, link.url) for link in node.links],
        "back_url": _node_url(tree.parents[node.id]) if node.id in tree.parents else "",
        "feedback": feedback,
        "feedback_error": error,
        "campaigns": selectors.refund_campaigns() if node.data == "campaigns" else None,
        "advances": selectors.advances(request.user) if node.data == "advances" else None,
    }
    fragment = request.headers.get(FRAGMENT_HEADER) == "dialog"
    template = "support/assistant/_conversation.html" if fragment else "support/assistant.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, [FRAGMENT_HEADER])
    return response


def _node_or_404(node_id: str | None) -> Node:
    tree = assistant_tree()
    node = tree.nodes.get(node_id or tree.root)
    if node is None:
        raise Http404
    return node


@login_not_required
@require_safe
def assistant(request, node_id: str | None = None):
    node = _node_or_404(node_id)
    feedback = request.GET.get("avis", "")
    return _assistant_response(
        request, node, feedback=feedback if node.is_answer and feedback in FEEDBACK else ""
    )


@login_not_required
@require_POST
def assistant_feedback(request, node_id: str):
    node = _node_or_404(node_id)
    if not node.is_answer:
        raise Http404
    answer = request.POST.get("avis", "")
    if answer not in FEEDBACK:
        return _assistant_response(request, node, error="Répondez par « Oui » ou par « Non ».", status=400)
    if exceeded(request, "assistant-feedback", {"ip": ("ip", "60/h")}):
        return too_many_requests(request)
    # One vote per answer and browser session, so a reload does not count twice.
    voted = request.session.get("assistant_votes", [])
    if node.id not in voted:
        services.assistant_feedback_record(node=node.id, helpful=FEEDBACK[answer])
        request.session["assistant_votes"] = [*voted, node.id]
    if request.headers.get(FRAGMENT_HEADER) == "dialog":
        return _assistant_response(request, node, feedback=answer)
    return redirect(f"{_node_url(node.id)}?avis={answer}#reponse")


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_create(request):
    user = request.user if request.user.is_authenticated else None
    if request.method != "POST":
        return render(request, "support/ticket_create.html", {"form": TicketForm(user=user)})
    if exceeded(request, "support-ticket", {"ip": ("ip", "20/h")}):
        return too_many_requests(request)
    form = TicketForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return render(request, "support/ticket_create.html", {"form": form}, status=400)
    email = user.email if user else form.cleaned_data["email"]
    if exceeded(request, "support-ticket", {"email": (value_key(email.lower()), "5/h")}):
        return too_many_requests(request)
    try:
        ticket = services.ticket_create(
            user=user,
            email=email,
            situation=form.chosen_situation,
            subject=form.cleaned_data["subject"],
            message=form.cleaned_data["message"],
            attachment=form.cleaned_data["attachment"],
        )
    except services.SupportError as exc:
        form.add_error(None, str(exc))
        return render(request, "support/ticket_create.html", {"form": form}, status=400)
    messages.success(
        request,
        f"Votre ticket n° {ticket.number} a été envoyé. Un accusé de réception vous a été adressé à "
        f"{ticket.email} ; la réponse du support vous parviendra à cette adresse.",
    )
    if user is None:
        return redirect("contact")
    return redirect("support:ticket_detail", pk=ticket.pk)


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_claim(request, token: str):
    """The link of a visitor's acknowledgement: « Rattacher le ticket à mon compte ». A button, not the link
    itself, does it, since mail scanners open links."""
    try:
        ticket = services.ticket_claim_read(token)
    except services.SupportError as exc:
        return render(request, "support/ticket_claim.html", {"error": str(exc)}, status=404)
    if request.method == "POST":
        if exceeded(request, "support-ticket-claim", {"ip": ("ip", "30/h")}):
            return too_many_requests(request)
        try:
            ticket = services.ticket_claim(token=token)
        except services.SupportError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Le ticket n° {ticket.number} est rattaché à votre compte.")
        return redirect("support:ticket_claim", token=token)
    return render(request, "support/ticket_claim.html", {"ticket": ticket})


@require_safe
def ticket_list(request):
    tickets = selectors.tickets_for_user(request.user).order_by("-created_at", "-pk")
    return render(request, "support/ticket_list.html", {"tickets": tickets})


@require_safe
def ticket_detail(request, pk: int):
    ticket = get_object_or_404(selectors.tickets_for_user(request.user).prefetch_related("replies"), pk=pk)
    return render(request, "support/ticket_detail.html", {"ticket": ticket})


@require_safe
def ticket_attachment(request, pk: int):
    ticket = get_object_or_404(
        selectors.tickets_readable_by(request.user, verified=request.user.is_verified()), pk=pk
    )
    return private_file_response(ticket.attachment, download_name=ticket.attachment_name or "piece-jointe")
