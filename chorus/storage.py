"""Private files (RIB and invoice copies, ticket attachments, import archives) go through Django's storage API
only: a local folder in the embedded mode, an S3-compatible bucket when `S3_BUCKET` is set (settings).

Storing a file and writing the row that points to it cannot be one transaction, so services store the file
first, then write the row, and delete the file again if anything fails up to and including the commit
(`PendingFiles`): a row never points to a missing file, and a failed change leaves no file behind. Only a
process killed between the upload and the commit can leave an unreferenced object; nothing links to it.
"""

import logging
import os

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)

# What a storage call raises when the folder or the bucket cannot be reached, or refuses (permissions,
# timeouts, connection refused). FileNotFoundError (an OSError) is told apart by the callers first.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


class StorageUnavailable(Exception):
    """The file storage could not be reached: the page says so in French, uploads are not kept."""

    message = (
        "Le dépôt des documents est momentanément indisponible : rien n'a été enregistré. "
        "Réessayez dans quelques minutes en joignant de nouveau le document."
    )

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message


def uses_object_storage() -> bool:
    return bool(getattr(settings, "S3_BUCKET", ""))


class PendingFiles:
    """Store uploads before the rows that point to them; forget them again if the change does not commit.

        with PendingFiles() as files:
            with transaction.atomic(durable=True):
                files.store(account.rib_document, upload)
                account.save()

    Put the `with PendingFiles()` outside the transaction, so a failed commit also deletes the files."""

    def __init__(self):
        self._stored = []

    def store(self, field_file, content) -> None:
        """Save `content` (an already checked upload, under its random name) into `field_file` without saving
        the model; raise StorageUnavailable if the storage cannot take it."""
        try:
            field_file.save(content.name, content, save=False)
        except STORAGE_ERRORS as exc:
            logger.warning("Private file storage refused an upload: %s", type(exc).__name__)
            raise StorageUnavailable from exc
        self._stored.append((field_file.storage, field_file.name))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            return False
        for storage, name in self._stored:
            try:
                storage.delete(name)
            except STORAGE_ERRORS:
                logger.error("A stored file of a failed change could not be deleted: %s", name)
        return False


def storage_check() -> None:
    """Raise if the private file storage cannot be reached (for /sante/pret): the bucket must answer, or the
    local folder must be writable. Cheap: one HEAD request, or one stat."""
    storage = default_storage
    if uses_object_storage():
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
        return
    location = storage.location
    if not os.path.isdir(location):
        os.makedirs(location, exist_ok=True)
    if not os.access(location, os.W_OK):
        raise PermissionError("private folder not writable")
