"""Golden output of the filter on generated documents (tests/filter_fixtures.py) with the rules pinned in
tests/fixtures/filter_rules_golden.yaml: the speed work must leave every verdict, detail string and cleaned
text byte-identical. Documents with edge characters (々 〇, zero-width characters, emoji, marks...) are
hashed apart, so that a change of the character-class table shows there and nowhere else."""

from __future__ import annotations

from pathlib import Path

from filter_fixtures import documents, verdict_digest

from corpus_tool.stages import filter as flt

RULES = Path(__file__).parent / "fixtures" / "filter_rules_golden.yaml"

GOLDEN = {
    "plain": "1c7e843c5e181882f4690ef8e738eaaa3e5c3545983014eac8c53f44c71d39bc",
    "edge": "d4fd516cd8a558a8b92dae4268ec71f5c02bc530a895387dac2524f485ef607a",
}


def test_filter_output_matches_the_golden_hashes():
    rules, _ = flt.load_rules(RULES)
    docs = documents()
    groups: dict[str, list] = {"plain": [], "edge": []}
    for i, d in enumerate(docs):
        groups["edge" if i % 5 == 3 else "plain"].append(flt.judge(rules, d))
    got = {k: verdict_digest(v) for k, v in groups.items()}
    assert got == GOLDEN
