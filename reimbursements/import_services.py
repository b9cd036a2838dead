"""« Importer des lignes » and « Déposer les demandes complètes »: the bulk work of a firm, in three phases
run by Celery (see tasks.py), each recording its progress on the ImportJob row.

1. check: read the files, judge every row (nothing is written but the verdicts on the job);
2. import: one transaction per structure, through the same services as the forms (refund_request_create,
   refund_line_save); a structure with a wrong row gets none of its rows; a line already there is skipped,
   so importing the same file twice adds nothing twice;
3. filing: refund_request_file on every imported draft; those that do not pass say why.
"""

import logging
import secrets
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from chorus.storage import PendingFiles, StorageUnavailable
from chorus.uploads import document_extension
from reimbursements import services
from reimbursements.import_files import (
    ImportFileError,
    InvoiceArchive,
    normalise,
    parse_date,
    parse_decimal,
    read_lines,
)
from reimbursements.import_models import ImportJob
from reimbursements.models import Campaign, EnergyProduct, RefundLine, RefundRequest
from reimbursements.portfolio import client_structures
from reimbursements.selectors import refund_requests_for_user
from structures.models import BankAccount, Structure
from structures.validators import normalize_siret, validate_siret

logger = logging.getLogger(__name__)

Status = ImportJob.Status
OK, SKIP, HELD, ERROR, IMPORTED = "ok", "skip", "held", "error", "imported"
OUTCOME_LABELS = {
    OK: "Prête à importer",
    SKIP: "Déjà importée",
    HELD: "Non importée : une autre ligne de la structure est en erreur",
    ERROR: "Erreur",
    IMPORTED: "Importée",
}
PROGRESS_EVERY = 250
UNEXPECTED = (
    "Une erreur inattendue a interrompu le traitement. Relancez-le ; si elle persiste, contactez-nous."
)


class BulkError(Exception):
    """A refused bulk action (wrong phase, nothing to do): its message is shown as it is."""


def _progress(job: ImportJob, done: int, **fields) -> None:
    ImportJob.objects.filter(pk=job.pk).update(done=done, updated_at=timezone.now(), **fields)
    job.done = done


# --- Phase 1: check -----------------------------------------------------------------------------------


class _Context:
    """Everything the rows are judged against, loaded in a fixed number of queries."""

    def __init__(self, user, raw_rows, today: date):
        self.today = today
        sirets = {_siret(row.values["siret"]) for row in raw_rows}
        self.clients = {s.siret: s for s in client_structures(user).filter(siret__in=sirets)}
        self.campaigns = {c.year: c for c in Campaign.objects.all()}
        self.open_years = set(Campaign.objects.open_on(today).values_list("year", flat=True))
        self.products = {}
        for product in EnergyProduct.objects.all():
            self.products[normalise(product.code)] = product
            self.products[normalise(product.label)] = product
        self.requests = {
            (r.structure_id, r.campaign_id): r
            for r in RefundRequest.objects.filter(structure__in=self.clients.values())
        }
        self.lines = {
            _line_key(
                line.request.structure_id, line.request.campaign_id, line.invoice_number, line.product_id
            ): (
                line.delivery_date,
                line.quantity,
            )
            for line in RefundLine.objects.filter(request__in=self.requests.values()).select_related(
                "request"
            )
        }
        self.rate_tables = {}

    def rate(self, campaign, product, delivery_date):
        """services.line_rate, the rule the forms use, on each campaign's rate table (one query each)."""
        if campaign.pk not in self.rate_tables:
            self.rate_tables[campaign.pk] = services.campaign_rate_table(campaign)
        try:
            return services.line_rate(
                campaign=campaign,
                product=product,
                delivery_date=delivery_date,
                rates=self.rate_tables[campaign.pk],
            )
        except services.RefundError as exc:
            return exc


def _siret(text: str) -> str:
    siret = normalize_siret(text)
    if siret.isdigit() and 9 < len(siret) < 14:
        # A spreadsheet that took the SIRET for a number dropped its leading zeros.
        siret = siret.zfill(14)
    return siret


