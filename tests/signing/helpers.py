"""pyHanko's own validation of what the signing service produced (independent of signing.verify)."""

import io

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def validation_context(pki, *, allow_fetching=False):
    return ValidationContext(
        trust_roots=[load_cert_from_pemder(str(pki.root_cert_path))], allow_fetching=allow_fetching
    )


def statuses(pdf: bytes, pki, *, allow_fetching=True):
    reader = PdfFileReader(io.BytesIO(pdf))
    return reader, [
        validate_pdf_signature(sig, validation_context(pki, allow_fetching=allow_fetching))
        for sig in reader.embedded_signatures
    ]


def assert_valid(status):
    assert status.intact and status.valid, status.summary()
    assert status.trusted, status.summary()
