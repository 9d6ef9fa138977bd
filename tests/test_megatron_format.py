"""Our Megatron .bin/.idx against the real megatron-core: its reader on our output (tokenize and merge),
and its writer's bytes against ours. Plus reader/merge checks that need no torch."""

from __future__ import annotations

import importlib
import random
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tool.errors import BadInputError
from corpus_tool.stages.tokenize import megatron
from corpus_tool.stages.tokenize.megatron import DType, MegatronDataset, MegatronWriter, optimal_dtype


def _import_megatron():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module("megatron.core.datasets.indexed_dataset")
    except ImportError as e:  # pragma: no cover - CI installs the extra (scripts/install.sh)
        return e


@pytest.fixture(scope="module")
def mcore():
    """megatron-core's indexed_dataset module, imported once (about 6 s)."""
    module = _import_megatron()
    if isinstance(module, ImportError):
        pytest.skip(
            "!!! megatron-core/torch NOT IMPORTABLE: the Megatron compatibility tests did NOT run "
            f"({module}). Install them with `make install-test` (pip install -e '.[test,megatron]'). !!!"
        )
    return module


# ------------------------------------------------------------------------------------------ fixtures

HAN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
    "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
    "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处理府研质"
)


def mixed_texts(n: int, seed: int = 0) -> list[str]:
    """Chinese with English, digits, punctuation, emoji and odd whitespace, plus an empty document."""
    rng = random.Random(seed)
    pieces = [
        HAN,
        "，。！？、；：“”（）",
        " the model 2024 GPU ",
        "😀🎉",
        "\n",
        "\t",
        "　",
        "12345",
        "ＡＢＣ",
    ]
    texts = []
    for i in range(n):
        parts = []
        for _ in range(rng.randint(1, 40)):
            src = rng.choice(pieces)
            k = rng.randint(1, 12)
            parts.append("".join(rng.choice(src) for _ in range(k)) if src is HAN else src)
        texts.append("".join(parts))
        if i == 3:
            texts.append("")
    return texts


@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>"],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(mixed_texts(300, seed=1), trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


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


# ----------------------------------------------------------------------------- megatron-core reads ours


@pytest.mark.megatron
def test_megatron_core_reads_tokenize_output_and_merge(mcore, tokenizer_path, tmp_path, run_cli):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    eod = tok.token_to_id("<|endoftext|>")
    shard_texts = {"a": mixed_texts(40, seed=2), "b": mixed_texts(25, seed=3), "c": ["单个文档"]}
    inp = tmp_path / "in"
    inp.mkdir()
    for name, texts in shard_texts.items():
        write_shard(inp / f"{name}.parquet", texts)
    out = tmp_path / "tokens"
    run_cli("tokenize", str(inp), "-o", str(out), "--tokenizer", str(tokenizer_path), "--batch-size", "7")

    expected_all = []
    for name, texts in shard_texts.items():
        expected = [tok.encode(t).ids + [eod] for t in texts if t]
        expected_all.extend(expected)
        ds = mcore.IndexedDataset(str(out / name))
        assert len(ds) == len(expected)
        assert ds.document_indices.tolist() == list(range(len(expected) + 1))
        assert ds.sequence_lengths.tolist() == [len(e) for e in expected]
        for i, ids in enumerate(expected):
            assert ds[i].dtype == np.uint16
            assert ds[i].tolist() == ids, f"shard {name} document {i}"

    run_cli("merge", str(out), "-o", str(tmp_path / "merged" / "all"))
    merged = mcore.IndexedDataset(str(tmp_path / "merged" / "all"))
    assert len(merged) == len(expected_all)
    assert merged.document_indices.tolist() == list(range(len(expected_all) + 1))
    assert [merged[i].tolist() for i in range(len(merged))] == expected_all


def _mcore_build(mcore, prefix: Path, docs: list[list[list[int]]], dtype) -> None:
    import torch

    builder = mcore.IndexedDatasetBuilder(str(prefix) + ".bin", dtype=dtype)
    for doc in docs:
        for seq in doc:
            builder.add_item(torch.tensor(seq, dtype=torch.int64))
        builder.end_document()
    builder.finalize(str(prefix) + ".idx")


def _random_docs(rng: np.random.Generator, n: int, high: int) -> list[list[int]]:
    docs = [rng.integers(0, high, size=int(rng.integers(1, 50))).tolist() for _ in range(n)]
    docs[0][0] = high - 1  # the largest id the vocabulary allows
    return docs


