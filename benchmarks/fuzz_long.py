"""The long fuzz run: the targets of tests/test_reliability_fuzz.py (tests/badinput/fuzz.py), each for a time
budget instead of 40 examples, plus bit rot in Parquet shards. Prints, per target, the inputs run, the
crashes found (an exception other than the decided CorpusToolError, or a broken invariant) and the time;
then peak RSS. Record the figures in docs/reliability.md.

    .venv/bin/python benchmarks/fuzz_long.py --seconds 20          # 20 s per target (~9 minutes)
    .venv/bin/python benchmarks/fuzz_long.py --seconds 5 --only ingest
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import badinput as bad  # noqa: E402
from badinput import fuzz  # noqa: E402

from corpus_tool import shards  # noqa: E402
from corpus_tool.errors import BadInputError  # noqa: E402


def targets(workdir: Path) -> dict[str, tuple]:
    """name -> (strategy, function of one example)."""
    from corpus_tool.stages.filter import FilterStage
    from corpus_tool.stages.ingest.stage import IngestStage
    from corpus_tool.stages.ingest.subtitles import subtitles_to_text
    from corpus_tool.stages.langid import LangIdStage
    from corpus_tool.stages.normalize import NormalizeStage
    from corpus_tool.stages.perplexity import PerplexityStage

    ingest = IngestStage(max_record_bytes=200_000, max_doc_chars=50_000)
    out: dict[str, tuple] = {}

    def wrap(suffix: str, data: bytes, compress: bool) -> bytes:
        if not compress:
            return data
        if suffix.endswith(".gz"):
            return gzip.compress(data, mtime=0)
        if suffix.endswith(".zst"):
            return zstandard.ZstdCompressor().compress(data)
        return data

    for suffix in (".warc", ".warc.gz", ".jsonl", ".jsonl.gz", ".jsonl.zst", ".html", ".srt", ".vtt", ".txt"):
        out[f"ingest bytes {suffix}"] = (
            st.tuples(st.binary(max_size=4000), st.booleans()),
            lambda ex, s=suffix: fuzz.run_ingest_file(ingest, s, wrap(s, ex[0], ex[1])),
        )
    recs = bad.good_records(3) + [bad.warc_record(bad.http_response(bad.page(9)), record_type="request")]
    jsonl = b"\n".join(bad.jsonl_docs(20)) + b"\n"
    valid = {
        ".warc": b"".join(recs),
        ".warc.gz": b"".join(bad.gzip_member(r) for r in recs),
        ".jsonl.gz": gzip.compress(jsonl, mtime=0),
        ".jsonl.zst": zstandard.ZstdCompressor().compress(jsonl),
        ".html": bad.page(5),
    }
    for suffix, data in valid.items():
        out[f"ingest mutated {suffix}"] = (
            fuzz.mutations, lambda ops, s=suffix, d=data: fuzz.run_ingest_file(ingest, s, fuzz.mutate(d, ops))
        )
    out["stdin jsonl bytes"] = (st.binary(max_size=3000), fuzz.run_stdin_jsonl)
    out["subtitles text"] = (fuzz.mixed_script_text(), lambda t: subtitles_to_text(t).encode("utf-8"))

    model = workdir / "lm"
    subprocess.run([sys.executable, "-m", "corpus_tool", "train-lm", str(bad.REFERENCE_DIR), "-o", str(model)],
                   check=True, capture_output=True)
    for name, stage in (("langid", LangIdStage()), ("normalize", NormalizeStage()), ("filter", FilterStage()),
                        ("perplexity", PerplexityStage(model))):
        out[f"{name} process"] = (st.lists(fuzz.mixed_script_text(), min_size=1, max_size=6),
                                  lambda texts, s=stage: fuzz.run_text_stage(s, texts))

    from corpus_tool.stages.tokenize.encoder import TokenEncoder

    tok = workdir / "tok"
    subprocess.run([sys.executable, "-m", "corpus_tool", "train-tokenizer", str(bad.REFERENCE_DIR), "-o", str(tok)],
                   check=True, capture_output=True)
    encoder = TokenEncoder(tok, backend="auto", verify_fraction=0)
    out[f"tokenize {encoder.backend} == hf"] = (st.lists(fuzz.mixed_script_text(), min_size=1, max_size=6),
                                                lambda texts: fuzz.run_token_encoder(encoder, texts))

    shard = workdir / "src.parquet"
    bad.write_docs(shard, 60, seed=5, row_group_size=20)
    data = shard.read_bytes()

    def bitrot(ops) -> None:
        victim = workdir / "victim.parquet"
        victim.write_bytes(fuzz.mutate(data, ops))
        try:
            for batch in shards.iter_document_batches(str(victim), 25):
                batch.validate(full=True)
        except BadInputError:
            pass

    out["parquet bit rot"] = (fuzz.mutations, bitrot)
    return out


def run_target(strategy, fn, seconds: float) -> tuple[int, list[str]]:
    """Run `fn` on examples of `strategy` for about `seconds`; (inputs run, distinct crashes)."""
    count = 0
    crashes: dict[str, str] = {}
    deadline = time.perf_counter() + seconds
    rnd = random.Random(0)
    while time.perf_counter() < deadline:
        @settings(max_examples=100, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def one(example):
            nonlocal count
            count += 1
            fn(example)

        try:
            one._hypothesis_internal_use_seed = rnd.getrandbits(64)  # a different stream each round
            one()
        except Exception as e:  # noqa: BLE001 - a crash: record it, keep fuzzing
            key = f"{type(e).__name__}: {str(e)[:200]}"
            crashes.setdefault(key, traceback.format_exc(limit=4))
    return count, list(crashes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20, help="time per target (default 20)")
    ap.add_argument("--only", default="", help="run the targets whose name contains this")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    logging.getLogger("corpus_tool").setLevel(logging.ERROR)
    results = []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for name, (strategy, fn) in targets(Path(d)).items():
            if args.only not in name:
                continue
            t0 = time.perf_counter()
            n, crashes = run_target(strategy, fn, args.seconds)
            dt = time.perf_counter() - t0
            results.append({"target": name, "inputs": n, "crashes": crashes, "seconds": round(dt, 1)})
            print(f"{name:28s} {n:8,d} inputs  {len(crashes)} crash(es)  {dt:6.1f} s", flush=True)
            for c in crashes:
                print(f"    {c}", flush=True)
    total = sum(r["inputs"] for r in results)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total: {total:,} inputs, {sum(len(r['crashes']) for r in results)} crash(es), "
          f"{time.perf_counter() - t_all:.0f} s, peak RSS {rss:.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
