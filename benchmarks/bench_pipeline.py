#!/usr/bin/env python
"""End-to-end throughput of the whole pipeline (`corpus-tool run --executor local`) on the scaled sample
corpus or on real HTML pages, with 1 and 2 workers: MB/s of raw input per core, docs/s, and peak RSS per worker.

    .venv/bin/python benchmarks/bench_pipeline.py                  # 40 copies of the sample, 1 and 2 workers
    .venv/bin/python benchmarks/bench_pipeline.py --copies 100 --workers 1 2 4 --num-shards 8
    .venv/bin/python benchmarks/bench_pipeline.py --html ../shared/devdata/html --copies 3   # real HTML in WARCs
    .venv/bin/python benchmarks/bench_pipeline.py --mixed 110 --workers 2 --files 8 --num-shards 4  # JSONL

`--mixed MB`: JSONL documents of real Simplified and Traditional paragraphs mixed inside documents
(benchmarks/devcorpus.py `mixed_script_jsonl`, built once into /tmp), split into `--files` JSONL files: the
issue-15 measurement, JSONL to tokens. "Text MB" there is the UTF-8 size of the documents' text. The fixed
cost is measured on the same number of files holding 5 documents each (the same tasks, almost no data).
It is set beside tokenizing alone: HF `Tokenizer.encode_batch` with the pipeline's own tokenizer over the
same texts, in batches of 1,024 on one thread (RAYON_RS_NUM_CPUS=1), in a process of its own; only the
encode loop's CPU is counted (not reading the JSONL), so the ratio is the pipeline's cost in units of the
bare tokenizer's.

`--html DIR`: every *.html file under DIR (recursively) becomes an HTTP 200 text/html response record in
`--warcs` per-record-gzipped WARC files (round robin), `--copies` times. Each copy replaces a deterministic
random `--han-rate` (15%) of the Han characters in the page's text (outside tags, <script>, <style> and
comments) by other common Han characters (the 1,500 most frequent in the pages that GB2312 can encode, so a
GBK page stays GBK), so the copies are not near-duplicates (5-gram Jaccard about 0.85^5 / (2 - 0.85^5) =
0.28 between two copies; measured on the devdata pages' whole Han text: 0.25 on average, at most 0.46) and
dedup and tokenize see realistic volumes; pages without Han text
(the German and Polish ones) stay exact duplicates and dedup keeps one of each. The fixed cost is measured on
one small page per WARC file.

The sample corpus (corpus_tool/data/sample: a WARC, HTML, JSONL.zst, Markdown, text, SRT, VTT) is copied
`--copies` times under distinct names. The copies are exact duplicates of each other, so every stage up to
perplexity processes all of them and dedup removes all but one copy of each (tokenize then sees about
1/copies of the data): the figure is representative for ingest..perplexity and dedup, optimistic for
tokenize. The KenLM model and the tokenizer are trained once beforehand (the demo trains them as pipeline
steps; here they are a fixed cost left out of the throughput).

"Raw MB" counts the input as a crawler stores it, decompressed (.gz and .zst payloads at their full size).
"Per core" divides by the CPU time (user + system) of every task process (RUSAGE_CHILDREN of `corpus-tool
run`, which waits for its tasks), which other work on a shared machine disturbs less than wall time does.
Peak RSS per worker is the largest ru_maxrss among the task processes (recorded by the local executor from
wait4 in OUT/.pipeline/tasks/*/*.json, with each task's cpu_seconds). Per stage, "in shards" is the CPU the
runner records in each shard's manifest (timings.cpu_seconds): the stage's own work, without start-up.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpus_tool" / "data" / "sample"
CLI = [sys.executable, "-m", "corpus_tool"]


def raw_size(path: Path) -> int:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        # Per-record gzip members: gzip.decompress reads them all.
        return len(gzip.decompress(data))
    if path.name.endswith(".zst"):
        with zstandard.ZstdDecompressor().stream_reader(data) as r:
            return len(r.read())
    return len(data)


def scaled_corpus(dest: Path, copies: int) -> int:
    dest.mkdir(parents=True)
    total = 0
    for i in range(copies):
        for p in sorted(SAMPLE.iterdir()):
            stem, dot, rest = p.name.partition(".")
            (dest / f"{stem}-{i:04d}{dot}{rest}").write_bytes(p.read_bytes())
            total += raw_size(p)
    return total


_HAN = re.compile("[\u4e00-\u9fff]")
# Markup whose text is not page text: tags, scripts, styles, comments (the text between them is perturbed).
_MARKUP = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-]{2,40})""", re.I)
_CODECS = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "windows-1250": "cp1250"}


