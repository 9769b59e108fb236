"""Deterministic text methods: normalised error signatures and summary term statistics."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from observatory.improve.stats import fisher_greater, holm

_SUBS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"https?://\S+"), "<url>"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "<email>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`"), "<str>"),
    (re.compile(r"(?:[a-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?"), "<path>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<addr>"),
    (re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{12,}\b"), "<id>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
]
MAX_SIGNATURE = 160


def error_signature(message: str) -> str:
    """A stable key for "the same error": lower case, with paths, quoted strings, ids, numbers,
    URLs and addresses replaced by placeholders; for a traceback, its last line."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[-1] if lines[0].lower().startswith("traceback") else lines[0]
    sig = line.lower()
    for pattern, repl in _SUBS:
        sig = pattern.sub(repl, sig)
    return sig.strip()[:MAX_SIGNATURE]


STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does done for from had has have he
    her his how i if in into is it its just more most no not of on or our out over she so some
    than that the their them then there these they this to too up us was we were what when where
    which while who why will with would you your after again all also any because before both
    each few further here once only other own same should such very ai agent task session it's
    got get did didn't doesn't don't""".split()
)
_CLAUSE = re.compile(r"[.;:!?,()\n]+(?:\s|$)|\n")
_WORD = re.compile(r"[a-z][a-z0-9_'-]+")


def terms(text: str) -> set[str]:
    """Unigrams and bigrams of a summary, stopwords removed; bigrams never cross a sentence or
    clause boundary."""
    out: set[str] = set()
    for clause in _CLAUSE.split(text.lower()):
        words = [w.strip("'-") for w in _WORD.findall(clause)]
        words = [w for w in words if len(w) >= 2 and w not in STOPWORDS]
        out.update(words)
        out.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return out


@dataclass(frozen=True)
class TermStat:
    term: str
    docs_failed: int
    docs_other: int
    failed_total: int
    other_total: int
    lift: float
    p_value: float
    p_adjusted: float


def over_represented_terms(
    failed: Sequence[str],
    other: Sequence[str],
    *,
    min_docs: int = 3,
    alpha: float = 0.05,
    max_terms: int = 20,
) -> list[TermStat]:
    """Terms found in failed-review summaries significantly more often than in the others
    (one-sided Fisher exact test per term, Holm-corrected over all terms tested)."""
    if not failed:
        return []
    df_failed = _doc_freq(failed)
    df_other = _doc_freq(other)
    candidates = [t for t, n in df_failed.items() if n >= min_docs]
    nf, no = len(failed), len(other)
    pvals = [fisher_greater(df_failed[t], nf, df_other[t], no) for t in candidates]
    adjusted = holm(pvals)
    found: list[TermStat] = []
    for t, p, pa in zip(candidates, pvals, adjusted, strict=True):
        if pa is None or pa >= alpha:
            continue
        share_f = df_failed[t] / nf
        share_all = (df_failed[t] + df_other[t]) / (nf + no)
        found.append(TermStat(t, df_failed[t], df_other[t], nf, no, share_f / share_all, p, pa))
    found.sort(key=lambda s: (s.p_value, -s.docs_failed, s.term))
    # A bigram makes its own words redundant when they occur only inside it.
    kept: list[TermStat] = []
    bigrams = {s.term: s for s in found if " " in s.term}
    for s in found:
        if " " not in s.term and any(
            s.term in b.split() and b_stat.docs_failed == s.docs_failed
            for b, b_stat in bigrams.items()
        ):
            continue
        kept.append(s)
    return kept[:max_terms]


def _doc_freq(docs: Iterable[str]) -> Counter[str]:
    c: Counter[str] = Counter()
    for d in docs:
        c.update(terms(d))
    return c
