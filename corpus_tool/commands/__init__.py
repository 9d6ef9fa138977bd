"""Thin typer commands, one module per stage: parse options, build the stage, hand it to the runner.

Each module has `register(app)`. Heavy libraries (fasttext, jieba, tokenizers...) are imported inside the
command bodies so that `corpus-tool --help` stays fast.
"""