def _page_codec(data: bytes) -> str:
    """The codec that round-trips the page: UTF-8 when it decodes as such, else its meta label."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        m = _META_CHARSET.search(data, 0, 4096)
        label = m.group(1).decode().lower() if m else "gb18030"
        return _CODECS.get(label, label)


def common_han(pages: list[str], n: int = 1500) -> list[str]:
    """The `n` most frequent Han characters of the pages that GB2312 can encode (replacements keep a GBK
    page encodable)."""
    counts = Counter(c for page in pages for c in _HAN.findall(page))
    chars = []
    for c, _ in counts.most_common():
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        chars.append(c)
        if len(chars) == n:
            break
    return chars


def perturb_han(page: str, rng: random.Random, rate: float, alphabet: list[str]) -> str:
    """Replace about `rate` of the Han characters outside markup by random other common ones."""

    def sub_han(m: re.Match) -> str:
        c = m.group(0)
        if rng.random() >= rate:
            return c
        r = rng.choice(alphabet)
        return r if r != c else rng.choice(alphabet)

    parts = _MARKUP.split(page)
    for i in range(0, len(parts), 2):  # even parts are text between markup
        if parts[i]:
            parts[i] = _HAN.sub(sub_han, parts[i])
    return "".join(parts)


def html_warc_corpus(
    dest: Path, html_dir: Path, copies: int, warcs: int, rate: float = 0.15, seed: int = 1, limit: int = 0
) -> tuple[int, int]:
    """Write the pages under `html_dir` `copies` times into `warcs` per-record-gzipped WARC files; return
    (raw bytes = the decompressed WARC size, pages written). `limit` > 0 takes only the `limit` smallest
    pages, one copy (the fixed-cost run)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    files = sorted(p for p in html_dir.rglob("*.html") if p.is_file())
    if limit:
        files = sorted(files, key=lambda p: p.stat().st_size)[:limit]
    raw_pages = [p.read_bytes() for p in files]
    codecs_ = [_page_codec(b) for b in raw_pages]
    texts = [b.decode(c, "surrogateescape") for b, c in zip(raw_pages, codecs_, strict=True)]
    alphabet = common_han(texts)
    dest.mkdir(parents=True)
    handles = [open(dest / f"html-{k:03d}.warc.gz", "wb") for k in range(warcs)]  # noqa: SIM115
    writers = [WARCWriter(h, gzip=True) for h in handles]
    n = 0
    try:
        for copy in range(copies):
            for i, (path, text, codec) in enumerate(zip(files, texts, codecs_, strict=True)):
                rng = random.Random(f"{seed}:{i}:{copy}")
                body = perturb_han(text, rng, rate, alphabet).encode(codec, "surrogateescape")
                rel = path.relative_to(html_dir).as_posix()
                http = StatusAndHeaders(
                    "200 OK",
                    [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                    protocol="HTTP/1.1",
                )
                writer = writers[n % warcs]
                record = writer.create_warc_record(
                    f"http://bench.example/{rel}?copy={copy}",
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=http,
                )
                writer.write_record(record)
                n += 1
    finally:
        for h in handles:
            h.close()
    raw = sum(raw_size(p) for p in dest.iterdir())
    return raw, n


CONFIG = """input: ["{inputs}"]
output: {output}
num_shards: {num_shards}
stages:
  - ingest
  - langid
  - stage: normalize
    options: {{opencc: t2s}}
  - filter
  - stage: perplexity
    options: {{model: "{models}/lm"}}
  - dedup
  - stage: tokenize
    options: {{tokenizer: "{models}/tokenizer", threads: 1}}
"""


def mixed_jsonl_corpus(dest: Path, mb: float, files: int, docs_per_file: int = 0) -> tuple[int, int, int]:
    """The mixed-script JSONL corpus split round robin into `files` files under `dest` (only the first
    `docs_per_file` documents of each when > 0); returns (JSONL bytes, text bytes, documents)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from devcorpus import mixed_script_jsonl

    lines = mixed_script_jsonl(mb).read_text(encoding="utf-8").splitlines(keepends=True)
    dest.mkdir(parents=True)
    parts: list[list[str]] = [lines[k::files] for k in range(files)]
    if docs_per_file:
        parts = [p[:docs_per_file] for p in parts]
    text = 0
    for k, part in enumerate(parts):
        (dest / f"mixed-{k:03d}.jsonl").write_text("".join(part), encoding="utf-8")
        text += sum(len(json.loads(line)["text"].encode("utf-8")) for line in part)
    return sum(len(line.encode("utf-8")) for p in parts for line in p), text, sum(map(len, parts))


ENCODE_FLOOR = """
import json, resource, sys
from pathlib import Path
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
files = sorted(Path(sys.argv[2]).glob("*.parquet")) or sorted(Path(sys.argv[2]).iterdir())
if files[0].suffix == ".parquet":
    import pyarrow.parquet as pq
    texts = [t for f in files for t in pq.read_table(f, columns=["text"]).column("text").to_pylist()]
else:
    texts = [json.loads(line)["text"] for f in files for line in f.open(encoding="utf-8")]
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0, tokens = cpu(), 0
for i in range(0, len(texts), 1024):
    tokens += sum(len(e.ids) for e in tok.encode_batch(texts[i : i + 1024]))
print(json.dumps({"cpu": cpu() - t0, "tokens": tokens}))
"""


def encode_batch_floor(tokenizer_json: Path, inputs: Path) -> dict:
    """CPU seconds of HF encode_batch alone over the texts of the JSONL (or Parquet) files in `inputs`, one
    thread."""
    env = dict(os.environ, RAYON_RS_NUM_CPUS="1", RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run([sys.executable, "-c", ENCODE_FLOOR, str(tokenizer_json), str(inputs)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"encode_batch on {inputs} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def run_once(tmp: Path, inputs: Path, models: Path, workers: int, num_shards: int, start: str,
             floor_tokenizer: Path | None = None, handoff_mb: int | None = None) -> dict:
    out = tmp / f"out-{workers}"
    config = tmp / f"pipeline-{workers}.yaml"
    config.write_text(CONFIG.format(inputs=inputs, output=out, num_shards=num_shards, models=models))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # cwd outside the checkout: `python -m` puts the cwd first on sys.path, ahead of PYTHONPATH
    handoff = [] if handoff_mb is None else ["--handoff-mb", str(handoff_mb)]
    proc = subprocess.run([*CLI, "run", str(config), "--workers", str(workers), "--start", start, *handoff],
                          capture_output=True, text=True, cwd=tmp)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak: dict[str, int] = {}
    step_cpu: dict[str, float] = {}
    for record in (out / ".pipeline" / "tasks").rglob("*.json"):
        step = record.parent.name
        rec = json.loads(record.read_text())
        peak[step] = max(peak.get(step, 0), rec.get("max_rss_kb") or 0)
        step_cpu[step] = step_cpu.get(step, 0.0) + (rec.get("cpu_seconds") or 0.0)
    docs_in = sum(json.loads(m.read_text())["docs"]["in"] for m in (out / "01-ingest" / "manifests").glob("*.json"))
    stages = {}
    for d in sorted(out.iterdir()):
        if (d / "manifests").is_dir():
            ms = [json.loads(m.read_text()) for m in (d / "manifests").glob("*.json")]
            stages[d.name] = {
                "mb_in": sum(m["bytes"]["in"] for m in ms) / 1e6,
                "seconds": sum(m["timings"]["seconds"] for m in ms),
                "shard_cpu": sum(m["timings"].get("cpu_seconds", 0.0) for m in ms),
                "docs_in": sum(m["docs"]["in"] for m in ms),
            }
    tokens = sum(
        json.loads(m.read_text())["stats"].get("tokens", 0) for m in (out / "07-tokenize" / "manifests").glob("*.json")
    )
    tasks = len(list((out / ".pipeline" / "tasks").rglob("*.json")))
    # the pipeline tokenizes the text that normalize, filter and dedup leave (Simplified, fewer tokens), so
    # encode_batch on that text is a second yardstick
    floor_last = encode_batch_floor(floor_tokenizer, out / "06-dedup") if floor_tokenizer else None
    shutil.rmtree(out)
    return {
        "tasks": tasks,
        "floor_last": floor_last,
        "workers": workers,
        "wall": wall,
        "cpu": cpu,
        "peak_kb": peak,
        "step_cpu": step_cpu,
        "docs_in": docs_in,
        "stages": stages,
        "tokens": tokens,
    }


def _stage_peak(peak_kb: dict[str, int], stage_dir: str) -> int:
    return max((v for k, v in peak_kb.items() if k == stage_dir or k.startswith(stage_dir + "-")), default=0)


def _stage_cpu(step_cpu: dict[str, float], stage_dir: str) -> float:
    """CPU seconds of a stage's task processes (a dedup stage: all four steps, whose labels start with it)."""
    return sum(v for k, v in step_cpu.items() if k == stage_dir or k.startswith(stage_dir + "-"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=None, help="default 40 (sample), 3 (--html)")
    ap.add_argument("--html", type=Path, default=None, help="build WARC input from the *.html pages under DIR")
    ap.add_argument("--warcs", type=int, default=4, help="--html: WARC files to write")
    ap.add_argument("--han-rate", type=float, default=0.15, help="--html: Han characters replaced per copy")
    ap.add_argument("--mixed", type=float, default=None, help="MB of mixed-script JSONL text as input")
    ap.add_argument("--files", type=int, default=8, help="--mixed: JSONL files the corpus is split into")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--num-shards", type=int, default=4, help="tasks per stage")
    ap.add_argument("--skip-floor", action="store_true", help="--mixed: leave out tokenizing alone")
    ap.add_argument("--start", choices=("pool", "fork", "spawn"), default="pool",
                    help="how `run` gives tasks processes (its long-lived forked workers, a fork per task, or fresh "
                    "processes as Slurm starts them)")
    ap.add_argument("--handoff-mb", type=int, default=None,
                    help="`run --handoff-mb` (pool: chains of per-shard steps; 0: step by step); default: run's")
    args = ap.parse_args()
    if args.copies is None:
        args.copies = 3 if args.html else 40
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        inputs = tmp / "in"
        text_mb = None
        if args.mixed:
            raw, text_bytes, n_docs = mixed_jsonl_corpus(inputs, args.mixed, args.files)
            text_mb = text_bytes / 1e6
            what = (f"{n_docs:,} mixed-script JSONL documents ({text_mb:.1f} MB of text) in {args.files} files "
                    f"({time.strftime('%Y-%m-%d %H:%M')} UTC)")
        elif args.html:
            raw, pages = html_warc_corpus(inputs, args.html, args.copies, args.warcs, args.han_rate)
            what = f"{pages:,} real HTML pages from {args.html} ({args.copies} perturbed copies) in {args.warcs} WARCs"
        else:
            raw = scaled_corpus(inputs, args.copies)
            what = f"sample corpus x {args.copies} = {len(list(inputs.iterdir()))} files"
        models = tmp / "models"
        ref = str(REPO / "corpus_tool" / "data" / "reference")
        for cmd in (["train-lm", ref, "-o", str(models / "lm")],
                    ["train-tokenizer", ref, "-o", str(models / "tokenizer")]):
            subprocess.run([*CLI, *cmd], check=True, capture_output=True, cwd=tmp)
        handoff = "run's default" if args.handoff_mb is None else args.handoff_mb
        print(f"input: {what}, {raw / 1e6:.1f} raw MB; {args.num_shards} tasks per stage, started by {args.start}, "
              f"--handoff-mb {handoff}")
        # The fixed cost of a run (starting every task process: Python, libraries, models), measured on one
        # copy of the sample, so that the marginal rate (what a large crawl sees) can be told apart from it.
        one = tmp / "one"
        if args.mixed:
            one_raw, _, _ = mixed_jsonl_corpus(one, args.mixed, args.files, docs_per_file=5)
        elif args.html:
            one_raw, _ = html_warc_corpus(one, args.html, 1, args.warcs, args.han_rate, limit=args.warcs)
        else:
            one_raw = scaled_corpus(one, 1)
        base = run_once(tmp, one, models, 1, args.num_shards, args.start, handoff_mb=args.handoff_mb)
        print(
            f"fixed cost: {base['cpu']:.1f} s CPU for a run on one copy ({one_raw / 1e6:.2f} raw MB), "
            f"{base['cpu'] / base['tasks']:.2f} s per task process"
        )
        floor = (encode_batch_floor(models / "tokenizer" / "tokenizer.json", inputs)
                 if args.mixed and not args.skip_floor else None)
        if floor:
            print(f"tokenizing alone (HF encode_batch, 1 thread): {floor['cpu']:.1f} s CPU = "
                  f"{text_mb / floor['cpu']:.2f} MB/s of text per core, {floor['tokens']:,} tokens")
        for workers in args.workers:
            r = run_once(tmp, inputs, models, workers, args.num_shards, args.start,
                         models / "tokenizer" / "tokenizer.json" if floor else None, args.handoff_mb)
            mb = raw / 1e6
            print(
                f"\nworkers={workers}: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s (all tasks), "
                f"{r['docs_in']:,} docs in, {r['tokens']:,} tokens out"
            )
            print(
                f"  end to end: {mb / r['cpu']:.2f} MB/s per core (CPU time); marginal "
                f"{(raw - one_raw) / 1e6 / max(r['cpu'] - base['cpu'], 1e-9):.2f} MB/s per core (fixed cost "
                "taken out); "
                f"{mb / r['wall']:.2f} MB/s wall ({mb / r['wall'] / workers:.2f} per worker), "
                f"{r['docs_in'] / r['cpu']:.0f} docs/s per core"
            )
            if text_mb:
                print(f"  end to end, text: {text_mb / r['cpu']:.2f} MB/s of text per core (CPU time of every task), "
                      f"{text_mb / r['wall']:.2f} MB/s wall; {r['tasks']} task processes, fixed cost "
                      f"{base['cpu'] / base['tasks']:.2f} s each = {base['cpu'] / r['cpu']:.0%} of this run's CPU")
            if floor:
                last = r["floor_last"]
                print(f"  against tokenizing alone: the whole pipeline costs {r['cpu'] / floor['cpu']:.2f}x the CPU "
                      f"of HF encode_batch on the input text, {r['cpu'] / last['cpu']:.2f}x on the text it tokenizes "
                      f"({last['cpu']:.1f} s, {last['tokens']:,} tokens)")
            peak_step = max(r["peak_kb"], key=r["peak_kb"].get)
            print(f"  peak RSS per worker: {r['peak_kb'][peak_step] / 1024:.0f} MB (in {peak_step})")
            print(
                f"  raw/text: {mb / r['stages']['01-ingest']['mb_in']:.1f}x (raw MB over ingest's text MB)"
                if "01-ingest" in r["stages"] and r["stages"]["01-ingest"]["mb_in"]
                else ""
            )
            print(
                "    stage: docs in, MB of text in, wall seconds inside shards; CPU inside shards (the runner's "
                "manifests; dedup: its filter step only) in raw MB/s; CPU of all the stage's task processes"
            )
            for name, s in r["stages"].items():
                rate = s["mb_in"] / s["seconds"] if s["seconds"] else 0.0
                cpu = _stage_cpu(r["step_cpu"], name)
                print(
                    f"    {name:<14} {s['docs_in']:>6,} docs {s['mb_in']:>5.1f} MB {s['seconds']:>5.1f} s "
                    f"({rate:.1f} MB/s text); in shards {s['shard_cpu']:>4.1f} s CPU "
                    f"({mb / s['shard_cpu'] if s['shard_cpu'] else 0:.0f} raw MB/s, "
                    f"{s['mb_in'] / s['shard_cpu'] if s['shard_cpu'] else 0:.1f} text MB/s, "
                    f"{s['docs_in'] / s['shard_cpu'] if s['shard_cpu'] else 0:,.0f} docs/s); "
                    f"tasks {cpu:>4.1f} s CPU ({mb / cpu if cpu else 0:.1f} raw MB/s); "
                    f"peak RSS {_stage_peak(r['peak_kb'], name) / 1024:.0f} MB"
                )
            shard_cpu = sum(s["shard_cpu"] for s in r["stages"].values()) or float("nan")  # nan: old manifests
            print(
                f"  CPU inside shards, all stages: {shard_cpu:.1f} s = {mb / shard_cpu:.1f} raw MB/s per core; "
                f"the rest ({r['cpu'] - shard_cpu:.1f} s) is process start-up, model loading, dedup's pairs "
                "and clusters steps"
            )
        print(f"\npeak RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
