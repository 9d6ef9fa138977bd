"""`corpus-tool audit OUT_ROOT`: check that a pipeline run lost, duplicated or corrupted nothing.

For every document stage folder (in pipeline order, from OUT/.pipeline/plan.json, else every folder with
manifests/) and every shard:
- the manifest's counts add up: docs in == kept + rejected;
- every file the manifest names exists with the recorded size and sha256, and the Parquet row counts (or,
  for Megatron .idx, the document count) equal the recorded kept and rejected counts;
- every input the manifest names still has the recorded sha256 (else the stage read an input that has
  since been redone, and its output is stale);
- no shard file is there without a manifest;
- no document id appears twice among a stage's kept and rejected rows (so none appears twice in the output);
- consecutive stages connect: the documents a stage read are the documents the stage before it kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus_tool import schema, shards
from corpus_tool.pipeline import STATE_DIR


@dataclass
class AuditResult:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str, problem: str = "") -> bool:
        if ok:
            self.passed.append(what)
        else:
            self.failed.append(f"{what}: {problem}" if problem else what)
        return ok


def _plan(root: Path) -> dict:
    try:
        return json.loads((root / STATE_DIR / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def rebase(root: Path, recorded: str | Path) -> Path:
    """A path recorded in the plan or a manifest (absolute, under the run's output root at the time), under
    `root` now: a copied or moved output root is audited on its own files, never on the original's."""
    p = Path(recorded)
    old = _plan(root).get("root")
    if old and p.is_absolute() and p.is_relative_to(old):
        return root / p.relative_to(old)
    return p


def stage_dirs(root: Path) -> list[Path]:
    """Document stage folders in pipeline order (from the plan, else every folder with manifests/)."""
    root = Path(root).resolve()
    dirs: list[Path] = []
    try:
        dirs = [rebase(root, s["output"]) for s in _plan(root).get("steps", []) if s.get("documents")]
    except (KeyError, TypeError):
        dirs = []
    if not dirs:
        dirs = sorted(p for p in root.iterdir() if (p / shards.MANIFEST_DIR).is_dir())
    return [d for d in dirs if (d / shards.MANIFEST_DIR).is_dir()]


def load_manifests(stage_dir: Path) -> dict[str, dict]:
    out = {}
    for m in sorted((stage_dir / shards.MANIFEST_DIR).glob("*.json")):
        try:
            out[m.stem] = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out[m.stem] = {}
    return out


def _rows(path: Path) -> int | None:
    name = path.name
    try:
        if name.endswith(shards.PARQUET_SUFFIX):
            return pq.ParquetFile(path).metadata.num_rows
        if name.endswith(".idx"):
            with open(path, "rb") as fh:
                head = fh.read(34)
            if head[:9] != b"MMIDIDX\x00\x00":
                return -1
            return int.from_bytes(head[26:34], "little") - 1  # document_indices has D + 1 entries
    except (OSError, pa.ArrowException):
        return -1
    return None


def audit(root: Path) -> AuditResult:
    result = AuditResult()
    root = Path(root).resolve()
    dirs = stage_dirs(root)
    result.check(bool(dirs), f"{root}: has document stage folders", "no folder with manifests/ found")
    previous: tuple[Path, dict[str, dict]] | None = None
    for d in dirs:
        manifests = load_manifests(d)
        _audit_stage(root, d, manifests, result)
        if previous is not None:
            _audit_link(root, previous, (d, manifests), result)
        previous = (d, manifests)
    return result


def _audit_stage(root: Path, d: Path, manifests: dict[str, dict], result: AuditResult) -> None:
    name = d.relative_to(root) if d.is_relative_to(root) else d
    bad_counts, bad_files, bad_inputs = [], [], []
    for shard, m in manifests.items():
        docs = m.get("docs") or {}
        if not m or docs.get("in") != docs.get("kept", 0) + docs.get("rejected", 0):
            bad_counts.append(
                f"{shard} (in {docs.get('in')}, kept {docs.get('kept')}, rejected {docs.get('rejected')})"
            )
        outputs = m.get("outputs") or {}
        files = [(f, "kept") for f in outputs.get("kept", [])]
        if outputs.get("rejected"):
            files.append((outputs["rejected"], "rejected"))
        parquet_kept = 0
        has_parquet_kept = False
        for desc, side in files:
            problem = _file_problem(root, desc)
            if problem:
                bad_files.append(f"{shard}: {problem}")
                continue
            path = rebase(root, desc["path"])
            rows = _rows(path)
            if side == "rejected" and rows is not None and rows != docs.get("rejected"):
                bad_files.append(
                    f"{shard}: {path.name} has {rows} rows, manifest says {docs.get('rejected')} rejected"
                )
            if side == "kept" and path.name.endswith(shards.PARQUET_SUFFIX):
                has_parquet_kept = True
                parquet_kept += rows or 0
            if side == "kept" and path.name.endswith(".idx") and rows != docs.get("kept"):
                bad_files.append(
                    f"{shard}: {path.name} has {rows} documents, manifest says {docs.get('kept')} kept"
                )
        if has_parquet_kept and parquet_kept != docs.get("kept"):
            bad_files.append(
                f"{shard}: kept Parquet has {parquet_kept} rows, manifest says {docs.get('kept')}"
            )
        for desc in m.get("inputs") or []:
            p = rebase(root, desc.get("path", ""))
            if not p.exists():
                bad_inputs.append(f"{shard}: input {desc.get('path')} is gone")
            elif desc.get("sha256") and shards.file_digest(p) != desc["sha256"]:
                bad_inputs.append(f"{shard}: input {p} changed after this shard was made (stale output)")
    n = len(manifests)
    result.check(not bad_counts, f"{name}: in == kept + rejected in all {n} shard(s)", "; ".join(bad_counts))
    result.check(
        not bad_files,
        f"{name}: manifests match their files (sizes, sha256, row counts)",
        "; ".join(bad_files),
    )
    result.check(not bad_inputs, f"{name}: inputs unchanged since they were read", "; ".join(bad_inputs))
    orphans = [p.name for p in d.glob("*.parquet") if p.stem not in manifests]
    orphans += [
        f"rejected/{p.name}" for p in (d / shards.REJECTED_DIR).glob("*.parquet") if p.stem not in manifests
    ]
    result.check(
        not orphans, f"{name}: no shard without a manifest", "unfinished: " + ", ".join(sorted(orphans))
    )
    _audit_ids(d, name, manifests, result)


def _file_problem(root: Path, desc: dict) -> str | None:
    path = rebase(root, desc.get("path", ""))
    if not path.exists():
        return f"{desc.get('path')} is missing"
    if desc.get("bytes") is not None and path.stat().st_size != desc["bytes"]:
        return (
            f"{path.name} changed: {path.stat().st_size} bytes, manifest says {desc['bytes']} "
            "(so its sha256 differs too)"
        )
    if desc.get("sha256") and shards.file_digest(path) != desc["sha256"]:
        return f"{path.name} sha256 differs from the manifest"
    return None


def _audit_ids(d: Path, name, manifests: dict[str, dict], result: AuditResult) -> None:
    chunks = []
    for shard in manifests:
        for path in (shards.kept_path(d, shard), shards.rejected_path(d, shard)):
            if path.exists():
                try:
                    chunks.append(pq.read_table(path, columns=[schema.ID]).column(schema.ID))
                except (pa.ArrowException, OSError, KeyError) as e:
                    result.check(False, f"{name}: {path.name} readable", str(e))
    if not chunks:
        return
    ids = pa.table(
        {"id": pa.chunked_array([chunk for col in chunks for chunk in col.chunks], type=pa.string())}
    )
    counts = ids.group_by("id").aggregate([("id", "count")])
    dup = counts.filter(pc.greater(counts.column("id_count"), 1))
    examples = ", ".join(f"{r['id']} x{r['id_count']}" for r in dup.slice(0, 5).to_pylist())
    result.check(
        dup.num_rows == 0,
        f"{name}: no document id twice among {ids.num_rows:,} kept + rejected",
        f"{dup.num_rows} duplicated id(s), e.g. {examples}",
    )


def _audit_link(
    root: Path, prev: tuple[Path, dict[str, dict]], cur: tuple[Path, dict[str, dict]], result: AuditResult
) -> None:
    (pd, pm), (cd, cm) = prev, cur
    kept = {s: (m.get("docs") or {}).get("kept") for s, m in pm.items()}
    read = {s: (m.get("docs") or {}).get("in") for s, m in cm.items()}
    # Only shards that read the previous stage's files are linked (a stage may read something else).
    linked = [
        s
        for s, m in cm.items()
        if any(Path(i.get("path", "")).parent.name == pd.name for i in m.get("inputs") or [])
    ]
    if not linked:
        return
    missing = sorted(set(kept) - set(read))
    wrong = [f"{s} (read {read[s]}, previous kept {kept.get(s)})" for s in linked if read[s] != kept.get(s)]
    label = f"{cd.name}: reads exactly what {pd.name} kept"
    problem = "; ".join(
        filter(None, [f"shards never read: {', '.join(missing)}" if missing else "", ", ".join(wrong)])
    )
    result.check(not missing and not wrong, label, problem)
