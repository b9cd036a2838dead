"""Move a single-host install to object storage: copy every private file of the local folder into the bucket,
under the same name (the rows keep pointing to it), and verify each copy by reading it back. Safe to run again:
a file already in the bucket with the same checksum is left alone; one with a different content is reported,
never overwritten."""

import hashlib

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError

from chorus.storage import uses_object_storage

CHUNK = 1024 * 1024


def _walk(storage, folder=""):
    directories, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for directory in sorted(directories):
        yield from _walk(storage, f"{folder}/{directory}" if folder else directory)


def _sha256(storage, name) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = (
        "Copies the private files of the local folder (MEDIA_ROOT) into the S3 bucket (S3_BUCKET), checking "
        "each one's SHA-256 after the copy. Can be run again safely."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", help="Local folder to copy from (default: MEDIA_ROOT).")

    def handle(self, *args, source=None, **options):
        if not uses_object_storage():
            raise CommandError(
                "S3_BUCKET n'est pas défini : la destination serait le dossier local lui-même."
            )
        local = FileSystemStorage(location=source or settings.MEDIA_ROOT)
        copied, present, problems = 0, 0, []
        for name in _walk(local):
            expected = _sha256(local, name)
            if default_storage.exists(name):
                if _sha256(default_storage, name) == expected:
                    present += 1
                else:
                    problems.append(
                        f"{name} : un fichier différent existe déjà dans le bucket (non remplacé)."
                    )
                continue
            with local.open(name, "rb") as handle:
                stored = default_storage.save(name, handle)
            if stored != name or _sha256(default_storage, stored) != expected:
                default_storage.delete(stored)
                problems.append(f"{name} : la copie relue ne correspond pas à l'original (copie supprimée).")
                continue
            copied += 1
            self.stdout.write(f"copié : {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{copied} fichier(s) copié(s) et vérifié(s), {present} déjà présent(s) et identique(s)."
            )
        )
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} fichier(s) n'ont pas pu être copiés.")