def _line_key(structure_id, campaign_id, invoice_number: str, product_id) -> tuple:
    return (structure_id, campaign_id, invoice_number.strip().upper(), product_id)


def _judge(raw, context: _Context, seen: dict, archive: InvoiceArchive, invoices: dict) -> dict:
    values = raw.values
    errors = []
    row = {
        "number": raw.number,
        "siret": values["siret"][:20],
        "name": "",
        "year": values["year"][:10],
        "invoice_number": values["invoice_number"][:50],
        "delivery_date": values["delivery_date"][:20],
        "product": values["product"][:120],
        "quantity": values["quantity"][:30],
        "invoice_file": values["invoice_file"][:255],
        "outcome": OK,
        "message": "",
    }
    structure = campaign = product = delivery_date = quantity = None
    siret = _siret(values["siret"])
    try:
        validate_siret(siret)
    except ValidationError:
        errors.append("SIRET invalide (14 chiffres avec une clé de contrôle).")
    else:
        structure = context.clients.get(siret)
        if structure is None:
            errors.append("SIRET inconnu, ou structure à laquelle vous n'êtes pas rattaché.")
        else:
            row["name"] = structure.name
            row["structure_id"] = structure.pk
    year = values["year"].strip()
    if not year.isdigit() or int(year) not in context.campaigns:
        errors.append("Année inconnue : indiquez l'année de consommation sur 4 chiffres (par exemple 2023).")
    elif int(year) not in context.open_years:
        errors.append(f"La campagne {year} n'est pas ouverte au dépôt.")
    else:
        campaign = context.campaigns[int(year)]
        row["campaign_id"] = campaign.pk
    invoice_number = values["invoice_number"].strip()
    if not invoice_number:
        errors.append("Indiquez le numéro de facture.")
    elif len(invoice_number) > RefundLine._meta.get_field("invoice_number").max_length:
        errors.append("Le numéro de facture dépasse 50 caractères.")
    delivery_date = parse_date(values["delivery_date"])
    if delivery_date is None:
        errors.append("Date de livraison invalide : écrivez-la jj/mm/aaaa (par exemple 15/03/2023).")
    else:
        row["delivery_date"] = delivery_date.isoformat()
    product = context.products.get(normalise(values["product"]))
    if product is None:
        errors.append(f"Produit inconnu : « {values['product'][:60]} ». Utilisez les codes du modèle.")
    else:
        row["product_id"] = product.pk
    quantity = parse_decimal(values["quantity"])
    if quantity is None:
        errors.append("Quantité invalide : un nombre positif, avec une virgule pour les décimales.")
    elif quantity.as_tuple().exponent < -3:
        errors.append("La quantité a au plus 3 décimales.")
    elif product is not None:
        try:
            services.line_quantity_check(product, quantity)
        except services.RefundError as exc:
            errors.extend(exc.messages)
        else:
            row["quantity"] = str(quantity)
    if campaign is not None and product is not None and delivery_date is not None:
        rate = context.rate(campaign, product, delivery_date)
        if isinstance(rate, services.RefundError):
            errors.extend(rate.messages)
        elif rate.last_filing_day() < context.today:
            errors.append(
                f"Le dépôt pour le produit « {product} » en {campaign.year} est clos depuis le "
                f"{rate.last_filing_day():%d/%m/%Y}."
            )
    if structure is not None and campaign is not None:
        existing = context.requests.get((structure.pk, campaign.pk))
        if existing is not None and not existing.is_editable:
            errors.append(
                f"La demande {campaign.year} de cette structure est à l'état « {existing.get_status_display()} » : "
                "elle ne peut plus recevoir de lignes."
            )
    if invoice_number and structure is not None and campaign is not None and product is not None:
        key = _line_key(structure.pk, campaign.pk, invoice_number, product.pk)
        if key in seen:
            errors.append(
                f"Facture en double : la ligne {seen[key]} du fichier porte déjà cette facture et ce produit."
            )
        else:
            seen[key] = raw.number
            if key in context.lines:
                if context.lines[key] == (delivery_date, quantity):
                    row["outcome"], row["message"] = SKIP, "Cette ligne figure déjà dans la demande."
                else:
                    errors.append(
                        "Facture en double : la demande a déjà une ligne pour cette facture et ce produit, "
                        "avec une autre date ou une autre quantité."
                    )
    errors.extend(_invoice_errors(values["invoice_file"], row, archive, invoices))
    if errors:
        row["outcome"], row["message"] = ERROR, " ".join(errors)
    return row


