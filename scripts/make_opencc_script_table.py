#!/usr/bin/env python
"""Write corpus_tool/data/opencc_script_flags.npz: the Traditional/Simplified flags of normalize's
ScriptTable for the installed OpenCC version (rerun after upgrading opencc; tests/test_normalize.py fails
until then, and normalize builds the table itself meanwhile).

    .venv/bin/python scripts/make_opencc_script_table.py
"""

from pathlib import Path

from corpus_tool.stages.normalize import SCRIPT_TABLE_FILE, build_script_flags, save_script_flags

out = Path(__file__).resolve().parents[1] / "corpus_tool" / "data" / SCRIPT_TABLE_FILE
save_script_flags(build_script_flags(), out)
print(f"wrote {out} ({out.stat().st_size:,} bytes)")
