"""What every ingest reader yields: one `Row` per record that could be a document (kept or rejected), and
the column buffer the stage turns rows into record batches with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa

from corpus_tool import schema

COLUMNS = [
    schema.ID,
    schema.TEXT,
    schema.SOURCE,
    schema.URL,
    schema.CRAWL_DATE,
    schema.HTML_LANG,
    schema.META,
]


@dataclass
class Row:
    """One record of an input: a document, or a rejection when `reject` = (reason, detail) is set.

    `locator` names the record inside its shard (a byte offset, a line number, a file name): the document id
    is derived from it unless `doc_id` is given (a JSONL/Parquet row's own id)."""

    locator: str
    source: str
    text: str = ""
    url: str | None = None
    crawl_date: str | None = None
    html_lang: str | None = None
    meta: dict = field(default_factory=dict)
    doc_id: str | None = None
    reject: tuple[str, str | None] | None = None


def rejected(locator: str, source: str, reason: str, detail: str | None, **kw) -> Row:
    """A rejection row (no text)."""
    return Row(locator, source, "", reject=(reason, detail), **kw)


@dataclass
class RowBuffer:
    """Column lists for one side (kept or rejected) of the batch being built."""

    cols: dict[str, list] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    reasons: list[str] = field(default_factory=list)
    details: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.cols[schema.ID])

    def append(self, row: Row, doc_id: str) -> None:
        c = self.cols
        c[schema.ID].append(doc_id)
        c[schema.TEXT].append(row.text)
        c[schema.SOURCE].append(row.source)
        c[schema.URL].append(row.url)
        c[schema.CRAWL_DATE].append(row.crawl_date)
        c[schema.HTML_LANG].append(row.html_lang)
        c[schema.META].append(json.dumps(row.meta, ensure_ascii=False, sort_keys=True) if row.meta else None)
        if row.reject is not None:
            self.reasons.append(row.reject[0])
            self.details.append(row.reject[1])

    def batch(self) -> pa.RecordBatch:
        n = len(self)
        arrays = []
        for f in schema.DOCUMENT_SCHEMA:
            arrays.append(pa.array(self.cols[f.name], type=f.type) if f.name in self.cols else pa.nulls(n, f.type))
        return pa.RecordBatch.from_arrays(arrays, schema=schema.DOCUMENT_SCHEMA)
