"""The tokenize stage through the real CLI: exact ids (both encoders), EOD handling, empty documents,
statistics, the flat format, merge's refusals, train-tokenizer. The megatron-core checks are in
test_megatron_format.py."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from corpus_tool.stages.tokenize import megatron
from corpus_tool.stages.tokenize.encoder import TokenEncoder
from corpus_tool.stages.tokenize.flat import FlatDataset

HAN = "中国人民共和国成立于年月日首都北京是政治文化中心经济发展迅速"
HAN += "科技创新能力不断提升教育医疗水平提高生活质量改善"
TRICKY = [
    "",
    " ",
    "\n\n",
    "\r\n行尾\r\n",
    "  多个  空格\t\t制表",
    "中文<|endoftext|>混合",  # the EOD text inside a document is encoded as the special token, as HF does
    "Hello, 世界! 123,456.78 ｆｕｌｌｗｉｄｔｈ　全角空格",
    "😀👍🏽 emoji 👨‍👩‍👧 组合",
    "e\u0301 combining; 日本語のテキスト、カタカナ; 한국어",
    "https://example.com/a?b=c&d=e 网址",
    "a\u2028b\u00a0c\u3000d\ufeffe",
    "I'm don't they're 数字1234567890一二三",
    "\x00控制\x01字符",
]


def mixed_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces = ["，", "。", "！", "“", "”", " ", "\n", "the ", "GPU ", "2024", "😀", "　", "Ａ", "\t"]
    out = []
    for _ in range(n):
        chars = [rng.choice(HAN) if rng.random() < 0.7 else rng.choice(pieces) for _ in range(rng.randint(1, 300))]
        out.append("".join(chars))
    return out


def train_bpe(path: Path, vocab_size: int = 500, eod: str | None = "<|endoftext|>", normalizer=None) -> Path:
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[eod] if eod else [],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(mixed_texts(200, seed=99) + TRICKY, trainer)
    tok.save(str(path))
    return path


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory) -> Path:
    return train_bpe(tmp_path_factory.mktemp("tok") / "tokenizer.json")


def write_shard(path: Path, texts: list[str]) -> None:
    pq.write_table(
        pa.table(
            {
                "id": [f"{path.stem}-{i}" for i in range(len(texts))],
                "text": texts,
                "source": [f"{path}#{i}" for i in range(len(texts))],
            }
        ),
        path,
    )


@pytest.fixture
def corpus(tmp_path) -> tuple[Path, dict[str, list[str]]]:
    texts = {"s1": TRICKY + mixed_texts(30, seed=1), "s2": mixed_texts(20, seed=2) + [""]}
    inp = tmp_path / "in"
    inp.mkdir()
    for name, t in texts.items():
        write_shard(inp / f"{name}.parquet", t)
    return inp, texts


# ------------------------------------------------------------------------------------------- encoder


@pytest.mark.parametrize("backend", ["gigatoken", "hf"])
def test_encoder_gives_exactly_hf_encode_ids(tok_path, backend):
    hf = Tokenizer.from_file(str(tok_path))
    texts = TRICKY + mixed_texts(400, seed=5)
    enc = TokenEncoder(tok_path, backend=backend, verify_fraction=0.0)
    assert enc.backend == backend
    out = enc.encode(texts)
    ends = np.cumsum(out.lengths)
    got = [out.tokens[e - n : e].tolist() for e, n in zip(ends, out.lengths, strict=True)]
    assert got == [hf.encode(t).ids for t in texts]
    assert got[TRICKY.index("中文<|endoftext|>混合")].count(hf.token_to_id("<|endoftext|>")) == 1


# The pre-tokenizer shape of Qwen2-style tokenizers: a GPT-4-like split regex, then byte-level mapping.
QWEN_LIKE_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def test_split_regex_nfc_tokenizer_is_exact_on_the_fast_path(tmp_path):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_LIKE_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>", "<|im_start|>"],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(mixed_texts(200, seed=21) + TRICKY, trainer)
    path = tmp_path / "qwen_like.json"
    tok.save(str(path))
    enc = TokenEncoder(path, backend="auto", verify_fraction=0.0)
    assert enc.backend == "gigatoken"
    texts = TRICKY + mixed_texts(300, seed=22) + ["<|im_start|>用户 你好<|endoftext|>"]
    assert enc.encode(texts).tokens.tolist() == [t for s in texts for t in tok.encode(s).ids]


def test_post_processor_bos_and_suffix_on_the_fast_path(tmp_path):
    """A Llama-style template (BOS before, a marker after every text): gigatoken encodes the text only, so
    the encoder adds what HF's post-processor adds, and still matches `encode(text).ids` exactly."""
    path = train_bpe(tmp_path / "t.json")
    tok = Tokenizer.from_file(str(path))
    tok.add_special_tokens(["<s>", "<sep>"])
    bos, sep = tok.token_to_id("<s>"), tok.token_to_id("<sep>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A <sep>", special_tokens=[("<s>", bos), ("<sep>", sep)]
    )
    tok.save(str(path))
    enc = TokenEncoder(path, backend="gigatoken", verify_fraction=0.0)
    assert (enc._prefix, enc._suffix) == ([bos], [sep])
    texts = TRICKY + mixed_texts(50, seed=8)
    out = enc.encode(texts)
    assert out.tokens.tolist() == [t for s in texts for t in tok.encode(s).ids]
    assert out.lengths.tolist() == [len(tok.encode(s).ids) for s in texts]
    assert tok.encode("").ids == [bos, sep]


