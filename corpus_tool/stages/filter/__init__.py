"""Heuristic quality filter: Chinese-aware rules declared in YAML (rules/zh_web.yaml is the default).

A rule file holds a list of rules; each has a `name` (the stable `reason` key a rejection carries), a `kind`
(a registered function), `params`, a one-line `why`, and optionally `skip_kinds`/`only_kinds` (document
kinds from meta["kind"], e.g. transcripts, that the rule leaves alone or is limited to). Rules run in file
order on one document at a time and stop at the first failure. A *cleaner* kind may instead rewrite the
text (remove lines) and record its rule name in the `cleaned` column; later rules judge what is left.

Layout (one module per concern; a filter is a predicate with a reason, as in datatrove):
- docview.py: `DocView`, the per-document features every rule shares, on the shared character table
  (corpus_tool/charclass.py);
- registry.py: `@rule_kind`, `Rule`, the checker protocol (`check(doc, signals=None)`);
- rules_chars.py (length, han_ratio, symbol_ratio, char_run), rules_repetition.py (gopher_repetition),
  rules_lines.py (lines, letterless_lines, boilerplate_lines), rules_words.py (word_density, stop_words):
  the rule families;
- wordlists.py: word lists and the literal-trie regex compiler;
- loader.py: the YAML loader; stage.py: `judge` and `FilterStage`.

Speed: features are computed once, lazily, with numpy. jieba runs only in the stop-word rule, on a few
short windows, never on the whole document. Every regex is an alternation of literals shaped as a trie, so
no input makes it backtrack catastrophically.
"""

from corpus_tool.stages.filter.docview import ALNUM, HAN, PUNCT, SPACE, Cleaned, DocView, classify
from corpus_tool.stages.filter.loader import default_rules_path, load_rules
from corpus_tool.stages.filter.registry import RULE_KINDS, Checker, Rule, rule_kind
from corpus_tool.stages.filter.rules_chars import (
    char_run_rule,
    han_ratio,
    han_ratio_rule,
    length_rule,
    symbol_ratio_rule,
)
from corpus_tool.stages.filter.rules_lines import (
    SENTENCE_END,
    boilerplate_lines_rule,
    letterless_lines_rule,
    lines_rule,
)
from corpus_tool.stages.filter.rules_repetition import (
    duplicate_ngram_fractions,
    gopher_repetition_rule,
    top_ngram_fraction,
)
from corpus_tool.stages.filter.rules_words import stop_words_rule, word_density_rule
from corpus_tool.stages.filter.stage import FilterStage, Verdict, document_kind, judge
from corpus_tool.stages.filter.wordlists import literal_trie_regex, read_word_list

__all__ = [
    "ALNUM", "HAN", "PUNCT", "RULE_KINDS", "SENTENCE_END", "SPACE", "Checker", "Cleaned", "DocView",
    "FilterStage", "Rule", "Verdict", "boilerplate_lines_rule", "char_run_rule", "classify",
    "default_rules_path", "document_kind", "duplicate_ngram_fractions", "gopher_repetition_rule", "han_ratio",
    "han_ratio_rule", "judge", "length_rule", "letterless_lines_rule", "lines_rule", "literal_trie_regex",
    "load_rules", "read_word_list", "rule_kind", "stop_words_rule", "symbol_ratio_rule", "top_ngram_fraction",
    "word_density_rule",
]