def _invoice_errors(name: str, row: dict, archive: InvoiceArchive, invoices: dict) -> list[str]:
    name = name.strip()
    if not name:
        return ["Indiquez le fichier de la copie de la facture (son nom dans l'archive ZIP)."]
    info = archive.find(name)
    if info is None:
        return [f"Le fichier « {name[:100]} » est absent de l'archive des factures."]
    if info.filename not in invoices:
        try:
            invoices[info.filename] = document_extension(archive.read(info))
        except ImportFileError:
            invoices[info.filename] = None
    extension = invoices[info.filename]
    if extension is None:
        return [
            f"Le fichier « {name[:100]} » n'est pas une copie de facture lisible (PDF, PNG ou JPEG de 10 Mo au plus)."
        ]
    row["entry"], row["extension"] = info.filename, extension
    return []


def import_check(*, job_id: int) -> ImportJob:
    """Phase 1: judge every row. Writes nothing but the job's verdicts."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.status != Status.CHECKING:
        return job
    archive = None
    try:
        with job.lines_file.open("rb") as handle:
            raw_rows = read_lines(handle.read())
        archive = InvoiceArchive(job.archive.open("rb"), close_handle=True)
        _progress(job, 0, total=len(raw_rows))
        job.total = len(raw_rows)
        context = _Context(job.user, raw_rows, timezone.localdate())
        seen, invoices, rows = {}, {}, []
        for index, raw in enumerate(raw_rows, start=1):
            rows.append(_judge(raw, context, seen, archive, invoices))
            if index % PROGRESS_EVERY == 0:
                _progress(job, index)
        wrong = {row.get("structure_id") for row in rows if row["outcome"] == ERROR}
        for row in rows:
            if row["outcome"] == OK and row.get("structure_id") in wrong:
                row["outcome"], row["message"] = HELD, OUTCOME_LABELS[HELD] + "."
        _progress(job, job.total, rows=rows, status=Status.CHECKED)
    except ImportFileError as exc:
        _progress(job, 0, total=0, status=Status.FAILED, error=str(exc))
    except Exception:
        logger.exception("Import job %s failed while checking", job.pk)
        _progress(job, 0, total=0, status=Status.FAILED, error=UNEXPECTED)
    finally:
        if archive is not None:
            archive.close()
    job.refresh_from_db()
    return job


# --- Phase 2: import ----------------------------------------------------------------------------------


def _start(job_id: int, *, user, expected: str, running: str, **fields) -> ImportJob:
    """Move a job of `user` from `expected` to `running` under its row lock: a double click starts it once."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(user=user).get(pk=job_id)
        if job.status != expected:
            raise BulkError("Ce traitement est déjà lancé ou terminé.")
        job.status = running
        for name, value in fields.items():
            setattr(job, name, value)
        job.save()
    return job


def import_start(*, job_id: int, user, not_in_difficulty: bool) -> ImportJob:
    job = ImportJob.objects.filter(user=user).get(pk=job_id)
    if job.status == Status.CHECKED and not any(row["outcome"] == OK for row in job.rows):
        raise BulkError(
            "Aucune ligne n'est prête à importer : corrigez le fichier et vérifiez-le de nouveau."
        )
    ready = sum(1 for row in job.rows if row["outcome"] == OK)
    return _start(
        job_id,
        user=user,
        expected=Status.CHECKED,
        running=Status.IMPORTING,
        not_in_difficulty=not_in_difficulty,
        total=ready,
        done=0,
    )


def _header(structure: Structure, not_in_difficulty: bool) -> services.Header:
    """What the « Saisir une demande » form pre-fills from the structure."""
    account = (
        BankAccount.objects.filter(structure=structure, is_active=True)
        .order_by(
            # An account with its RIB copy first: filing needs it.
            "-rib_document",
            "label",
        )
        .first()
    )
    return services.Header(
        bank_account=account,
        beneficiary_category=structure.beneficiary_category,
        pacage=structure.pacage,
        not_in_difficulty=not_in_difficulty,
    )


