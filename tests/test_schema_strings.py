"""schema.replace_strings: a string column with a few rows changed, spliced from the old bytes; it must be
the very array replace_column builds by encoding every value."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from corpus_tool import schema

ALPHABET = ["a", "中", "國", "😀", "é", " ", "\n", "。", "\u3000"]


def _batch(texts: list[str | None]) -> pa.RecordBatch:
    ids = pa.array([str(i) for i in range(len(texts))], pa.string())
    return pa.RecordBatch.from_arrays([ids, pa.array(texts, pa.string())], names=["id", "text"])


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


@pytest.mark.parametrize("seed", range(40))
def test_replace_strings_equals_encoding_every_value(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    texts = [_word(rng, rng.randint(0, 30)) for _ in range(n)]
    whole = _batch(texts + [_word(rng, 5) for _ in range(rng.randint(0, 5))])
    start = rng.randint(0, whole.num_rows - n)  # a slice: the column's offset is not 0
    batch = whole.slice(start, n) if start else whole.slice(0, n)
    originals = batch.column("text").to_pylist()
    values = list(originals)
    for i in rng.sample(range(n), rng.randint(0, n)):
        values[i] = rng.choice(["", _word(rng, rng.randint(1, 40)), originals[i] + "x", str(originals[i])])
    got = schema.replace_strings(batch, "text", values, originals)
    want = schema.replace_column(batch, "text", values)
    got.validate(full=True)
    assert got.equals(want)
    assert got.column("text").to_pylist() == values
    assert got.schema == batch.schema


def test_replace_strings_unchanged_batch_is_returned_as_is():
    batch = _batch(["中文", "", "abc"])
    originals = batch.column("text").to_pylist()
    assert schema.replace_strings(batch, "text", list(originals), originals) is batch
    # equal strings that are other objects count as unchanged too
    assert schema.replace_strings(batch, "text", ["中" + "文", "", "ab" + "c"], originals) is batch


def test_replace_strings_with_nulls_or_many_changes_encodes_everything():
    batch = _batch(["a", None, "b", "c"])
    originals = batch.column("text").to_pylist()
    values = ["a", "", "b", "c"]
    got = schema.replace_strings(batch, "text", values, originals)
    assert got.column("text").to_pylist() == values
    assert got.column("text").null_count == 0
    batch = _batch(["a", "b", "c"])
    got = schema.replace_strings(batch, "text", ["x", "y", "c"], ["a", "b", "c"])
    assert got.column("text").to_pylist() == ["x", "y", "c"]


def test_replace_strings_refuses_a_lone_surrogate_as_encoding_does():
    batch = _batch(["a", "b", "c", "d"])
    originals = batch.column("text").to_pylist()
    with pytest.raises((UnicodeEncodeError, pa.ArrowException)):
        schema.replace_strings(batch, "text", ["a", "\ud800", "c", "d"], originals)
