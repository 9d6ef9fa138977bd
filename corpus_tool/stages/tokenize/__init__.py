"""Tokenize: document shards to token datasets a trainer memory-maps (Megatron .bin/.idx, or flat),
plus `merge` and `train-tokenizer`. See docs/tokenize.md."""

from corpus_tool.stages.tokenize.megatron import DType, MegatronDataset, MegatronWriter, merge, optimal_dtype
from corpus_tool.stages.tokenize.stage import TokenizeStage

__all__ = ["DType", "MegatronDataset", "MegatronWriter", "TokenizeStage", "merge", "optimal_dtype"]