class _ImportContext:
    """What every structure's transaction reads, loaded once for the whole import (a fixed number of
    queries): the structures the user is attached to now, the campaigns, the requests and lines already
    there. The services still lock and check each request as they write."""

    def __init__(self, job: ImportJob, structure_ids, campaign_ids, products):
        self.job, self.products = job, products
        self.attached = set(
            client_structures(job.user).filter(pk__in=structure_ids).values_list("pk", flat=True)
        )
        self.campaigns = Campaign.objects.in_bulk(list(campaign_ids))
        self.requests = {
            (r.structure_id, r.campaign_id): r
            for r in RefundRequest.objects.filter(
                structure_id__in=structure_ids, campaign_id__in=campaign_ids
            )
        }
        self.present = defaultdict(set)  # structure id → line keys already in its requests
        for structure_id, campaign_id, number, product_id in RefundLine.objects.filter(
            request__in=list(self.requests.values())
        ).values_list("request__structure_id", "request__campaign_id", "invoice_number", "product_id"):
            self.present[structure_id].add(_line_key(structure_id, campaign_id, number, product_id))


def _import_structure(
    context: _ImportContext, structure: Structure, rows: list[dict], archive, files: PendingFiles
) -> set[int]:
    """The rows of one structure, every year, in the caller's transaction. Returns the requests touched."""
    job, products = context.job, context.products
    if structure.pk not in context.attached:
        raise services.RefundError("Vous n'êtes plus rattaché à cette structure.")
    touched = set()
    by_campaign = defaultdict(list)
    for row in rows:
        by_campaign[row["campaign_id"]].append(row)
    for campaign_id, campaign_rows in by_campaign.items():
        campaign = context.campaigns[campaign_id]
        refund_request = context.requests.get((structure.pk, campaign.pk))
        if refund_request is None:
            refund_request = services.refund_request_create(
                user=job.user,
                structure=structure,
                campaign=campaign,
                header=_header(structure, job.not_in_difficulty),
            )
        touched.add(refund_request.pk)
        present = context.present[structure.pk]
        batch, batch_rows = [], []
        for row in campaign_rows:
            key = _line_key(structure.pk, campaign.pk, row["invoice_number"], row["product_id"])
            if key in present:
                row["outcome"], row["message"] = SKIP, "Cette ligne figure déjà dans la demande."
                continue
            holder = RefundLine()
            files.store(
                holder.invoice_copy,
                ContentFile(
                    archive.read(archive.zip.getinfo(row["entry"])),
                    name=f"{secrets.token_urlsafe(24)}.{row['extension']}",
                ),
            )
            batch.append(
                services.NewLine(
                    invoice_number=row["invoice_number"].strip(),
                    delivery_date=date.fromisoformat(row["delivery_date"]),
                    product=products[row["product_id"]],
                    quantity=Decimal(row["quantity"]),
                    invoice_copy=holder.invoice_copy.name,
                    invoice_original_name=PurePosixPath(row["entry"]).name,
                )
            )
            batch_rows.append(row)
            present.add(key)
        if batch:
            services.refund_lines_add(refund_request_id=refund_request.pk, lines=batch)
            for row in batch_rows:
                row["outcome"], row["message"] = IMPORTED, f"Ajoutée à la demande {campaign.year}."
    return touched


