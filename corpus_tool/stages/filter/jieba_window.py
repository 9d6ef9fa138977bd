"""Is a word at a given place of a short window one of the tokens `jieba.cut(window, HMM=True)` yields?

The stop-word rule asks this about 4 times per document. `jieba.cut` answers it by segmenting the whole
window: its regex split into blocks, the dictionary DAG and best route of each block (`get_DAG`, `calc`),
and the HMM (`finalseg.cut`) on every run of single characters that is not itself a dictionary word.
`JiebaWindow.token_at` computes only what decides the one place: the route of the block that holds it
and the HMM on the run of single characters that holds it, if any (the whole question compiled in
`_jieba_route.token_at` where it is built, with `token_at_python` for the few windows it leaves; jieba's
own `get_DAG`, `calc` and `finalseg.cut` in a tree that was never built). Its answer is the one jieba.cut gives
(tests/test_jieba_window.py compares them on generated and real windows).
"""

from __future__ import annotations

from math import log
from typing import Any

try:
    from corpus_tool.stages.filter import _jieba_route
except ImportError:  # a source tree that was never built: jieba's own route, same answer, slower
    _jieba_route = None


class JiebaWindow:
    """jieba's default tokenizer (initialized) seen through `token_at`."""

    def __init__(self, jieba: Any):
        self.jieba = jieba
        self.dt = jieba.dt
        self.freq = self.dt.FREQ
        self.logtotal = log(self.dt.total)
        self.memo = self._new_memo()  # the compiled route's memory of FREQ lookups
        self._seen = (self.dt.total, len(self.freq))
        self.re_han = jieba.re_han_default
        self.re_skip = jieba.re_skip_default
        self.finalseg = jieba.finalseg
        fs = jieba.finalseg
        self.hmm_start = tuple(fs.start_P[y] for y in "BMES")
        self.hmm_trans = tuple(fs.trans_P[a].get(b, fs.MIN_FLOAT) for a in "BMES" for b in "BMES")
        self.hmm_emit = tuple(fs.emit_P[y] for y in "BMES")

    @staticmethod
    def _new_memo() -> Any:
        """An empty memory of FREQ's answers: the compiled Memo (keyed by code points, no str made for a
        fragment seen before), a dict with an older build of the module."""
        return _jieba_route.Memo() if _jieba_route is not None and hasattr(_jieba_route, "Memo") else {}

    def hmm_tokens(self, run: str) -> list[str]:
        """`list(jieba.finalseg.cut(run))`, with the Viterbi path compiled where it is built."""
        fs = self.finalseg
        if _jieba_route is None or fs.Force_Split_Words:
            return list(fs.cut(run))
        out: list[str] = []
        for blk in fs.re_han.split(run):
            if not fs.re_han.match(blk):
                out += [x for x in fs.re_skip.split(blk) if x]
                continue
            begin = nexti = 0  # finalseg's __cut, on the compiled states
            for i, state in enumerate(_jieba_route.hmm_states(blk, self.hmm_start, self.hmm_trans, self.hmm_emit)):
                if state == "B":
                    begin = i
                elif state == "E":
                    out.append(blk[begin:i + 1])
                    nexti = i + 1
                elif state == "S":
                    out.append(blk[i])
                    nexti = i + 1
            if nexti < len(blk):
                out.append(blk[nexti:])
        return out

    def _refresh(self) -> None:
        """After jieba.add_word and the like, a new log(total) and an empty memo."""
        if (self.dt.total, len(self.freq)) != self._seen:
            self.logtotal, self._seen = log(self.dt.total), (self.dt.total, len(self.freq))
            self.memo = self._new_memo()

    def route_ends(self, block: str) -> list[int]:
        """For each position of a block, where the best route's word starting there ends (inclusive)."""
        if _jieba_route is not None:
            self._refresh()
            return _jieba_route.route(block, self.freq, self.logtotal, self.memo)
        route: dict[int, tuple[float, int]] = {}
        self.dt.calc(block, self.dt.get_DAG(block), route)
        return [route[i][1] for i in range(len(block))]

    def token_at(self, window: str, start: int, word: str) -> bool:
        """Does `jieba.cut(window, HMM=True)` yield `word` as the token that starts at `start`?"""
        native = getattr(_jieba_route, "token_at", None)  # absent in a tree never built, or an older build
        if native is not None and not self.finalseg.Force_Split_Words:  # the whole question compiled
            self._refresh()
            answer = native(window, start, word, self.freq, self.logtotal, self.memo, self.hmm_start,
                            self.hmm_trans, self.hmm_emit)
            if answer is not None:
                return answer
        return self.token_at_python(window, start, word)

    def token_at_python(self, window: str, start: int, word: str) -> bool:
        """token_at in Python (on the compiled route and HMM where built): the reference, and the answer
        where the compiled token_at leaves it (outside a Han block, letters or digits in an HMM run)."""
        end = start + len(word)
        b = 0  # the block of re_han's split that holds `start`
        for blk in self.re_han.split(window):
            if b + len(blk) > start:
                break
            b += len(blk)
        else:
            return False
        if b + len(blk) < end:
            return False  # tokens never cross a block's end
        if not self.re_han.match(blk):
            # jieba yields each \r\n or whitespace character whole and every other character alone
            if len(word) == 1 and not self.re_skip.match(word):
                return blk[start - b] == word
            return any(tok == word and pos == start for tok, pos in _positions(self.jieba.cut(window), 0))
        return self._in_block(blk, start - b, word)

    def _in_block(self, s: str, q: int, word: str) -> bool:
        ends = self.route_ends(s)
        x = run = 0  # run: where the current run of single-character words began
        n = len(s)
        while x < n:
            y = ends[x] + 1
            if y - x > 1:  # a dictionary word s[x:y]: it ends the run of single characters before it
                if x <= q < y:
                    return x == q and s[x:y] == word
                if x > q:
                    break
                run = y
            x = y
        # q is a single character of the run s[run:x]; jieba yields the run as one token, as its characters
        # (the run is a dictionary word) or as the HMM cuts it
        buf = s[run:x]
        if len(buf) == 1:
            return buf == word
        if self.freq.get(buf):
            return len(word) == 1 and s[q] == word
        return any(tok == word and pos == q for tok, pos in _positions(self.hmm_tokens(buf), run))


def _positions(tokens: Any, pos: int) -> Any:
    """(token, where it starts) for consecutive tokens starting at `pos`."""
    for tok in tokens:
        yield tok, pos
        pos += len(tok)
