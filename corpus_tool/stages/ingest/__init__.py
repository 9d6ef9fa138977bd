"""Ingest: raw crawls and files in, documents out (docs/ingest.md)."""

from corpus_tool.stages.ingest.stage import IngestStage

__all__ = ["IngestStage"]
