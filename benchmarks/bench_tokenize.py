"""Benchmark `corpus-tool tokenize` against a plain HF encode_batch loop and a Megatron-style preprocess.

    .venv/bin/python benchmarks/bench_tokenize.py --mb 30
    .venv/bin/python benchmarks/bench_tokenize.py --mb 30 --text-dir ../shared/devdata/text/zhwiki

The corpus is Chinese Wikipedia text (default: ../shared/devdata/text/zhwiki, 100 articles) cut into
documents of about 2,000 characters and scaled up to --mb megabytes. Copies after the first get one Han
character in ten replaced (drawn from the corpus's own character frequencies): a byte-level BPE
pre-token is a whole run of Han characters between punctuation, so plain copies would make every
pre-token cache look better than it is on a real crawl. A byte-level BPE (--vocab-size) is trained on the
original text with `corpus-tool train-tokenizer`.

Each contender runs in its own process; we report wall time, CPU time (user + sys, children included),
MB/s per core (= bytes / CPU seconds), tokens/s and peak RSS:
- corpus-tool tokenize, --threads 1 (one core) and --threads 0 (every core); gigatoken and --backend hf
- floor: HF `Tokenizer.encode_batch` over batches of 1,024 documents (RAYON_RS_NUM_CPUS=1), no output
- Megatron-style: the loop of Megatron-LM tools/preprocess_data.py re-created here (the script is not
  in the megatron-core wheel): JSONL lines through multiprocessing.Pool.imap(chunksize=32), json.loads,
  one `encode(text).ids` per document, EOD appended, megatron-core's IndexedDatasetBuilder.add_document.
  It uses the `tokenizers` Tokenizer directly where Megatron uses transformers' wrapper around it.
Then checks that our .bin/.idx are byte-identical to the Megatron-style output.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = REPO.parent / "shared" / "devdata" / "text" / "zhwiki"
DOC_CHARS = 2000


# ------------------------------------------------------------------------------------------- corpus


def build_corpus(text_dir: Path, megabytes: float, work: Path, seed: int = 0) -> tuple[Path, Path, int, int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [Path(f).read_text(encoding="utf-8") for f in sorted(glob.glob(str(text_dir / "*.txt")))]
    if not texts:
        raise SystemExit(f"no .txt files in {text_dir}")
    base = [t[i : i + DOC_CHARS] for t in texts for i in range(0, len(t), DOC_CHARS)]
    codes = np.frombuffer("".join(base).encode("utf-32-le"), dtype="<u4")
    han = codes[(codes >= 0x4E00) & (codes <= 0x9FFF)]
    rng = np.random.default_rng(seed)
    docs: list[str] = []
    size, copy = 0, 0
    target = int(megabytes * 1e6)
    while size < target:
        order = random.Random(seed + copy).sample(range(len(base)), len(base))
        for i in order:
            doc = base[i]
            if copy:
                arr = np.frombuffer(doc.encode("utf-32-le"), dtype="<u4").copy()
                is_han = (arr >= 0x4E00) & (arr <= 0x9FFF)
                swap = is_han & (rng.random(len(arr)) < 0.1)
                arr[swap] = rng.choice(han, size=int(swap.sum()))
                doc = arr.tobytes().decode("utf-32-le")
            docs.append(doc)
            size += len(doc.encode("utf-8"))
            if size >= target:
                break
        copy += 1
    work.mkdir(parents=True, exist_ok=True)
    shard_dir = work / "corpus"
    shard_dir.mkdir(exist_ok=True)
    table = pa.table(
        {
            "id": [f"d{i}" for i in range(len(docs))],
            "text": docs,
            "source": [f"bench#{i}" for i in range(len(docs))],
        }
    )
    # row groups of 1,024 documents, like the shards the earlier stages write batch by batch
    pq.write_table(table, shard_dir / "bench.parquet", compression="zstd", row_group_size=1024)
    jsonl = work / "corpus.jsonl"
    with open(jsonl, "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps({"text": d}, ensure_ascii=False) + "\n")
    return shard_dir, jsonl, size, len(docs)


# --------------------------------------------------------------------------------------- contenders


def child_floor(args: argparse.Namespace) -> dict:
    import pyarrow.parquet as pq
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(args.tokenizer)
    texts = pq.read_table(args.corpus_file).column("text").to_pylist()
    t0 = time.perf_counter()
    tokens = 0
    for i in range(0, len(texts), 1024):
        tokens += sum(len(e.ids) for e in tok.encode_batch(texts[i : i + 1024]))
    return {"tokens": tokens, "timed_wall": time.perf_counter() - t0}


_MEGATRON_TOKENIZER = None
_MEGATRON_EOD = 0


def _megatron_init(path: str) -> None:
    global _MEGATRON_TOKENIZER, _MEGATRON_EOD
    from tokenizers import Tokenizer

    _MEGATRON_TOKENIZER = Tokenizer.from_file(path)
    _MEGATRON_EOD = _MEGATRON_TOKENIZER.token_to_id("<|endoftext|>")


def _megatron_encode(line: str) -> tuple[list[int], list[int], int]:
    text = json.loads(line)["text"]
    ids = _MEGATRON_TOKENIZER.encode(text).ids
    lens = [len(ids)] if ids else []
    if ids:
        ids.append(_MEGATRON_EOD)
        lens[-1] += 1
    return ids, lens, len(line)


def child_megatron(args: argparse.Namespace) -> dict:
    import multiprocessing
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from megatron.core.datasets import indexed_dataset
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(args.tokenizer).get_vocab_size(with_added_tokens=True)
    t0 = time.perf_counter()
    builder = indexed_dataset.IndexedDatasetBuilder(
        args.out + ".bin", dtype=indexed_dataset.DType.optimal_dtype(vocab)
    )
    tokens = 0
    with (
        open(args.jsonl, encoding="utf-8") as fin,
        multiprocessing.Pool(args.workers, initializer=_megatron_init, initargs=(args.tokenizer,)) as pool,
    ):
        for ids, lens, _ in pool.imap(_megatron_encode, fin, 32):
            builder.add_document(ids, lens)
            tokens += len(ids)
        pool.close()
        pool.join()
    builder.finalize(args.out + ".idx")
    return {"tokens": tokens, "timed_wall": time.perf_counter() - t0}


def child_ours(args: argparse.Namespace) -> dict:
    from corpus_tool import cli

    argv = ["tokenize", args.corpus_dir, "-o", args.out, "--tokenizer", args.tokenizer, "--overwrite"]
    argv += ["--threads", str(args.threads), "--backend", args.backend, "--batch-size", "1024"]
    t0 = time.perf_counter()
    try:
        cli.main(argv)
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    manifest = json.loads((Path(args.out) / "manifests" / "bench.json").read_text())
    return {
        "tokens": manifest["stats"]["tokens"],
        "timed_wall": time.perf_counter() - t0,
        "chars_per_token": manifest["stats"]["chars_per_token"],
        "encoder": manifest["stats"]["backend"],
    }


def run_child(kind: str, extra: list[str], env: dict | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_main(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    result = {"floor": child_floor, "megatron": child_megatron, "ours": child_ours}[args.child](args)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    rc = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["wall"] = time.perf_counter() - start
    result["cpu"] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime) + rc.ru_utime + rc.ru_stime
    result["rss_mb"] = max(r1.ru_maxrss, rc.ru_maxrss) / 1024
    print(json.dumps(result))


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mb", type=float, default=30.0, help="corpus size in MB of UTF-8 text")
    p.add_argument("--text-dir", type=Path, default=DEFAULT_TEXT)
    p.add_argument("--work", type=Path, default=Path("/tmp/bench_tokenize"))
    p.add_argument("--vocab-size", type=int, default=32000)
    p.add_argument("--skip-megatron", action="store_true")
    # child-process mode (internal)
    p.add_argument("--child")
    p.add_argument("--tokenizer")
    p.add_argument("--corpus-dir")
    p.add_argument("--corpus-file")
    p.add_argument("--jsonl")
    p.add_argument("--out")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--backend", default="auto")
    args = p.parse_args()
    if args.child:
        child_main(args)
        return

    work = args.work
    shard_dir, jsonl, nbytes, ndocs = build_corpus(args.text_dir, args.mb, work)
    mb = nbytes / 1e6
    print(f"corpus: {mb:.1f} MB of Chinese text, {ndocs:,} documents")
    tok_dir = work / "tok"
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "corpus_tool",
            "train-tokenizer",
            str(args.text_dir),
            "-o",
            str(tok_dir),
            "--vocab-size",
            str(args.vocab_size),
            "--overwrite",
        ],
        check=True,
        capture_output=True,
    )
    print(
        f"train-tokenizer: byte-level BPE, vocabulary {args.vocab_size:,}, {time.perf_counter() - t0:.1f} s"
    )
    tokenizer = str(tok_dir / "tokenizer.json")

    runs: list[tuple[str, dict]] = []
    common = ["--tokenizer", tokenizer, "--corpus-dir", str(shard_dir)]
    for label, threads, backend in (
        ("corpus-tool tokenize, 1 thread", 1, "auto"),
        ("corpus-tool tokenize, all cores", 0, "auto"),
        ("corpus-tool tokenize --backend hf, 1 thread", 1, "hf"),
    ):
        out = work / f"ours_t{threads}_{backend}"
        env = {"RAYON_NUM_THREADS": "1", "RAYON_RS_NUM_CPUS": "1"} if threads == 1 else {}
        runs.append(
            (
                label,
                run_child(
                    "ours", [*common, "--out", str(out), "--threads", str(threads), "--backend", backend], env
                ),
            )
        )
    runs.append(
        (
            "floor: HF encode_batch loop, 1 thread",
            run_child(
                "floor",
                ["--tokenizer", tokenizer, "--corpus-file", str(shard_dir / "bench.parquet")],
                {"RAYON_RS_NUM_CPUS": "1"},
            ),
        )
    )
    identical = None
    if not args.skip_megatron:
        meg = work / "megatron" / "bench_text_document"
        meg.parent.mkdir(parents=True, exist_ok=True)
        runs.append(
            (
                "Megatron-style preprocess_data, 1 worker",
                run_child(
                    "megatron",
                    ["--tokenizer", tokenizer, "--jsonl", str(jsonl), "--out", str(meg), "--workers", "1"],
                    {"RAYON_RS_NUM_CPUS": "1", "TOKENIZERS_PARALLELISM": "false"},
                ),
            )
        )
        ours = work / "ours_t1_auto" / "bench"
        identical = all(
            Path(f"{ours}{s}").read_bytes() == Path(f"{meg}{s}").read_bytes() for s in (".bin", ".idx")
        )

    print(
        f"\n{'contender':48} {'wall s':>7} {'cpu s':>7} {'MB/s/core':>10} {'MB/s wall':>10} "
        f"{'Mtok/s/core':>11} {'docs/s/core':>11} {'peak RSS MB':>11}"
    )
    for label, r in runs:
        print(
            f"{label:48} {r['wall']:7.2f} {r['cpu']:7.2f} {mb / r['cpu']:10.2f} {mb / r['wall']:10.2f} "
            f"{r['tokens'] / r['cpu'] / 1e6:11.2f} {ndocs / r['cpu']:11.0f} {r['rss_mb']:11.0f}"
        )
    base = dict(runs)
    ours1 = base["corpus-tool tokenize, 1 thread"]
    print(
        f"\ntokens: {ours1['tokens']:,}; chars/token {ours1['chars_per_token']}; encoder {ours1['encoder']}"
    )
    floor = base["floor: HF encode_batch loop, 1 thread"]
    print(f"ours (1 thread) vs HF encode_batch floor, per core: {floor['cpu'] / ours1['cpu']:.1f}x")
    if identical is not None:
        meg_r = base["Megatron-style preprocess_data, 1 worker"]
        print(f"ours (1 thread) vs Megatron-style preprocess, per core: {meg_r['cpu'] / ours1['cpu']:.1f}x")
        print(f".bin/.idx byte-identical to the Megatron-style output: {'yes' if identical else 'NO'}")
    print("(2-core machine shared with other engineers: figures are indicative)")


if __name__ == "__main__":
    main()
