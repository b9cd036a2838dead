"""Demo support data: one open ticket from the demo farmer, so « Mes tickets » and the admin show one."""

from accounts.demo import demo_user
from support.models import SupportTicket
from support.services import ticket_create

DEMO_SUBJECT = "Mon RIB est-il bien pris en compte ?"


def seed() -> list[str]:
    farmer = demo_user("farmer")
    ticket = SupportTicket.objects.filter(user=farmer, subject=DEMO_SUBJECT).first()
    if ticket is None:
        ticket = ticket_create(
            user=farmer,
            situation=SupportTicket.Situation.BANK_DETAILS,
            subject=DEMO_SUBJECT,
            message=(
                "Bonjour,\n\nJ'ai enregistré nos coordonnées bancaires et la copie du RIB du GAEC. "
                "Pouvez-vous me confirmer qu'elles seront bien proposées dans ma demande de remboursement ?"
            ),
        )
    return [f"Support : ticket n° {ticket.number} ouvert par {farmer.email} (administration → Tickets)"]
