"""Vietnamese text for retrieval: what a query and a catalog text are turned into.

Everything is compared in `core.text.fold` form (lower case, no diacritics, đ → d, so tone
placement "hoà"/"hòa" and NFD input already meet). On top of that:

- syllables: Vietnamese writes one syllable per word, so a token is a syllable; punctuation is a
  separator;
- i/y: a syllable-final y after a consonant or "qu" is written i by many ("kí"/"ký", "lí"/"lý",
  "mĩ"/"mỹ", "quí"/"quý") — both are correct, so both become i;
- syllable bigrams ("khai_sinh"): compounds are two syllables, so "giấy khai sinh" and "khai sinh"
  share the bigram and a text with the words in that order scores above one that merely has both;
- stop phrases (data/stopwords.txt): what people add around the request ("cho tôi", "thế nào",
  "ở đâu") and that no procedure text needs;
- one-letter typos: a syllable found nowhere in the catalog is widened to the catalog syllables
  one edit away (a wrong, missing, extra or swapped letter).
"""

import re
from functools import cache
from pathlib import Path

from chinhquyenso.core.text import fold

DATA = Path(__file__).resolve().parent / "data"

_SEPARATORS = re.compile(r"[^0-9a-z]+")
# A syllable that is consonants (or "qu") then a final y: ky, ly, my, quy, thy, ... → ki, li, mi, qui.
_FINAL_Y = re.compile(r"^(?:qu|[bcdghklmnprstvx]+)y$")

# Typo widening starts at three letters: shorter syllables have too many neighbours to guess from.
TYPO_MIN_LENGTH = 3


def syllable(token: str) -> str:
    """One folded syllable in its canonical spelling (i/y)."""
    return token[:-1] + "i" if _FINAL_Y.match(token) else token


def syllables(text: str | None) -> list[str]:
    """The canonical folded syllables of a text: 'Đăng kí khai-sinh!' → ['dang', 'ki', 'khai', 'sinh']."""
    return [syllable(t) for t in _SEPARATORS.split(fold(text)) if t]


def normalize(text: str | None) -> str:
    """A text as its canonical syllables joined by spaces: the stored key of a synonym phrase."""
    return " ".join(syllables(text))


def bigrams(tokens: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(tokens, tokens[1:])]


def terms(tokens: list[str]) -> list[str]:
    """Unigrams and bigrams: the terms a text is indexed by."""
    return tokens + bigrams(tokens)


@cache
def stop_phrases() -> tuple[tuple[str, ...], ...]:
    """The stop phrases, longest first (data/stopwords.txt: one a line, '#' starts a comment)."""
    phrases = set()
    for line in (DATA / "stopwords.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        tokens = tuple(syllables(line))
        if tokens:
            phrases.add(tokens)
    return tuple(sorted(phrases, key=lambda p: (-len(p), p)))


def drop_stop_phrases(tokens: list[str]) -> list[str]:
    phrases = stop_phrases()
    kept, i = [], 0
    while i < len(tokens):
        for phrase in phrases:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            kept.append(tokens[i])
            i += 1
    return kept


def one_edit_away(word: str, vocabulary) -> list[str]:
    """Vocabulary words one edit from `word`: a substitution, an insertion, a deletion or two
    adjacent letters swapped ("sihn" → "sinh"). Empty for short words and known words."""
    if len(word) < TYPO_MIN_LENGTH or word in vocabulary:
        return []
    return sorted(known for known in vocabulary if _one_edit(word, known))


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1 or "_" in b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    if len(a) == len(b):
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]  # a swap
    return a[i:] == b[i + 1 :]  # one insertion
