"""Short fuzz runs (hypothesis) over the ingest readers, the stdin JSONL reader, subtitles, and the text
stages' process(); the same targets run much longer in benchmarks/fuzz_long.py (counts in
docs/reliability.md). Also: the default filter rules against adversarial strings under a time bound, and
rule files loaded safely."""

from __future__ import annotations

import gzip
import json
import os
import time

import badinput as bad
import pytest
import zstandard
from badinput import faults, fuzz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tool.stages.ingest.stage import IngestStage
from corpus_tool.stages.ingest.subtitles import subtitles_to_text

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def ingest_stage():
    return IngestStage(max_record_bytes=200_000, max_doc_chars=50_000)


def _wrap(suffix: str, data: bytes) -> bytes:
    if suffix.endswith(".gz"):
        return gzip.compress(data, mtime=0)
    if suffix.endswith(".zst"):
        return zstandard.ZstdCompressor().compress(data)
    return data


# ------------------------------------------------------------------------------------------- ingest

SUFFIXES = [".warc", ".warc.gz", ".jsonl", ".jsonl.gz", ".jsonl.zst", ".html", ".srt", ".vtt", ".txt", ".md"]


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(data=st.binary(max_size=3000), wrap=st.booleans())
def test_ingest_reads_arbitrary_bytes(ingest_stage, suffix, data, wrap):
    fuzz.run_ingest_file(ingest_stage, suffix, _wrap(suffix, data) if wrap else data)


@pytest.fixture(scope="module")
def valid_inputs() -> dict[str, bytes]:
    recs = bad.good_records(3) + [bad.warc_record(bad.http_response(bad.page(9)), record_type="request")]
    jsonl = b"\n".join(bad.jsonl_docs(20)) + b"\n"
    return {
        ".warc": b"".join(recs),
        ".warc.gz": b"".join(bad.gzip_member(r) for r in recs),
        ".jsonl": jsonl,
        ".jsonl.gz": gzip.compress(jsonl, mtime=0),
        ".jsonl.zst": zstandard.ZstdCompressor().compress(jsonl),
        ".html": bad.page(5),
        ".vtt": "WEBVTT\n\n00:00.000 --> 00:01.000\n第一句\n\n00:01.000 --> 00:02.000\n第二句\n".encode(),
    }


@pytest.mark.parametrize("suffix", [".warc", ".warc.gz", ".jsonl", ".jsonl.gz", ".jsonl.zst", ".html", ".vtt"])
@FUZZ
@given(ops=fuzz.mutations)
def test_ingest_reads_mutated_valid_inputs(ingest_stage, valid_inputs, suffix, ops):
    """Byte flips, truncations, inserted junk, deleted and duplicated spans of a valid input."""
    fuzz.run_ingest_file(ingest_stage, suffix, fuzz.mutate(valid_inputs[suffix], ops))


def test_ingest_mutation_target_can_fail(ingest_stage, valid_inputs):
    """The target sees records: an unmutated WARC gives its three documents (so the fuzz test is not vacuous)."""
    assert fuzz.run_ingest_file(ingest_stage, ".warc.gz", valid_inputs[".warc.gz"]) == (3, 0)


# ------------------------------------------------------------------------------------------ stdin JSONL

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_stdin_jsonl_arbitrary_bytes(data):
    fuzz.run_stdin_jsonl(data)


@FUZZ
@given(rows=st.lists(st.dictionaries(st.sampled_from(["id", "text", "source", "lang", "lang_score", "meta",
                                                       "normalized", "ppl", "other"]), json_values), max_size=8))
def test_stdin_jsonl_arbitrary_rows(rows):
    fuzz.run_stdin_jsonl(b"".join(json.dumps(r).encode() + b"\n" for r in rows))


# -------------------------------------------------------------------------------------------- subtitles

timestamps = st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 9999)).map(
    lambda t: f"{t[0]:02d}:{t[1]:02d}:{t[2]:02d},{t[3]:03d}")


@FUZZ
@given(cues=st.lists(st.tuples(st.integers(0, 10**25), timestamps, timestamps, fuzz.mixed_script_text()),
                     max_size=20), vtt=st.booleans(), junk=st.text(max_size=200))
def test_subtitles_never_crash(cues, vtt, junk):
    body = "".join(f"{n}\n{a} --> {b}\n{text}\n\n" for n, a, b, text in cues)
    text = ("WEBVTT\n\n" + body.replace(",", ".") if vtt else body) + junk
    out = subtitles_to_text(text)
    assert isinstance(out, str)
    out.encode("utf-8")


# ----------------------------------------------------------------------------------------- text stages


@pytest.fixture(scope="module")
def text_stages(tmp_path_factory):
    from corpus_tool.stages.filter import FilterStage
    from corpus_tool.stages.langid import LangIdStage
    from corpus_tool.stages.normalize import NormalizeStage
    from corpus_tool.stages.perplexity import PerplexityStage

    model = tmp_path_factory.mktemp("lm") / "lm"
    proc = faults.run(faults.cli_argv("train-lm", str(bad.REFERENCE_DIR), "-o", str(model)))
    assert proc.returncode == 0, proc.stderr.decode()
    return {"langid": LangIdStage(), "normalize": NormalizeStage(), "filter": FilterStage(),
            "perplexity": PerplexityStage(model)}


@pytest.mark.parametrize("name", ["langid", "normalize", "filter", "perplexity"])
@FUZZ
@given(texts=st.lists(fuzz.mixed_script_text(), min_size=1, max_size=6))
def test_text_stage_process_on_arbitrary_unicode(text_stages, name, texts):
    fuzz.run_text_stage(text_stages[name], texts)


