"""A trivial stage for core fault tests: keeps documents whose length is not a multiple of 3, rejects the
others (`len_mod_3`). With TOY_DELAY=<seconds> it sleeps per batch, so a test can kill it mid-shard."""

from __future__ import annotations

import os
import time

from corpus_tool import schema
from corpus_tool.stage import Stage


class Toy(Stage):
    name = "toy"

    def process(self, batch):
        delay = float(os.environ.get("TOY_DELAY", "0"))
        if delay:
            time.sleep(delay)
        texts = batch.column(schema.TEXT).to_pylist()
        keep = [len(t) % 3 != 0 for t in texts]
        self.counters["batches"] += 1
        return self.split(batch, keep, [None if k else "len_mod_3" for k in keep])
