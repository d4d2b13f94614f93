"""Ranked procedure retrieval: BM25 (the `bm25s` library) over every text a procedure has.

One BM25 index per text field, scores summed with the field's weight (a BM25F-like sum rather
than repeating the name four times in one document: each field keeps its own length
normalisation, and the explanation can say which field a term matched):

    name ×4, result (tên kết quả) ×2, faq (the questions of its active FAQ entries) ×1.5,
    field (lĩnh vực) ×1, body (components, steps, legal basis) ×1, agencies ×1

FAQ questions are how citizens actually ask ("khai sinh cho con có mất tiền không"), so they
weigh more than the body but less than the catalog's own name and result. FAQ answers are not
indexed: they are composed from the catalog's fields (name, papers, fees) that the other fields
already index, and an answer that mentions another procedure ("… thay bằng thủ tục X") would
make this one match X's words.

Documents and queries are turned into terms by `assistant.text` (folded syllables with i/y made
one, and syllable bigrams). A query is widened with the synonym table (longest phrase first) and
with one-edit corrections of syllables the catalog does not have.

The index lives in each process's memory, built on first use and rebuilt when the catalog
version changes. The version is read from the database (counts and last changes of procedures,
assignments, fields, agencies and synonyms), at most every CHECK_SECONDS per process, so an edit
made in any process (admin, import, another worker) is searched within a minute. No model signals
(docs/architecture.md: cross-app reactions are explicit); a write in this process calls
`invalidate()` and is searched at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache

import bm25s
import numpy as np
from django.db.models import Count, Max, Q

from chinhquyenso.assistant.models import FaqEntry, Synonym
from chinhquyenso.assistant.text import (
    DATA,
    bigrams,
    drop_stop_phrases,
    one_edit_away,
    stop_phrases,
    syllables,
    terms,
)
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.procedures.models import (
    Field,
    Procedure,
    ProcedureAgency,
    ProcessStep,
    RequiredComponent,
    ServiceLevel,
)

FIELD_WEIGHTS = {"name": 4.0, "result": 2.0, "faq": 1.5, "field": 1.0, "body": 1.0, "agency": 1.0}
FIELD_LABELS = {
    "name": "tên thủ tục",
    "result": "kết quả",
    "faq": "câu hỏi thường gặp",
    "field": "lĩnh vực",
    "body": "hồ sơ, quy trình, căn cứ",
    "agency": "cơ quan",
    "variant": "biến thể không được hỏi tới",
}
# Prefer the base procedure over its variants ("Cấp lại …", "Gia hạn …", "… có yếu tố nước
# ngoài") unless the question says so: data/variants.txt lists the markers; a procedure whose
# name has a marker the question does not say has its score multiplied by this (once).
VARIANT_FACTOR = 0.8
# A synonym replaces the phrase: the syllables the user typed inside it count at this weight
# (none: "đổi bằng lái xe" must not prefer "… bằng lái xe của nước ngoài cấp" for the words the
# synonym translated; an expansion that should keep the phrase's words repeats them). A one-edit
# correction of an unknown syllable counts at TYPO_WEIGHT.
IN_SYNONYM_WEIGHT = 0.0
TYPO_WEIGHT = 0.5
# An expansion's terms weigh (phrase syllables / expansion syllables), between this and 1.
MIN_EXPANSION_WEIGHT = 0.4
# An agency list longer than this is indexed by kind only ("UBND cấp xã"): 156 commune names would
# make every commune name match every commune procedure.
MAX_AGENCY_NAMES = 5
CHECK_SECONDS = 30


@dataclass(frozen=True)
class Contribution:
    term: str
    field: str
    weight: float  # the query term's weight times the field's weight
    score: float  # weight × BM25 of the term in that field


@dataclass(frozen=True)
class Hit:
    procedure_id: int
    code: str
    name: str
    score: float
    field_code: str = ""
    field_name: str = ""
    levels: tuple[str, ...] = ()
    service_level: str = ""
    explanation: tuple[Contribution, ...] = ()


@dataclass(frozen=True)
class QueryTerm:
    term: str
    weight: float
    source: str  # "truy vấn", "đồng nghĩa: sổ đỏ", "sửa lỗi gõ: sihn"


@dataclass
class _Doc:
    id: int
    code: str
    name: str
    field_code: str
    field_name: str
    levels: tuple[str, ...]
    service_level: str
    texts: dict[str, list[str]] = field(default_factory=dict)


class CatalogIndex:
    def __init__(self, version: str, docs: list[_Doc], synonyms: list[tuple[str, str]]):
        self.version = version
        self.docs = docs
        self.by_code = {d.code.casefold(): i for i, d in enumerate(docs)}
        self.ids = np.array([d.id for d in docs], dtype=np.int64)
        self.field_codes = np.array([d.field_code for d in docs], dtype=object)
        self.service_levels = np.array([d.service_level for d in docs], dtype=object)
        self.retrievers: dict[str, bm25s.BM25] = {}
        self.doc_freq: Counter[str] = Counter()
        for name in FIELD_WEIGHTS:
            corpus = [d.texts.get(name) or [] for d in docs]
            if not any(corpus):
                continue
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
            self.retrievers[name] = retriever
            for tokens in corpus:
                self.doc_freq.update(set(tokens))
        self.unigrams = frozenset(t for t in self.doc_freq if "_" not in t)
        # Synonyms: folded phrase tokens → expansion tokens; the longest phrase first.
        self.synonyms: dict[tuple[str, ...], tuple[str, ...]] = {}
        for phrase, expansion in synonyms:
            key, value = tuple(syllables(phrase)), tuple(syllables(expansion))
            if key and value:
                self.synonyms[key] = value
        self.max_phrase = max((len(k) for k in self.synonyms), default=0)
        # Words that are never "corrected": the catalog's, the synonym phrases', the stop phrases'.
        self.known = self.unigrams | {t for k in self.synonyms for t in k} | {t for p in stop_phrases() for t in p}

    # ------------------------------------------------------------------ query

    def analyse(self, query: str) -> list[QueryTerm]:
        """The weighted terms a query is searched by, each with where it came from."""
        tokens = syllables(query)
        weights = [1.0] * len(tokens)
        notes = [""] * len(tokens)
        extra: list[QueryTerm] = []
        for i, token in enumerate(tokens):
            candidates = one_edit_away(token, self.known) if token not in self.known else []
            if candidates:
                candidates.sort(key=lambda c: (-self.doc_freq[c], c))
                tokens[i], weights[i], notes[i] = candidates[0], TYPO_WEIGHT, f"sửa lỗi gõ: {token}"
                extra += [QueryTerm(c, TYPO_WEIGHT, f"sửa lỗi gõ: {token}") for c in candidates[1:]]
        result: list[QueryTerm] = []
        run: list[int] = []  # positions of the current stretch outside any synonym phrase

        def flush(positions, scale=1.0, source=""):
            kept = drop_question_words(drop_stop_phrases([tokens[p] for p in positions]))
            # Stop phrases removed, the remaining positions in order (a token may repeat: match by walk).
            walk, pos = [], iter(positions)
            for token in kept:
                for p in pos:
                    if tokens[p] == token:
                        walk.append(p)
                        break
            for p in walk:
                result.append(QueryTerm(tokens[p], weights[p] * scale, source or notes[p] or "truy vấn"))
            for a, b in zip(walk, walk[1:]):
                (bigram,) = bigrams([tokens[a], tokens[b]])
                note = notes[a] or notes[b]
                result.append(QueryTerm(bigram, min(weights[a], weights[b]) * scale, source or note or "truy vấn"))

        i = 0
        while i < len(tokens):
            for length in range(min(self.max_phrase, len(tokens) - i), 0, -1):
                expansion = self.synonyms.get(tuple(tokens[i : i + length]))
                if expansion:
                    flush(run)
                    run = []
                    phrase = " ".join(tokens[i : i + length])
                    if IN_SYNONYM_WEIGHT:
                        flush(range(i, i + length), IN_SYNONYM_WEIGHT, f"đồng nghĩa: {phrase}")
                    # A long expansion must not outweigh the rest of the question ("giấy phép kinh doanh
                    # karaoke": karaoke decides): its terms share the weight of the phrase it replaces.
                    scale = min(1.0, max(MIN_EXPANSION_WEIGHT, length / len(expansion)))
                    result.extend(QueryTerm(t, scale, f"đồng nghĩa: {phrase}") for t in terms(list(expansion)))
                    i += length
                    break
            else:
                run.append(i)
                i += 1
        flush(run)
        # A term met twice (typed and in an expansion) counts once, at its highest weight: "đổi
        # bằng lái xe" must not weigh "xe" double and prefer the name that repeats it.
        merged: dict[str, QueryTerm] = {}
        for qt in result + extra:
            if qt.weight > 0 and (qt.term not in merged or qt.weight > merged[qt.term].weight):
                merged[qt.term] = qt
        return list(merged.values())

    def search(
        self, query: str, *, field_code="", level="", service_level="", procedure_ids=None, limit=20
    ) -> list[Hit]:
        if not self.docs:
            return []
        mask = np.ones(len(self.docs), dtype=bool)
        if procedure_ids is not None:
            mask &= np.isin(self.ids, np.fromiter(procedure_ids, dtype=np.int64))
        if field_code:
            mask &= self.field_codes == field_code
        if service_level:
            mask &= self.service_levels == service_level
        if level:
            mask &= np.array([level in d.levels for d in self.docs], dtype=bool)
        total = np.zeros(len(self.docs), dtype=np.float32)
        parts: list[tuple[str, str, float, np.ndarray]] = []
        analysed = self.analyse(query)
        for qt in analysed:
            for name, retriever in self.retrievers.items():
                token_id = retriever.vocab_dict.get(qt.term)
                if token_id is None:
                    continue
                scores = retriever.get_scores_from_ids([token_id])
                weight = qt.weight * FIELD_WEIGHTS[name]
                total += weight * scores
                parts.append((qt.term, name, weight, scores))
        prior = total * (VARIANT_FACTOR - 1.0) * self._unasked_variants({qt.term for qt in analysed})
        total += prior
        exact = self.by_code.get(query.strip().casefold())
        if exact is not None:
            total[exact] += total.max() + 100.0  # a procedure code typed in full comes first
        total[~mask] = 0
        candidates = np.flatnonzero(total > 0)
        order = candidates[np.lexsort((candidates, -total[candidates]))][: max(limit, 0)]
        hits = []
        for i in order:
            doc = self.docs[i]
            explanation = sorted(
                (
                    Contribution(term, name, round(weight, 3), round(float(weight * scores[i]), 4))
                    for term, name, weight, scores in parts
                    if scores[i] > 0
                ),
                key=lambda c: -c.score,
            )
            if prior[i]:
                explanation.append(
                    Contribution(f"hệ số {VARIANT_FACTOR:g}", "variant", VARIANT_FACTOR, round(float(prior[i]), 4))
                )
            hits.append(
                Hit(
                    procedure_id=doc.id,
                    code=doc.code,
                    name=doc.name,
                    score=round(float(total[i]), 4),
                    field_code=doc.field_code,
                    field_name=doc.field_name,
                    levels=doc.levels,
                    service_level=doc.service_level,
                    explanation=tuple(explanation),
                )
            )
        return hits

    def _unasked_variants(self, query_terms: set[str]) -> np.ndarray:
        """1 for each procedure whose name has a variant marker the query does not say, else 0."""
        if not hasattr(self, "_variant_names"):
            names = [" " + " ".join(syllables(d.name)) + " " for d in self.docs]
            self._variant_names = [
                (np.array([f" {' '.join(marker)} " in n for n in names]), asks) for marker, asks in variant_markers()
            ]
        out = np.zeros(len(self.docs), dtype=np.float32)
        for in_name, asks in self._variant_names:
            # A way is said when its syllable (one) or all its bigrams (several) are query terms.
            if not any(set(bigrams(list(ask)) or ask) <= query_terms for ask in asks):
                out[in_name] = 1.0
        return out


@cache
def question_words() -> tuple[tuple[str, ...], ...]:
    """data/question_words.txt, longest first: what a question asks about a procedure ("bao lâu",
    "lệ phí", "cần giấy gì"), left out of the search terms only (answers.py reads the kind of
    question from them, and FAQ questions share them, so they would rank by the kind asked)."""
    lines = (DATA / "question_words.txt").read_text(encoding="utf-8").splitlines()
    phrases = {tuple(syllables(line.split("#", 1)[0])) for line in lines} - {()}
    return tuple(sorted(phrases, key=lambda p: (-len(p), p)))


def drop_question_words(tokens: list[str]) -> list[str]:
    kept, i = [], 0
    while i < len(tokens):
        phrase = next((p for p in question_words() if tuple(tokens[i : i + len(p)]) == p), None)
        if phrase:
            i += len(phrase)
        else:
            kept.append(tokens[i])
            i += 1
    return kept


@cache
def variant_markers() -> tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...]:
    """data/variants.txt: (marker syllables, (ways a question says it, the marker first))."""
    rows = []
    for line in (DATA / "variants.txt").read_text(encoding="utf-8").splitlines():
        ways = [tuple(syllables(w)) for w in line.split("#", 1)[0].split("|")]
        ways = [w for w in ways if w]
        if ways:
            rows.append((ways[0], tuple(ways)))
    return tuple(rows)


# ---------------------------------------------------------------------- building


def _piece_terms(texts) -> list[str]:
    """Terms of several separate texts (bigrams never cross from one to the next)."""
    out: list[str] = []
    for text in texts:
        out += terms(syllables(text))
    return out


def _title_terms(text) -> list[str]:
    """A title's terms, each once: a name that repeats a word ("… lái xe hoặc bằng lái xe …") is
    not more about it, and BM25 would rank it above the plain name for that word."""
    return list(dict.fromkeys(terms(syllables(text))))


def _documents() -> list[_Doc]:
    """Every active procedure's texts, read as plain rows: building model objects for tens of
    thousands of agency assignments made a rebuild take seconds (docs/benchmarks.md §10)."""
    rows = (
        Procedure.objects.filter(is_active=True)
        .order_by("code")
        .values_list(
            "pk", "code", "name", "field__code", "field__name", "levels", "service_level", "result_name", "legal_basis"
        )
    )
    body, agency_ids = defaultdict(list), defaultdict(set)
    for procedure_id, name in RequiredComponent.objects.order_by("procedure_id", "order").values_list(
        "procedure_id", "name"
    ):
        body[procedure_id].append(name)
    for procedure_id, name, agency_id in ProcessStep.objects.order_by("procedure_id", "order").values_list(
        "procedure_id", "name", "agency_id"
    ):
        body[procedure_id].append(name)
        if agency_id:
            agency_ids[procedure_id].add(agency_id)
    for procedure_id, agency_id in ProcedureAgency.objects.filter(valid_to__isnull=True).values_list(
        "procedure_id", "agency_id"
    ):
        agency_ids[procedure_id].add(agency_id)
    needed = set().union(*agency_ids.values()) if agency_ids else set()
    agencies = {
        pk: (AgencyKind(kind).label, name)
        for pk, kind, name in Agency.objects.filter(pk__in=needed).values_list("pk", "kind", "name")
    }
    faq = defaultdict(list)
    for procedure_id, question in (
        FaqEntry.objects.filter(is_active=True).order_by("id").values_list("procedure_id", "question")
    ):
        faq[procedure_id].append(question)
    docs = []
    for pk, code, name, field_code, field_name, levels, service_level, result_name, legal_basis in rows:
        handling = [agencies[a] for a in agency_ids[pk] if a in agencies]
        agency_texts = sorted({kind for kind, _ in handling})
        if len(handling) <= MAX_AGENCY_NAMES:
            agency_texts += sorted(agency_name for _, agency_name in handling)
        docs.append(
            _Doc(
                id=pk,
                code=code,
                name=name,
                field_code=field_code,
                field_name=field_name,
                levels=tuple(levels or ()),
                service_level=service_level,
                texts={
                    "name": _title_terms(name),
                    "result": _title_terms(result_name),
                    "faq": _piece_terms(faq[pk]),
                    "field": _piece_terms([field_name]),
                    "body": _piece_terms([*body[pk], legal_basis]),
                    "agency": _piece_terms(agency_texts),
                },
            )
        )
    return docs


def catalog_version() -> str:
    """Changes whenever anything the index reads changes. Cheap: aggregates over indexed or
    small tables. Procedure edits (admin, import, save_procedure) all save the procedure row, so
    its updated_at covers components and steps; assignments move by new rows (max id) or closing
    rows (open count); agency renames are new agency rows (org keeps history); FAQ entries and
    synonyms by count (a deletion) and last change."""
    parts = [
        Procedure.objects.aggregate(
            n=Count("id"), changed=Max("updated_at"), active=Count("id", filter=Q(is_active=True))
        ),
        ProcedureAgency.objects.aggregate(
            n=Count("id"), last=Max("id"), open=Count("id", filter=Q(valid_to__isnull=True))
        ),
        Agency.objects.aggregate(n=Count("id"), last=Max("id"), open=Count("id", filter=Q(valid_to__isnull=True))),
        Synonym.objects.aggregate(n=Count("id"), changed=Max("updated_at")),
        FaqEntry.objects.aggregate(n=Count("id"), changed=Max("updated_at")),
        sorted(Field.objects.values_list("id", "name")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def build(version: str | None = None) -> CatalogIndex:
    version = version or catalog_version()
    synonyms = list(Synonym.objects.filter(is_active=True).values_list("phrase", "expansion"))
    return CatalogIndex(version, _documents(), synonyms)


_lock = threading.Lock()
_state: dict = {"index": None, "checked": 0.0}


def current() -> CatalogIndex:
    """This process's index, rebuilt when the catalog version changed (checked at most every
    CHECK_SECONDS)."""
    index = _state["index"]
    if index is not None and time.monotonic() - _state["checked"] < CHECK_SECONDS:
        return index
    with _lock:
        version = catalog_version()
        index = _state["index"]
        if index is None or index.version != version:
            index = build(version)
            _state["index"] = index
        _state["checked"] = time.monotonic()
        return index


def invalidate() -> None:
    """Check the catalog version on the next search (a write in this process)."""
    _state["checked"] = 0.0


# ---------------------------------------------------------------------- the API


def search(
    query: str,
    *,
    field_code: str = "",
    level: str = "",
    service_level: str = "",
    procedure_ids=None,
    limit: int = 20,
) -> list[Hit]:
    """Active procedures ranked by relevance to `query`, best first; filters narrow the ranking
    (`procedure_ids`: only these procedures, e.g. those an agency handles)."""
    if not query or not query.strip():
        return []
    return current().search(
        query,
        field_code=field_code,
        level=level,
        service_level=service_level,
        procedure_ids=procedure_ids,
        limit=limit,
    )


def procedures_of(hits: list[Hit]) -> list[Procedure]:
    """The hits' procedures (with their field) in the hits' order: one query."""
    by_id = Procedure.objects.select_related("field").in_bulk([h.procedure_id for h in hits])
    return [by_id[h.procedure_id] for h in hits if h.procedure_id in by_id]


def ranked_ids(query: str, *, field_code: str = "", service_level: str = "", limit: int = 50) -> list[int]:
    """The provider of core.registry.PROCEDURE_SEARCH (the procedures API reads it from below)."""
    hits = search(query, field_code=field_code, service_level=service_level, limit=limit)
    return [h.procedure_id for h in hits]


def analyse(query: str) -> list[QueryTerm]:
    """The weighted terms `search` uses for `query` (for the maintainers' debug view)."""
    return current().analyse(query)


def facets(hits: list[Hit]) -> dict[str, list[dict]]:
    """Counts of the hits by field, by level of the agency that handles them, by service level."""
    fields: Counter[tuple[str, str]] = Counter((h.field_code, h.field_name) for h in hits)
    levels: Counter[str] = Counter(level for h in hits for level in h.levels)
    service: Counter[str] = Counter(h.service_level for h in hits)
    level_names = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
    return {
        "field": [
            {"value": code, "label": name, "count": n}
            for (code, name), n in sorted(fields.items(), key=lambda kv: (-kv[1], kv[0][1]))
        ],
        "level": [
            {"value": v, "label": level_names.get(v, v), "count": n}
            for v, n in sorted(levels.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "service_level": [
            {"value": v, "label": dict(ServiceLevel.choices).get(v, v), "count": n}
            for v, n in sorted(service.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


def explain(hit: Hit) -> list[str]:
    """The hit's score as lines a catalog maintainer reads: 'khai_sinh (tên thủ tục) ×4: 3,21'."""
    merged: defaultdict[tuple[str, str], float] = defaultdict(float)
    for c in hit.explanation:
        merged[(c.term, c.field)] += c.score
    return [
        f"{term.replace('_', ' ')} ({FIELD_LABELS[name]}): {score:.2f}".replace(".", ",")
        for (term, name), score in sorted(merged.items(), key=lambda kv: -kv[1])
    ]
