"""The document schema: every column every stage reads or writes, in one place.

A shard is a zstd-compressed Parquet file whose rows follow `DOCUMENT_SCHEMA`. Ingest fills the first
block; later stages fill their own columns and leave the others as they are. Columns a stage does not know
are carried through untouched (after the known ones). Rejected rows have the same columns plus `stage`,
`reason` (a short, stable key, aggregated in manifests) and `reason_detail` (free text, e.g. the id of the
document a near-duplicate was matched to). docs/shard-contract.md describes every column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# Column names, so that no stage spells a string of its own.
ID = "id"
TEXT = "text"
SOURCE = "source"
URL = "url"
CRAWL_DATE = "crawl_date"
HTML_LANG = "html_lang"
META = "meta"
LANG = "lang"
LANG_SCORE = "lang_score"
HAN_FRAC = "han_frac"
NORMALIZED = "normalized"
CLEANED = "cleaned"
PPL = "ppl"
PPL_BUCKET = "ppl_bucket"
QUALITY_SCORE = "quality_score"
SIGNALS = "signals"
FLAGS = "flags"
STAGE = "stage"
REASON = "reason"
REASON_DETAIL = "reason_detail"

DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string(), nullable=False),  # stable and unique, see docs/shard-contract.md
        pa.field(TEXT, pa.string(), nullable=False),
        pa.field(SOURCE, pa.string(), nullable=False),  # input file + "#" + record number or byte offset
        pa.field(URL, pa.string()),
        pa.field(CRAWL_DATE, pa.string()),  # ISO 8601, from WARC-Date where known
        pa.field(HTML_LANG, pa.string()),  # the page's <html lang=...>, as written
        pa.field(META, pa.string()),  # JSON object: everything else the input carried
        pa.field(LANG, pa.string()),  # langid: top label, e.g. "zh"
        pa.field(LANG_SCORE, pa.float32()),  # langid: its probability after script evidence
        pa.field(HAN_FRAC, pa.float32()),  # langid: Han characters / non-space characters
        pa.field(NORMALIZED, pa.list_(pa.string())),  # normalize: names of the rules that changed the text
        pa.field(CLEANED, pa.list_(pa.string())),  # filter: line-level cleaning applied (rule names)
        pa.field(PPL, pa.float32()),  # perplexity: KenLM document perplexity
        pa.field(PPL_BUCKET, pa.string()),  # perplexity: head / middle / tail
        pa.field(QUALITY_SCORE, pa.float32()),  # quality: P(high quality) from the classifier, in [0, 1]
        pa.field(SIGNALS, pa.string()),  # --annotate: JSON object, name -> what it measured (annotate.py)
        pa.field(FLAGS, pa.list_(pa.string())),  # --annotate: names that would have rejected the document
    ]
)

REJECT_FIELDS = [
    pa.field(STAGE, pa.string(), nullable=False),
    pa.field(REASON, pa.string(), nullable=False),
    pa.field(REASON_DETAIL, pa.string()),
]

_KNOWN = {f.name for f in DOCUMENT_SCHEMA}


def conform(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
    """Return `batch` with every document column present, typed as in `DOCUMENT_SCHEMA`, in order.

    Missing columns become nulls; unknown columns are kept after the known ones, so user data is never lost.
    """
    if isinstance(batch, pa.Table):
        batch = batch.combine_chunks().to_batches()[0] if batch.num_rows else _empty_batch(batch.schema)
    n = batch.num_rows
    names = batch.schema.names
    arrays, fields = [], []
    for field in DOCUMENT_SCHEMA:
        if field.name in names:
            col = batch.column(names.index(field.name))
            if col.type != field.type:
                col = col.cast(field.type)
        else:
            if not field.nullable:
                raise ValueError(f"required column {field.name!r} is missing")
            col = pa.nulls(n, field.type)
        arrays.append(col)
        fields.append(field)
    for i, name in enumerate(names):
        if name not in _KNOWN and name not in (STAGE, REASON, REASON_DETAIL):
            arrays.append(batch.column(i))
            fields.append(batch.schema.field(i))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)


def rejected_schema(document_schema: pa.Schema) -> pa.Schema:
    """The schema of the rejected side-output for a shard whose kept rows use `document_schema`."""
    return pa.schema(list(document_schema) + REJECT_FIELDS)


def with_reasons(batch: pa.RecordBatch, stage: str, reasons: list[str], details: list[str | None]) -> pa.RecordBatch:
    """Attach the rejection columns to `batch` (one reason per row)."""
    arrays = list(batch.columns) + [
        pa.array([stage] * batch.num_rows, pa.string()),
        pa.array(reasons, pa.string()),
        pa.array(details, pa.string()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=rejected_schema(batch.schema))


def replace_column(batch: pa.RecordBatch, name: str, values: pa.Array | list) -> pa.RecordBatch:
    """Return `batch` with column `name` replaced (it must exist), keeping its declared type."""
    i = batch.schema.get_field_index(name)
    field = batch.schema.field(i)
    arr = values if isinstance(values, pa.Array) else pa.array(values, type=field.type)
    if arr.type != field.type:
        arr = arr.cast(field.type)
    return batch.set_column(i, field, arr)


def replace_strings(batch: pa.RecordBatch, name: str, values: list[str], originals: list[str]) -> pa.RecordBatch:
    """`replace_column(batch, name, values)` for a string column read as `originals`: the rows whose value
    is still the one read (the same object, or an equal str) keep their UTF-8 bytes as they are, and only
    the others are encoded. Encoding is most of the cost of a new text column (a str decoded from Arrow
    has no UTF-8 copy of its own), and a cleaner changes a few documents in a batch, not all of them."""
    changed = [i for i, (v, o) in enumerate(zip(values, originals, strict=True)) if v is not o and v != o]
    if not changed:
        return batch
    col = batch.column(name)
    if col.type != pa.string() or col.null_count or len(changed) > len(values) // 2:
        return replace_column(batch, name, values)
    new = pa.array([values[i] for i in changed], pa.string())
    offsets = np.frombuffer(col.buffers()[1], np.int32, len(col) + 1, col.offset * 4)
    new_offsets = np.frombuffer(new.buffers()[1], np.int32, len(new) + 1, new.offset * 4)
    lengths = np.diff(offsets).astype(np.int64)
    lengths[changed] = np.diff(new_offsets)
    ends = np.cumsum(lengths)
    if ends.size and ends[-1] > np.iinfo(np.int32).max:
        return replace_column(batch, name, values)
    data = memoryview(col.buffers()[2] or b"")
    new_data = memoryview(new.buffers()[2] or b"")
    pieces, row = [], 0
    for k, i in enumerate(changed):  # the kept bytes before row i, then row i's new bytes
        pieces += [data[offsets[row]:offsets[i]], new_data[new_offsets[k]:new_offsets[k + 1]]]
        row = i + 1
    pieces.append(data[offsets[row]:offsets[-1]])
    out_offsets = np.concatenate(([0], ends)).astype(np.int32)
    arr = pa.StringArray.from_buffers(len(values), pa.py_buffer(out_offsets), pa.py_buffer(b"".join(pieces)))
    return replace_column(batch, name, arr)
