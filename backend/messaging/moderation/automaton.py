"""A small Aho-Corasick automaton: every occurrence of any of N words in one pass.

pyahocorasick is not a dependency; word lists here are tens to hundreds of entries,
so a dict-based trie with failure links is plenty."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator


class Automaton:
    def __init__(self, words: Iterable[str]) -> None:
        self._goto: list[dict[str, int]] = [{}]
        self._fail: list[int] = [0]
        # Each state's outputs: lengths of the words ending here (incl. via failure links).
        self._out: list[list[str]] = [[]]
        for word in words:
            if word:
                self._add(word)
        self._link()

    def _add(self, word: str) -> None:
        state = 0
        for ch in word:
            nxt = self._goto[state].get(ch)
            if nxt is None:
                nxt = len(self._goto)
                self._goto.append({})
                self._fail.append(0)
                self._out.append([])
                self._goto[state][ch] = nxt
            state = nxt
        if word not in self._out[state]:
            self._out[state].append(word)

    def _link(self) -> None:
        queue: deque[int] = deque()
        for nxt in self._goto[0].values():
            queue.append(nxt)
        while queue:
            state = queue.popleft()
            for ch, nxt in self._goto[state].items():
                queue.append(nxt)
                fail = self._fail[state]
                while fail and ch not in self._goto[fail]:
                    fail = self._fail[fail]
                target = self._goto[fail].get(ch, 0)
                self._fail[nxt] = target if target != nxt else 0
                self._out[nxt].extend(w for w in self._out[self._fail[nxt]] if w not in self._out[nxt])

    def find(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Yield (start, end_exclusive, word) for every occurrence, overlapping ones too."""
        state = 0
        for i, ch in enumerate(text):
            while state and ch not in self._goto[state]:
                state = self._fail[state]
            state = self._goto[state].get(ch, 0)
            for word in self._out[state]:
                yield i + 1 - len(word), i + 1, word
