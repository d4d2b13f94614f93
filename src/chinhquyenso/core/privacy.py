"""Personal data (Decree 13/2023/NĐ-CP) in the kernel: masking what citizens
type into public texts and log lines, and keeping search terms out of URLs.

- `mask_personal_data(text)` masks citizen ID numbers (12-digit CCCD, 9-digit
  CMND), Vietnamese phone numbers (mobile and landline, 0… or +84…, with
  spaces, dots or dashes between digit groups) and e-mail addresses, keeping a
  hint (`09******78`, `*********901`, `a***@gmail.com`). Public renderings call
  it at publication (feedback.selectors.public_reports); the stored text is
  never changed, so officers read the original.
- `MaskingFormatter` applies it to every log line and traceback (settings
  LOGGING): a database error's "Key (phone)=(0912…)" or a value echoed by an
  exception does not reach the server log.
- `private_search(request, fields)` moves a search form's terms (names, birth
  dates, ID numbers) from the URL to the session: the form posts, the terms
  are kept under a short random token, and the results page is `?tim=<token>`
  (pagination adds `&trang=N`), so neither access logs nor browser history
  ever hold them.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from django.http import HttpResponseRedirect, QueryDict

# A run of 9–13 digits that may be split by spaces, dots, dashes or brackets ("0912 345 678",
# "(028) 3822.1234", "+84 912-345-678"). Not inside a word or a longer code: "PA-2025-000123"
# is not matched from its middle because the lookbehind refuses a preceding letter or digit.
_DIGIT_RUN = re.compile(r"(?<![\w+(])[+(]*\d(?:[ .\-()]{0,2}\d){8,12}(?!\w)")
# Amounts written the Vietnamese way ("150.000.000", "1,500,000") are not identifiers.
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})+")
_EMAIL = re.compile(r"(?<![\w.+-])([\w+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_SOME_DIGITS = re.compile(r"\d{2}")  # no identifier without two digits in a row
MOBILE_PREFIXES = "35789"  # 03x, 05x, 07x, 08x, 09x


def _kind(digits: str) -> str:
    """'phone', 'id' or '' (not personal data) for a run of digits."""
    n = len(digits)
    if n == 10 and digits[0] == "0" and digits[1] in MOBILE_PREFIXES:
        return "phone"
    if n == 11 and digits.startswith("02"):  # landline: 02 + area code + number
        return "phone"
    if n == 11 and digits.startswith("84") and digits[2] in MOBILE_PREFIXES:
        return "phone"
    if n == 12 and digits.startswith("842"):
        return "phone"
    if n == 12 and digits[0] == "0":  # CCCD: province code 001–096 first
        return "id"
    if n == 9:  # CMND
        return "id"
    return ""


def _masked(digits: str, kind: str) -> str:
    if kind == "phone":
        return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]
    return "*" * (len(digits) - 3) + digits[-3:]


def _mask_digits(match: re.Match) -> str:
    """The run with each identifier in it masked. The run may hold several
    ("0912 345 678 0987 654 321") or an identifier and a stray number
    ("0912345678 5 người"): from each digit group, the longest span of groups
    that is an identifier is masked."""
    text = match.group(0)
    if _AMOUNT.fullmatch(text):
        return text
    parts = re.split(r"(\d+)", text)  # separators at even indexes, digit groups at odd ones
    out, start = [parts[0]], 1
    while start < len(parts):
        for end in range(len(parts) - 2, start - 2, -2):
            digits = "".join(parts[start : end + 1 : 2])
            kind = _kind(digits)
            if kind:
                out += [_masked(digits, kind), parts[end + 1]]
                start = end + 2
                break
        else:
            out += parts[start : start + 2]
            start += 2
    return "".join(out)


def mask_personal_data(text: str | None) -> str:
    """`text` with ID numbers, phone numbers and e-mail addresses masked (see the module)."""
    if not text:
        return text or ""
    # The cheap tests first: most texts have no "@" and no run of digits, and skip both scans.
    if "@" in text:
        text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _DIGIT_RUN.sub(_mask_digits, text) if _SOME_DIGITS.search(text) else text


class MaskingFormatter(logging.Formatter):
    """The log line, traceback included, with personal data masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


# ---------------------------------------------------------------- search terms out of URLs

SEARCHES = "cqs_searches"
SEARCH_TOKEN = "tim"
SEARCH_SECONDS = 2 * 3600  # a search's results page works this long after the form was sent
SEARCHES_KEPT = 20  # per session: the oldest go first


def private_search(request, fields: tuple[str, ...]) -> tuple[QueryDict, HttpResponseRedirect | None]:
    """(the search terms, a redirect to answer with instead, or None).

    POST: keep the posted `fields` under a new token and redirect to
    `?tim=<token>` (Post/Redirect/Get: reloading or going back never re-posts).
    GET `?tim=<token>`: the kept terms ('' terms when the token expired).
    GET carrying any of `fields` (an old bookmark, a hand-typed URL): redirect
    to the bare page, which does not search, so such URLs stop being useful."""
    now = time.time()
    kept = {
        token: entry for token, entry in request.session.get(SEARCHES, {}).items() if entry[0] > now - SEARCH_SECONDS
    }
    if request.method == "POST":
        token = secrets.token_urlsafe(9)
        kept[token] = (now, {name: request.POST.getlist(name) for name in fields if request.POST.get(name)})
        request.session[SEARCHES] = dict(sorted(kept.items(), key=lambda item: item[1][0])[-SEARCHES_KEPT:])
        return QueryDict(), HttpResponseRedirect(f"{request.path}?{SEARCH_TOKEN}={token}")
    if any(name in request.GET for name in fields):
        return QueryDict(), HttpResponseRedirect(request.path)
    terms = QueryDict(mutable=True)
    entry = kept.get(request.GET.get(SEARCH_TOKEN, ""))
    if entry:
        for name, values in entry[1].items():
            terms.setlist(name, values)
    return terms, None


def search_query(request) -> QueryDict:
    """The query string a results page's links keep (the token only), for `?{{ query.urlencode }}&trang=N`."""
    query = QueryDict(mutable=True)
    if request.GET.get(SEARCH_TOKEN):
        query[SEARCH_TOKEN] = request.GET[SEARCH_TOKEN][:40]
    return query