def import_run(*, job_id: int) -> ImportJob:
    """Phase 2: one transaction per structure; a structure whose rows fail gets none of them."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.status != Status.IMPORTING:
        return job
    rows = job.rows
    by_structure = defaultdict(list)
    for row in rows:
        if row["outcome"] == OK:
            by_structure[row["structure_id"]].append(row)
    structures = Structure.objects.in_bulk(list(by_structure))
    context = _ImportContext(
        job,
        list(by_structure),
        {row["campaign_id"] for rows_ in by_structure.values() for row in rows_},
        EnergyProduct.objects.in_bulk(),
    )
    request_ids, done, reported, archive = set(job.request_ids), 0, 0, None
    try:
        archive = InvoiceArchive(job.archive.open("rb"), close_handle=True)
        for structure_id, structure_rows in by_structure.items():
            present_before = set(context.present[structure_id])
            try:
                # The structure's invoice copies are deleted again if its transaction does not commit.
                with PendingFiles() as files, transaction.atomic():
                    request_ids |= _import_structure(
                        context, structures[structure_id], structure_rows, archive, files
                    )
            except services.RefundError as exc:
                context.present[structure_id] = present_before
                for row in structure_rows:
                    row["outcome"], row["message"] = (
                        ERROR,
                        "Structure non importée : " + " ".join(exc.messages),
                    )
            done += len(structure_rows)
            if done - reported >= PROGRESS_EVERY:
                _progress(job, done)
                reported = done
        _progress(job, job.total, rows=rows, request_ids=sorted(request_ids), status=Status.IMPORTED)
    except (ImportFileError, StorageUnavailable) as exc:
        _progress(job, done, rows=rows, request_ids=sorted(request_ids), status=Status.FAILED, error=str(exc))
    except Exception:
        logger.exception("Import job %s failed while importing", job.pk)
        _progress(
            job, done, rows=rows, request_ids=sorted(request_ids), status=Status.FAILED, error=UNEXPECTED
        )
    finally:
        if archive is not None:
            archive.close()
    job.refresh_from_db()
    return job


# --- Phase 3: filing ----------------------------------------------------------------------------------


def filing_start(*, job_id: int, user) -> ImportJob:
    job = ImportJob.objects.filter(user=user).get(pk=job_id)
    if not job.request_ids:
        raise BulkError("Cet import n'a créé ou complété aucune demande.")
    return _start(
        job_id,
        user=user,
        expected=Status.IMPORTED,
        running=Status.FILING,
        total=len(job.request_ids),
        done=0,
        results=[],
    )


def filing_job_create(*, user) -> ImportJob:
    """« Déposer les demandes complètes » from « Mes clients »: every draft or request to complete of the
    user's clients in a campaign open for filing."""
    ids = list(
        refund_requests_for_user(user)
        .filter(
            structure__in=client_structures(user),
            status__in=RefundRequest.EDITABLE,
            campaign__in=Campaign.objects.open_on(timezone.localdate()),
        )
        .order_by("structure__name", "campaign__year")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise BulkError("Aucune demande en brouillon ou à compléter n'attend de dépôt.")
    return ImportJob.objects.create(
        user=user, kind=ImportJob.Kind.FILING, status=Status.FILING, request_ids=ids, total=len(ids)
    )


def filing_run(*, job_id: int) -> ImportJob:
    """Phase 3: refund_request_file on each request; its checks decide, and say why not."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.status != Status.FILING:
        return job
    results, done = [], 0
    requests = refund_requests_for_user(job.user).filter(pk__in=job.request_ids).in_bulk()
    try:
        for request_id in job.request_ids:
            refund_request = requests.get(request_id)
            if refund_request is not None:
                results.append(_file_one(job, refund_request))
            done += 1
            if done % 20 == 0:
                _progress(job, done)
        _progress(job, job.total, results=results, status=Status.FILED)
    except Exception:
        logger.exception("Import job %s failed while filing", job.pk)
        _progress(job, done, results=results, status=Status.FAILED, error=UNEXPECTED)
    job.refresh_from_db()
    return job


def _file_one(job: ImportJob, refund_request: RefundRequest) -> dict:
    result = {
        "request_id": refund_request.pk,
        "structure": refund_request.structure.name,
        "siret": refund_request.structure.siret,
        "year": refund_request.campaign.year,
    }
    try:
        filed = services.refund_request_file(refund_request_id=refund_request.pk, user=job.user)
    except services.AlreadyFiledError as exc:
        return {**result, "filed": False, "number": refund_request.number or "", "problems": exc.messages}
    except services.RefundError as exc:
        return {**result, "filed": False, "number": "", "problems": exc.messages}
    return {**result, "filed": True, "number": filed.number, "problems": []}
