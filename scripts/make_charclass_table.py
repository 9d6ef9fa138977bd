#!/usr/bin/env python
"""Write corpus_tool/data/charclass_table.npz: the character-class table of corpus_tool/charclass.py for this
Python's Unicode version (rerun after changing the table's definitions; tests/test_charclass.py fails until
then, and every stage builds the table itself when the Unicode version differs).

    .venv/bin/python scripts/make_charclass_table.py
"""

from pathlib import Path

from corpus_tool.charclass import TABLE_FILE, _build_table, save_table

out = Path(__file__).resolve().parents[1] / "corpus_tool" / "data" / TABLE_FILE
save_table(_build_table(), out)
print(f"wrote {out} ({out.stat().st_size:,} bytes)")