@pytest.mark.megatron
@pytest.mark.parametrize("vocab_size, code", [(600, 8), (65499, 8), (65500, 4), (65536, 4), (151_936, 4)])
def test_bytes_identical_to_megatron_core_builder(mcore, tmp_path, vocab_size, code):
    dtype = optimal_dtype(vocab_size)
    assert int(dtype) == code
    assert mcore.DType.optimal_dtype(vocab_size) == np.dtype(dtype.name).type  # the same 65,500 boundary
    docs = _random_docs(np.random.default_rng(vocab_size), 60, vocab_size)
    _mcore_build(mcore, tmp_path / "theirs", [[d] for d in docs], np.dtype(dtype.name).type)
    writer = MegatronWriter(tmp_path / "ours", dtype)
    for start in range(0, len(docs), 17):  # several batches, as the stage writes them
        part = docs[start : start + 17]
        writer.add_documents(
            np.concatenate([np.array(d, np.uint32) for d in part]), np.array([len(d) for d in part])
        )
    writer.finish()
    for suffix in (".bin", ".idx"):
        ours = (tmp_path / f"ours{suffix}").read_bytes()
        theirs = (tmp_path / f"theirs{suffix}").read_bytes()
        assert ours == theirs, suffix
    assert (tmp_path / "ours.idx").stat().st_size == 42 + 20 * len(docs)


@pytest.mark.megatron
def test_empty_index_and_merge_match_megatron_core(mcore, tmp_path):
    """The .idx of zero sequences, and a merge of several datasets, byte for byte."""
    _mcore_build(mcore, tmp_path / "ref_empty", [], np.uint16)
    megatron.IndexWriter(tmp_path / "empty.idx", DType.uint16).write(np.zeros(0, np.int32))
    assert (tmp_path / "empty.idx").read_bytes() == (tmp_path / "ref_empty.idx").read_bytes()
    # megatron-core cannot open a dataset whose .bin is empty, so a shard with no documents writes nothing.
    writer = MegatronWriter(tmp_path / "none", DType.uint16)
    assert writer.finish() == [] and not list(tmp_path.glob("*none*"))

    rng = np.random.default_rng(7)
    parts = {
        "p1": _random_docs(rng, 5, 600),
        "p2": _random_docs(rng, 1, 600),
        "p3": _random_docs(rng, 9, 600),
    }
    for name, docs in parts.items():
        writer = MegatronWriter(tmp_path / name, DType.uint16)
        writer.add_documents(
            np.concatenate([np.array(d, np.uint32) for d in docs]), np.array([len(d) for d in docs])
        )
        writer.finish()
        _mcore_build(mcore, tmp_path / f"ref_{name}", [[d] for d in docs], np.uint16)
    megatron.merge([str(tmp_path / n) for n in parts], tmp_path / "ours_merged")
    builder = mcore.IndexedDatasetBuilder(str(tmp_path / "ref_merged.bin"), dtype=np.uint16)
    for name in parts:
        builder.add_index(str(tmp_path / f"ref_{name}"))
    builder.finalize(str(tmp_path / "ref_merged.idx"))
    for suffix in (".bin", ".idx"):
        assert (tmp_path / f"ours_merged{suffix}").read_bytes() == (
            tmp_path / f"ref_merged{suffix}"
        ).read_bytes()


@pytest.mark.megatron
def test_merge_of_multi_sequence_documents_matches_megatron_core(mcore, tmp_path):
    """Documents of several sequences (as --split-sentences writes): document indices must shift by
    sequences, not documents."""
    rng = np.random.default_rng(11)
    docs = [
        [rng.integers(0, 600, size=int(rng.integers(1, 9))).tolist() for _ in range(int(rng.integers(1, 4)))]
        for _ in range(12)
    ]
    _mcore_build(mcore, tmp_path / "x", docs[:5], np.uint16)
    _mcore_build(mcore, tmp_path / "y", docs[5:], np.uint16)
    megatron.merge([str(tmp_path / "x"), str(tmp_path / "y")], tmp_path / "ours")
    builder = mcore.IndexedDatasetBuilder(str(tmp_path / "ref.bin"), dtype=np.uint16)
    builder.add_index(str(tmp_path / "x"))
    builder.add_index(str(tmp_path / "y"))
    builder.finalize(str(tmp_path / "ref.idx"))
    assert (tmp_path / "ours.idx").read_bytes() == (tmp_path / "ref.idx").read_bytes()
    assert (tmp_path / "ours.bin").read_bytes() == (tmp_path / "ref.bin").read_bytes()
    ours = MegatronDataset(tmp_path / "ours")
    assert ours.num_documents == 12
    assert ours.document(7).tolist() == [t for seq in docs[7] for t in seq]


# ------------------------------------------------------------------------------ our reader, no torch