@pytest.fixture(scope="module")
def fast_encoder(tmp_path_factory):
    from corpus_tool.stages.tokenize.encoder import TokenEncoder

    tok = tmp_path_factory.mktemp("tok") / "tok"
    proc = faults.run(faults.cli_argv("train-tokenizer", str(bad.REFERENCE_DIR), "-o", str(tok)))
    assert proc.returncode == 0, proc.stderr.decode()
    encoder = TokenEncoder(tok, backend="auto", verify_fraction=0)
    if encoder.backend != "gigatoken":
        pytest.skip(f"the fast encoder is not in use here ({encoder.fallback_reason})")
    return encoder


@FUZZ
@given(texts=st.lists(fuzz.mixed_script_text(), min_size=1, max_size=6))
def test_tokenize_fast_path_equals_hf_on_arbitrary_unicode(fast_encoder, texts):
    fuzz.run_token_encoder(fast_encoder, texts)


# ------------------------------------------------------------------------------- filter rule regexes


def _wordlist_words() -> list[str]:
    words = []
    for f in sorted((bad.REFERENCE_DIR.parents[1] / "rules" / "wordlists").glob("*.txt")):
        words += [w.strip() for w in f.read_text(encoding="utf-8").splitlines() if w.strip() and w[0] != "#"]
    return words


def adversarial_strings() -> dict[str, str]:
    """About 1 MB each: long runs, near-miss prefixes of every listed word, nested-looking and alternation
    text, lines that are all markers."""
    m = 1_000_000
    words = _wordlist_words()
    prefixes = "".join(w[:-1] for w in words if len(w) > 1)
    return {
        "one_char": "a" * m,
        "one_han": "中" * m,
        "newlines": "\n" * m,
        "han_lines": "中\n" * (m // 2),
        "word_prefixes": (prefixes * (m // max(1, len(prefixes)) + 1))[:m],
        "word_prefix_lines": ("\n".join(w[:-1] for w in words) * 400)[:m],
        "all_words_glued": ("".join(words) * 400)[:m],
        "all_words_lines": ("\n".join(words) * 400)[:m],
        "alternation": ("|".join(words) * 400)[:m],
        "nested_looking": "((((((((((" * (m // 20) + "))))))))))" * (m // 20),
        "optional_looking": "a?" * (m // 2),
        "punctuation": "。，！" * (m // 3),
        "zero_width": "\u200b" * m,
        "combining": "e" + "\u0301" * m,
        "emoji": "😀" * (m // 2),
        "almost_run": ("中" * 999 + "a") * 1000,
        "stop_chars": "的了是在" * (m // 4),
        "marker_lines": "上一篇\n" * (m // 4),
    }


def _rule_cpu_seconds(rule, text: str) -> float:
    from corpus_tool.stages.filter import DocView

    doc = DocView(text)
    t0 = time.process_time()  # CPU time: other processes on a loaded machine do not count
    rule.check(doc)
    return time.process_time() - t0


def test_default_rules_do_not_backtrack_on_adversarial_text():
    """Every default rule, alone (so that the length rule cannot stop the document first), on every
    adversarial string: its CPU time grows linearly. Where a rule takes over 0.25 s on the 1 MB string, it is
    timed again on a sixteenth of it: linear work takes about 16x as long on the whole (up to ~25x measured,
    from cache effects), backtracking (quadratic or worse) 256x or more, so over 64x fails. And no rule takes
    over 20 s of CPU on 1 MB (normal text: ~0.1 s)."""
    from corpus_tool.stages.filter import load_rules

    rules, _ = load_rules()
    assert len(rules) >= 10
    slow = []
    for name, text in adversarial_strings().items():
        for rule in rules:
            whole = _rule_cpu_seconds(rule, text)
            if whole > 20.0:
                slow.append(f"{rule.name} on {name}: {whole:.1f} s")
            elif whole > 0.25:
                part = max(_rule_cpu_seconds(rule, text[: len(text) // 16]), 1e-3)
                if whole / part > 64.0:
                    slow.append(f"{rule.name} on {name}: {whole:.2f} s, {part:.3f} s on a sixteenth")
    assert not slow, slow


def test_rule_file_with_object_construction_is_refused(tmp_path):
    marker = tmp_path / "PWNED"
    rules = tmp_path / "evil.yaml"
    rules.write_text(f'rules:\n  - name: x\n    kind: !!python/object/apply:os.system ["touch {marker}"]\n')
    docs = bad.docs_dir(tmp_path / "in", 1, 5)
    proc = faults.run(faults.cli_argv("filter", str(docs), "-o", str(tmp_path / "out"), "--rules", str(rules)))
    faults.assert_clean_error(proc, 2, str(rules), "not valid YAML")
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_rule_file_that_is_not_utf8_is_a_usage_error(tmp_path):
    rules = tmp_path / "latin1.yaml"
    rules.write_bytes("rules:\n  - name: caf\xe9\n".encode("latin-1"))
    docs = bad.docs_dir(tmp_path / "in", 1, 5)
    proc = faults.run(faults.cli_argv("filter", str(docs), "-o", str(tmp_path / "out"), "--rules", str(rules)))
    faults.assert_clean_error(proc, 2, str(rules))


@pytest.mark.parametrize("name", ["langid", "normalize", "filter", "perplexity"])
def test_text_stages_on_adversarial_megabyte_documents(text_stages, name):
    """Each adversarial 1 MB string as one document through the whole stage: bounded time (measured here:
    worst 1.0 s, normalize on a megabyte of one-word lines), valid output."""
    slow = []
    for key, text in adversarial_strings().items():
        t0 = time.perf_counter()
        fuzz.run_text_stage(text_stages[name], [text])
        dt = time.perf_counter() - t0
        if dt > 5.0:
            slow.append(f"{key}: {dt:.1f} s")
    assert not slow, slow
