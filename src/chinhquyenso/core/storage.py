"""The uploaded files' storage: Django's file system storage, except that a
file the database names but the disk lacks (a restore without the files
folder, a disk cleaned by hand) is a `NotFound` — a 404 page or JSON error
wherever it is opened — instead of a 500."""

import logging

from django.core.files.storage import FileSystemStorage

from chinhquyenso.core.errors import NotFound

log = logging.getLogger(__name__)


class MissingFile(NotFound, FileNotFoundError):
    """Still a FileNotFoundError for code that handles one itself."""


class FileStorage(FileSystemStorage):
    def _open(self, name, mode="rb"):
        try:
            return super()._open(name, mode)
        except FileNotFoundError:
            # The name is a content hash, never personal data; `cqs restore` brings the files back.
            log.error("file %s is missing from the file storage %s", name, self.location)
            raise MissingFile("Không tìm thấy tệp.", "file") from None