def test_reader_roundtrip_and_header_layout(tmp_path):
    docs = [[5, 6, 7], [1], [65498, 0, 3, 3]]
    writer = MegatronWriter(tmp_path / "d", optimal_dtype(65499))
    writer.add_documents(np.array([t for d in docs for t in d], np.uint32), np.array([len(d) for d in docs]))
    assert writer.finish() == [tmp_path / "d.bin", tmp_path / "d.idx"]
    raw = (tmp_path / "d.idx").read_bytes()
    assert raw[:9] == b"MMIDIDX\x00\x00"
    assert int.from_bytes(raw[9:17], "little") == 1 and raw[17] == 8
    assert int.from_bytes(raw[18:26], "little") == 3 and int.from_bytes(raw[26:34], "little") == 4
    assert np.frombuffer(raw, "<i4", 3, 34).tolist() == [3, 1, 4]
    assert np.frombuffer(raw, "<i8", 3, 46).tolist() == [0, 6, 8]
    assert np.frombuffer(raw, "<i8", 4, 70).tolist() == [0, 1, 2, 3]
    ds = MegatronDataset(tmp_path / "d")
    assert [ds[i].tolist() for i in range(len(ds))] == docs
    assert [ds.document(i).tolist() for i in range(ds.num_documents)] == docs
    assert (tmp_path / "d.bin").read_bytes() == np.array([t for d in docs for t in d], "<u2").tobytes()
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_reader_rejects_corrupt_files(tmp_path):
    writer = MegatronWriter(tmp_path / "d", DType.int32)
    writer.add_documents(np.array([1, 2, 3], np.uint32), np.array([3]))
    writer.finish()
    (tmp_path / "d.bin").write_bytes(b"\x00" * 8)  # one token short
    with pytest.raises(BadInputError, match="d.bin"):
        MegatronDataset(tmp_path / "d")
    (tmp_path / "d.idx").write_bytes(b"NOTANIDX" + b"\x00" * 40)
    with pytest.raises(BadInputError, match="not a Megatron index"):
        MegatronDataset(tmp_path / "d")


def test_merge_rejects_mixed_dtypes(tmp_path):
    for name, dtype in (("a", DType.uint16), ("b", DType.int32)):
        w = MegatronWriter(tmp_path / name, dtype)
        w.add_documents(np.array([1], np.uint32), np.array([1]))
        w.finish()
    with pytest.raises(BadInputError, match="dtype int32 differs"):
        megatron.merge([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "m")
    assert not (tmp_path / "m.bin").exists() and not list(tmp_path.glob(".m.*"))


@pytest.mark.megatron
def test_vocabulary_of_65500_writes_int32_that_megatron_core_reads(mcore, tokenizer_path, tmp_path, run_cli):
    """At the boundary (65,500 ids, Megatron's rule; datatrove would still use uint16) the stage writes
    int32, and the highest id survives the round trip."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.add_tokens([f"<extra_{i}>" for i in range(65500 - tok.get_vocab_size(with_added_tokens=True))])
    assert tok.get_vocab_size(with_added_tokens=True) == 65500
    big = tmp_path / "big.json"
    tok.save(str(big))
    texts = ["中文 <extra_0> 混合", f"最后一个 <extra_{65500 - 601}>", "普通文本"]
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "x.parquet", texts)
    run_cli("tokenize", str(inp), "-o", str(tmp_path / "out"), "--tokenizer", str(big))
    assert (tmp_path / "out" / "x.idx").read_bytes()[17] == 4
    ds = mcore.IndexedDataset(str(tmp_path / "out" / "x"))
    eod = tok.token_to_id("<|endoftext|>")
    assert [ds[i].tolist() for i in range(len(ds))] == [tok.encode(t).ids + [eod] for t in texts]
    assert ds[1].dtype == np.int32 and 65499 in ds[1].tolist()


def test_chunked_index_writing_gives_the_same_bytes(tmp_path, monkeypatch):
    """The .idx arrays are written in chunks of 1M entries; force tiny chunks and compare."""
    rng = np.random.default_rng(5)
    docs = _random_docs(rng, 50, 600)
    tokens = np.concatenate([np.array(d, np.uint32) for d in docs])
    lengths = np.array([len(d) for d in docs])
    outputs = {}
    for chunk in (1 << 20, 7):
        monkeypatch.setattr(megatron, "_CHUNK", chunk)
        for part in ("a", "b"):
            w = MegatronWriter(tmp_path / f"{part}{chunk}", DType.uint16)
            w.add_documents(tokens, lengths)
            w.finish()
        megatron.merge([str(tmp_path / f"a{chunk}"), str(tmp_path / f"b{chunk}")], tmp_path / f"m{chunk}")
        outputs[chunk] = [(tmp_path / f"{n}{chunk}.idx").read_bytes() for n in ("a", "m")]
    assert outputs[7] == outputs[1 << 20]
    merged = MegatronDataset(tmp_path / "m7")
    assert [merged[i].tolist() for i in range(len(merged))] == docs + docs
    assert merged.index.document_indices.tolist() == list(range(101))