def test_cache_reset_keeps_ids_identical(tok_path):
    """The fast path drops its pre-token cache every `cache_reset_chars`; ids must not change."""
    hf = Tokenizer.from_file(str(tok_path))
    enc = TokenEncoder(tok_path, backend="gigatoken", verify_fraction=0.0, cache_reset_chars=500)
    first = enc._gt
    for seed in range(4):
        texts = mixed_texts(20, seed=seed)
        assert enc.encode(texts).tokens.tolist() == [t for s in texts for t in hf.encode(s).ids]
    assert enc._gt is not first and enc.backend == "gigatoken"


def test_unsupported_tokenizer_falls_back_to_hf(tmp_path):
    path = train_bpe(tmp_path / "nfkc.json", normalizer=normalizers.NFKC())
    enc = TokenEncoder(path, backend="auto")
    assert enc.backend == "hf" and "NFKC" in (enc.fallback_reason or "")
    texts = ["ｆｕｌｌ　ｗｉｄｔｈ１２３ 中文，测试。", "①②③ ﬁ"]
    out = enc.encode(texts)
    hf = Tokenizer.from_file(str(path))
    assert out.tokens.tolist() == [t for s in texts for t in hf.encode(s).ids]


def test_fast_path_divergence_switches_to_hf(tok_path):
    """Fault injection: if the fast path ever returns other ids, the sampled check catches it, the batch
    is redone with HF and HF is used from then on."""
    hf = Tokenizer.from_file(str(tok_path))
    enc = TokenEncoder(tok_path, backend="gigatoken", verify_fraction=1.0)
    real = enc._encode_gigatoken

    def corrupt(texts):
        out = real(texts)
        out.tokens[0] = (int(out.tokens[0]) + 1) % 500
        return out

    enc._encode_gigatoken = corrupt
    texts = mixed_texts(10, seed=3)
    out = enc.encode(texts)
    assert out.tokens.tolist() == [t for s in texts for t in hf.encode(s).ids]
    assert enc.backend == "hf" and enc.mismatches == 1


# ----------------------------------------------------------------------------------------------- CLI


