"""The dedup work directory: file layout, settings, done-markers and fingerprints shared by the steps.

    WORK/config.json                          the shingle/LSH settings (written by the first signatures task)
    WORK/signatures/<shard>.docs.parquet      id, n_chars, n_shingles, exact (uint64 hash of normalised text)
    WORK/signatures/<shard>.sig.npy           (docs, bands*rows) uint32 MinHash signature, row-major
    WORK/signatures/<shard>.bands.npy         (bands, docs) uint64 LSH band keys, band-major
    WORK/signatures/manifests/<shard>.json    written last: the shard's signatures are finished
    WORK/pairs/band-<b>.npy                   (pairs, 2) int64 global document indices (lo < hi), sorted;
                                              band `exact` holds the exact-duplicate pairs
    WORK/pairs/manifests/band-<b>.json
    WORK/clusters/decisions/<shard>.parquet   row, id, reason, keeper_id of every document to remove
    WORK/clusters/clusters.parquet            every document in a cluster: cluster, size, shard, row, id,
                                              kept, reason
    WORK/clusters/manifest.json               written last: the clusters step is finished

A document's global index is its row within its shard plus the number of documents in the shards before
it in name order. Every file is written under a temporary name and renamed; a manifest records the
fingerprint of what the step read, so that a step reruns when its inputs changed and is skipped when they
did not.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from pathlib import Path

import numpy as np

from corpus_tool import shards
from corpus_tool.errors import UsageError
from corpus_tool.stages.dedup.hashing import ShingleSettings

CONFIG = "config.json"
SIG_DIR = "signatures"
PAIRS_DIR = "pairs"
CLUSTERS_DIR = "clusters"
EXACT_BAND = "exact"
FORMAT_VERSION = 1


class WorkDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- paths ---------------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG

    def docs_path(self, shard: str) -> Path:
        return self.root / SIG_DIR / f"{shard}.docs.parquet"

    def sig_path(self, shard: str) -> Path:
        return self.root / SIG_DIR / f"{shard}.sig.npy"

    def bands_path(self, shard: str) -> Path:
        return self.root / SIG_DIR / f"{shard}.bands.npy"

    def sig_manifest(self, shard: str) -> Path:
        return self.root / SIG_DIR / shards.MANIFEST_DIR / f"{shard}.json"

    def pairs_path(self, band: str) -> Path:
        return self.root / PAIRS_DIR / f"band-{band}.npy"

    def pairs_manifest(self, band: str) -> Path:
        return self.root / PAIRS_DIR / shards.MANIFEST_DIR / f"band-{band}.json"

    def decisions_path(self, shard: str) -> Path:
        return self.root / CLUSTERS_DIR / "decisions" / f"{shard}.parquet"

    @property
    def clusters_path(self) -> Path:
        return self.root / CLUSTERS_DIR / "clusters.parquet"

    @property
    def clusters_manifest(self) -> Path:
        return self.root / CLUSTERS_DIR / "manifest.json"

    # -- settings ------------------------------------------------------------------------------------
    def save_settings(self, settings: ShingleSettings, overwrite: bool) -> None:
        """Record the settings; refuse to mix signatures made with different ones."""
        wanted = {"format": FORMAT_VERSION, **settings.record()}
        if self.config_path.exists() and not overwrite:
            have = shards.read_manifest(self.config_path)
            if have != wanted:
                raise UsageError(
                    f"{self.config_path}: this work directory holds signatures made with {have}, "
                    f"not {wanted}; "
                    "use another --work directory or pass --overwrite to redo every shard"
                )
            return
        if overwrite and self.config_path.exists() and shards.read_manifest(self.config_path) != wanted:
            # Settings changed: every existing signature shard is stale.
            for m in (self.root / SIG_DIR / shards.MANIFEST_DIR).glob("*.json"):
                m.unlink()
        shards.write_json_atomic(self.config_path, wanted)

    def settings(self) -> ShingleSettings:
        if not self.config_path.exists():
            raise UsageError(
                f"{self.root}: no {CONFIG}; run `corpus-tool dedup signatures IN... -o {self.root}` first"
            )
        data = dict(shards.read_manifest(self.config_path))
        data.pop("format", None)
        return ShingleSettings(**data)

    # -- signature shards ----------------------------------------------------------------------------
    def signature_shards(self) -> list[dict]:
        """The finished signature shards in name order, each with its manifest and global `offset`.

        Every shard listed in the directory must be finished: a missing manifest is an error that names it.
        """
        sig_dir = self.root / SIG_DIR
        mdir = sig_dir / shards.MANIFEST_DIR
        if not mdir.is_dir():
            raise UsageError(f"{self.root}: no finished signatures; run `corpus-tool dedup signatures` first")
        names = sorted(p.name[: -len(".docs.parquet")] for p in sig_dir.glob("*.docs.parquet"))
        manifests = {p.stem for p in mdir.glob("*.json")}
        unfinished = [n for n in names if n not in manifests]
        if unfinished:
            raise UsageError(
                f"{sig_dir}: signatures of shard(s) {', '.join(unfinished[:5])} are not finished; "
                "rerun `corpus-tool dedup signatures` for them"
            )
        out, offset = [], 0
        for name in sorted(manifests):
            m = shards.read_manifest(mdir / f"{name}.json")
            m["offset"] = offset
            offset += int(m["docs"])
            out.append(m)
        if not out:
            raise UsageError(f"{sig_dir}: no finished signature shards")
        return out

    def signatures_fingerprint(self, shard_list: list[dict]) -> str:
        return fingerprint([(m["shard"], m["docs"], m["outputs"]) for m in shard_list])


def fingerprint(obj) -> str:
    """sha256 of a JSON rendering: what a step read, recorded in its manifest. Files count by name, size and
    sha256, not by folder, so the same work in another folder (a moved work dir, a rerun elsewhere) gives
    the same fingerprint, and the same output bytes."""
    return hashlib.sha256(json.dumps(_by_name(obj), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _by_name(obj):
    if isinstance(obj, dict):
        return {k: os.path.basename(v) if k == "path" and isinstance(v, str) else _by_name(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_by_name(v) for v in obj]
    return obj


def save_npy(final: Path, array: np.ndarray) -> None:
    """np.save under a temporary name, then rename."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = shards.temp_path(final)
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
        shards.commit(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def band_names(settings: ShingleSettings) -> list[str]:
    """Every unit of the pairs step: the LSH bands, then the exact-duplicate "band"."""
    return [f"{b:03d}" for b in range(settings.bands)] + [EXACT_BAND]


def shard_of(global_index: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Position in the shard list of each global document index."""
    return np.searchsorted(offsets, global_index, side="right") - 1


# ------------------------------------------------------------------------ reading .npy files at scale
# np.load(mmap_mode="r") counts every page it touches in the process's RSS for as long as the map lives
# (file-backed, reclaimable, but RSS): a pairs task verifying 10^7 pairs against a 50 GB signature file would
# show tens of GB. So contiguous ranges are read with plain reads, and random rows through maps whose pages
# are handed back after each batch.


def npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) of a C-order .npy file."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(fh)
        if fortran:
            raise ValueError(f"{path}: a Fortran-order array")
        return shape, dtype, fh.tell()


def read_npy_rows(path: Path, start: int, stop: int) -> np.ndarray:
    """Rows start..stop (along the first axis) of a C-order .npy file, read without a memory map."""
    shape, dtype, offset = npy_header(path)
    stop = min(stop, shape[0])
    per_row = int(np.prod(shape[1:], dtype=np.int64))
    with open(path, "rb") as fh:
        fh.seek(offset + start * per_row * dtype.itemsize)
        data = np.fromfile(fh, dtype=dtype, count=max(0, stop - start) * per_row)
    return data.reshape((max(0, stop - start), *shape[1:]))


class RowReader:
    """Random rows of .npy files through read-only memory maps; `release()` hands the touched pages back
    (MADV_DONTNEED: they stay in the page cache but leave this process's RSS)."""

    def __init__(self):
        self._open: dict[Path, tuple] = {}
        self._touched: set[Path] = set()

    def rows(self, path: Path, index: np.ndarray) -> np.ndarray:
        self._touched.add(path)
        if path not in self._open:
            shape, dtype, offset = npy_header(path)
            fh = open(path, "rb")  # noqa: SIM115 - closed in close()
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            count = int(np.prod(shape, dtype=np.int64))
            self._open[path] = (fh, mm, np.frombuffer(mm, dtype=dtype, count=count, offset=offset).reshape(shape))
        return self._open[path][2][index]

    def release(self) -> None:
        for path in self._touched:
            self._open[path][1].madvise(mmap.MADV_DONTNEED)
        self._touched.clear()

    def close(self) -> None:
        for fh, mm, _ in self._open.values():
            mm.madvise(mmap.MADV_DONTNEED)
            fh.close()
        self._open.clear()  # the maps close when the arrays on them are gone
