"""pyHanko's own validation of what the signing service produced (independent of signing.verify), and what
the tests of "no secret in the logs" need: every log line of a block, and the pieces of a key to look for."""

import base64
import io
import logging
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def every_log_line():
    """The lines of every record this process logs inside the block, at DEBUG, from every logger: the root
    and each existing logger lowered to DEBUG (the settings silence pyHanko's validation loggers, which a
    leak there would otherwise hide), the collecting handler also put on loggers that do not propagate, and
    logging.disable lifted. A line is the formatted record (message and traceback) and its attributes."""
    lines: list[str] = []
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(f"{formatter.format(record)} {record.__dict__!r}")

    handler = Collect(logging.DEBUG)
    root = logging.getLogger()
    loggers = [root, *(lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    disabled_below = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if lg is root or not lg.propagate:
            lg.addHandler(handler)
    try:
        yield lines
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
            if handler in lg.handlers:
                lg.removeHandler(handler)
        logging.disable(disabled_below)


def key_material(key_pem_path) -> list[str]:
    """Pieces of a private key as a log line could carry them: windows of its DER in hex and base64, the
    start of its numbers in decimal, and the PEM's lines."""
    from cryptography.hazmat.primitives import serialization

    pem = Path(key_pem_path).read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    hexed, b64 = der.hex(), base64.b64encode(der).decode()
    numbers = private.private_numbers()
    pieces = [hexed[i : i + 32] for i in range(0, len(hexed) - 32, 32)]
    pieces += [b64[i : i + 32] for i in range(0, len(b64) - 32, 32)]
    pieces += [str(value)[:30] for value in (numbers.d, numbers.p, numbers.q)]
    pieces += [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    return pieces


def assert_none_in(lines: list[str], secrets: list[str]) -> None:
    text = "\n".join(lines)
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, f"{len(leaked)} secret piece(s) in the log, e.g. {leaked[0][:8]}…"
