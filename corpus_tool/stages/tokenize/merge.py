"""`corpus-tool merge`: many Megatron `.bin/.idx` pairs into one (tools/merge_datasets.py's job).

Inputs are dataset prefixes, `.bin`/`.idx` paths, or directories. A directory contributes every prefix in
it that has both files, in sorted order, as merge_datasets.py does; a directory written by
`corpus-tool tokenize` (it has `manifests/`) must have a manifest for each of them, so an unfinished shard
is never merged. Arguments keep the order they are given in.
"""

from __future__ import annotations

from pathlib import Path

from corpus_tool import shards
from corpus_tool.errors import UsageError
from corpus_tool.stages.tokenize import megatron


def find_prefixes(inputs: list[str]) -> list[str]:
    prefixes: list[str] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(
                str(i.with_suffix(""))
                for i in p.glob("*" + megatron.IDX_SUFFIX)
                if not i.name.startswith(".") and megatron.bin_path(i.with_suffix("")).exists()
            )
            if not found:
                raise UsageError(f"{p}: no .bin/.idx pairs in this directory")
            if (p / shards.MANIFEST_DIR).is_dir():
                for prefix in found:
                    name = Path(prefix).name
                    if not shards.is_finished(p, name):
                        raise UsageError(
                            f"{prefix}.idx: no manifest in {p / shards.MANIFEST_DIR}, so the run "
                            "that wrote it did not finish; rerun tokenize before merging"
                        )
            prefixes.extend(found)
            continue
        prefix = item[: -len(p.suffix)] if p.suffix in (megatron.BIN_SUFFIX, megatron.IDX_SUFFIX) else item
        for f in (megatron.bin_path(prefix), megatron.idx_path(prefix)):
            if not f.is_file():
                raise UsageError(
                    f"{f}: no such file (merge takes dataset prefixes, .bin/.idx files or directories)"
                )
        prefixes.append(prefix)
    seen: set[str] = set()
    unique = [x for x in prefixes if not (x in seen or seen.add(x))]
    if not unique:
        raise UsageError("nothing to merge")
    return unique