def test_tokenize_cli_writes_exact_ids_rejects_empty_and_reports_stats(tok_path, corpus, tmp_path, run_cli):
    inp, texts = corpus
    out = tmp_path / "tokens"
    proc = run_cli("tokenize", str(inp), "-o", str(out), "--tokenizer", str(tok_path.parent), "--batch-size", "16")
    hf = Tokenizer.from_file(str(tok_path))
    eod = hf.token_to_id("<|endoftext|>")
    for name, shard_texts in texts.items():
        ds = megatron.MegatronDataset(out / name)
        assert ds.dtype == megatron.DType.uint16
        expected = [hf.encode(t).ids + [eod] for t in shard_texts if hf.encode(t).ids]
        assert [ds[i].tolist() for i in range(len(ds))] == expected
        manifest = json.loads((out / "manifests" / f"{name}.json").read_text())
        empty = sum(1 for t in shard_texts if not hf.encode(t).ids)
        assert manifest["docs"] == {"in": len(shard_texts), "kept": len(expected), "rejected": empty}
        assert manifest["rejected_by_reason"] == ({"empty": empty} if empty else {})
        stats = manifest["stats"]
        assert stats["tokens"] == sum(map(len, expected)) == ds.num_tokens
        assert stats["documents"] == len(expected) and stats["eod_tokens"] == len(expected)
        kept_chars = sum(len(t) for t in shard_texts if hf.encode(t).ids)
        assert stats["chars_per_token"] == round(kept_chars / (stats["tokens"] - len(expected)), 4)
        lengths = [len(e) for e in expected]
        assert stats["tokens_per_document"]["max"] == max(lengths)
        assert stats["tokens_per_document"]["p50"] == sorted(lengths)[(len(lengths) + 1) // 2 - 1]
        hist = stats["tokens_per_document_histogram"]
        assert sum(b["documents"] for b in hist) == len(expected)
        assert [b["from"] for b in hist] == sorted(b["from"] for b in hist)
        for b in hist:
            assert b["documents"] == sum(1 for n in lengths if b["from"] <= n <= b["to"]) > 0
            assert b["to"] == 2 * b["from"] - 1
        assert manifest["resolved"]["eod"] == eod and manifest["resolved"]["dtype"] == "uint16"
        assert [f["path"] for f in manifest["outputs"]["kept"]] == [
            str(out / f"{name}.bin"),
            str(out / f"{name}.idx"),
        ]
    rejected = pq.read_table(out / "rejected" / "s2.parquet").to_pylist()
    assert [(r["text"], r["stage"], r["reason"]) for r in rejected] == [("", "tokenize", "empty")]
    summary = proc.stderr.decode()
    total = sum(len(megatron.MegatronDataset(out / n)._data) for n in texts)
    assert f"tokens {total:,}" in summary and "encoder gigatoken" in summary

    # a rerun skips finished shards; --overwrite redoes them with the same bytes
    before = (out / "s1.bin").read_bytes(), (out / "s1.idx").read_bytes()
    assert (
        "2 already finished"
        in run_cli("tokenize", str(inp), "-o", str(out), "--tokenizer", str(tok_path)).stderr.decode()
    )
    run_cli("tokenize", str(inp), "-o", str(out), "--tokenizer", str(tok_path), "--overwrite", "--backend", "hf")
    assert ((out / "s1.bin").read_bytes(), (out / "s1.idx").read_bytes()) == before
    assert not [p for p in out.rglob(".*")]


def test_eod_options(tok_path, corpus, tmp_path, run_cli):
    inp, texts = corpus
    hf = Tokenizer.from_file(str(tok_path))
    run_cli("tokenize", str(inp), "-o", str(tmp_path / "noeod"), "--tokenizer", str(tok_path), "--no-eod")
    run_cli("tokenize", str(inp), "-o", str(tmp_path / "eod7"), "--tokenizer", str(tok_path), "--eod", "7")
    expected = [hf.encode(t).ids for t in texts["s2"] if t]
    noeod = megatron.MegatronDataset(tmp_path / "noeod" / "s2")
    assert [noeod[i].tolist() for i in range(len(noeod))] == expected
    eod7 = megatron.MegatronDataset(tmp_path / "eod7" / "s2")
    assert [eod7[i].tolist() for i in range(len(eod7))] == [e + [7] for e in expected]

    bad = run_cli(
        "tokenize",
        str(inp),
        "-o",
        str(tmp_path / "x"),
        "--tokenizer",
        str(tok_path),
        "--eod",
        "500",
        check=False,
    )
    assert bad.returncode == 2 and "--eod 500" in bad.stderr.decode()


def test_tokenizer_without_eod_token_needs_eod_or_no_eod(tmp_path, corpus, run_cli):
    inp, _ = corpus
    path = train_bpe(tmp_path / "noeod.json", eod=None)
    proc = run_cli("tokenize", str(inp), "-o", str(tmp_path / "o"), "--tokenizer", str(path), check=False)
    assert proc.returncode == 2
    assert "no end-of-document token" in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()
    run_cli("tokenize", str(inp), "-o", str(tmp_path / "o"), "--tokenizer", str(path), "--no-eod")
    missing = run_cli("tokenize", str(inp), "-o", str(tmp_path / "p"), "--tokenizer", str(tmp_path), check=False)
    assert missing.returncode == 2 and "tokenizer.json" in missing.stderr.decode()


def test_flat_format_layout_and_reader(tok_path, corpus, tmp_path, run_cli):
    inp, texts = corpus
    out = tmp_path / "flat"
    run_cli("tokenize", str(inp), "-o", str(out), "--tokenizer", str(tok_path), "--format", "flat")
    hf = Tokenizer.from_file(str(tok_path))
    eod = hf.token_to_id("<|endoftext|>")
    expected = [hf.encode(t).ids + [eod] for t in texts["s1"] if hf.encode(t).ids]
    ds = FlatDataset(out / "s1")
    assert [ds[i].tolist() for i in range(len(ds))] == expected
    raw_tokens = np.frombuffer((out / "s1.tokens").read_bytes(), "<u2")  # nanoGPT reads exactly this
    assert raw_tokens.tolist() == [t for e in expected for t in e]
    ends = np.frombuffer((out / "s1.tokens.index").read_bytes(), "<u8")
    assert ends.tolist() == np.cumsum([len(e) for e in expected]).tolist()
    meta = json.loads((out / "s1.tokens.json").read_text())
    assert meta == {
        "format": "corpus-tool-flat",
        "version": 1,
        "dtype": "uint16",
        "documents": len(expected),
        "tokens": int(ends[-1]),
        "eod": eod,
        "vocab_size": 500,
    }
    manifest = json.loads((out / "manifests" / "s1.json").read_text())
    assert len(manifest["outputs"]["kept"]) == 3


def test_merge_cli_refuses_unfinished_shards_and_existing_output(tok_path, corpus, tmp_path, run_cli):
    inp, texts = corpus
    out = tmp_path / "tokens"
    run_cli("tokenize", str(inp), "-o", str(out), "--tokenizer", str(tok_path))
    proc = run_cli("merge", str(out / "s2"), str(out / "s1.idx"), "-o", str(tmp_path / "m"))
    merged = megatron.MegatronDataset(tmp_path / "m")
    parts = [megatron.MegatronDataset(out / n) for n in ("s2", "s1")]
    assert [merged[i].tolist() for i in range(len(merged))] == [p[i].tolist() for p in parts for i in range(len(p))]
    assert "documents" in proc.stderr.decode()
    again = run_cli("merge", str(out), "-o", str(tmp_path / "m"), check=False)
    assert again.returncode == 5 and "--overwrite" in again.stderr.decode()
    (out / "manifests" / "s2.json").unlink()
    unfinished = run_cli("merge", str(out), "-o", str(tmp_path / "m2"), check=False)
    assert unfinished.returncode == 2 and "s2.idx" in unfinished.stderr.decode()


def test_train_tokenizer_cli(tmp_path, run_cli):
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "a.parquet", mixed_texts(150, seed=11))
    (tmp_path / "extra.txt").write_text("\n".join(mixed_texts(50, seed=12)), encoding="utf-8")
    out = tmp_path / "tok"
    proc = run_cli("train-tokenizer", str(inp), str(tmp_path / "extra.txt"), "-o", str(out), "--vocab-size", "400")
    assert "EOD <|endoftext|> = 0" in proc.stderr.decode()
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert tok.get_vocab_size() == 400
    added = json.loads((out / "tokenizer.json").read_text())["added_tokens"]
    assert [(t["content"], t["id"], t["special"]) for t in added] == [("<|endoftext|>", 0, True)]
    hf_config = json.loads((out / "tokenizer_config.json").read_text())
    assert hf_config["eos_token"] == "<|endoftext|>" and hf_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    text = "中国人民，GPU 2024 年 😀 ﬁ"
    assert tok.decode(tok.encode(text).ids) == text  # byte-level: nothing is unknown
    merged_han = [t for t in tok.get_vocab() if len(tok.decode([tok.token_to_id(t)])) >= 2]
    assert merged_han, "BPE learned no merges"
    assert run_cli("train-tokenizer", str(inp), "-o", str(out), check=False).returncode == 5
    # the trained tokenizer works with tokenize (EOD found, gigatoken path)
    run_cli("tokenize", str(inp), "-o", str(tmp_path / "t"), "--tokenizer", str(out))
    ds = megatron.MegatronDataset(tmp_path / "t" / "a")
    assert ds[0].tolist() == tok.encode(mixed_texts(150, seed=11)[0]).ids + [0]


def test_help_has_examples(run_cli):
    for cmd in ("tokenize", "merge", "train-tokenizer"):
        out = run_cli(cmd, "--help").stdout.decode()
        assert "Examples" in out and "corpus-tool " + cmd in out


def test_config_file_sets_options(tok_path, corpus, tmp_path, run_cli):
    inp, texts = corpus
    cfg = tmp_path / "c.yaml"
    cfg.write_text("tokenize:\n  format: flat\n  no-eod: true\n  batch_size: 3\n", encoding="utf-8")
    run_cli("tokenize", str(inp), "-o", str(tmp_path / "o"), "--tokenizer", str(tok_path), "-c", str(cfg))
    hf = Tokenizer.from_file(str(tok_path))
    ds = FlatDataset(tmp_path / "o" / "s2")
    assert [ds[i].tolist() for i in range(len(ds))] == [hf.encode(t).ids for t in texts["s2"] if t]
    assert ds.meta["eod"] is None


def test_input_column_named_tokens_is_replaced(tok_path, tmp_path):
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.tokenize import TokenizeStage

    pq.write_table(
        pa.table({"id": ["a", "b"], "text": ["中文测试", "GPU"], "source": ["s", "s"], "tokens": [[1, 2], [3]]}),
        tmp_path / "x.parquet",
    )
    run_stage(TokenizeStage(tok_path), [str(tmp_path / "x.parquet")], str(tmp_path / "o"))
    hf = Tokenizer.from_file(str(tok_path))
    ds = megatron.MegatronDataset(tmp_path / "o" / "x")
    assert [ds[i].tolist() for i in range(2)] == [hf.encode(t).ids + [0] for t in ("中文测试", "GPU")]


def test_eod_from_tokenizer_config_eos_token(tmp_path, corpus, run_cli):
    """A model directory's tokenizer_config.json names the EOS token transformers (and Megatron's
    HuggingFaceTokenizer) use; it wins over the built-in list (<|endoftext|> is also in this vocabulary)."""
    inp, texts = corpus
    model = tmp_path / "model"
    model.mkdir()
    path = train_bpe(model / "tokenizer.json")
    tok = Tokenizer.from_file(str(path))
    tok.add_special_tokens(["<|im_end|>"])
    tok.save(str(path))
    (model / "tokenizer_config.json").write_text(json.dumps({"eos_token": {"content": "<|im_end|>"}}))
    run_cli("tokenize", str(inp), "-o", str(tmp_path / "o"), "--tokenizer", str(model))
    manifest = json.loads((tmp_path / "o" / "manifests" / "s2.json").read_text())
    im_end = tok.token_to_id("<|im_end|>")
    assert (manifest["resolved"]["eod"], manifest["resolved"]["eod_token"]) == (im_end, "<|im_end|>")
    ds = megatron.MegatronDataset(tmp_path / "o" / "s2")
    assert all(ds[i].tolist()[-1] == im_end for i in range(len(ds)))
