"""The values the parser computes at the given inputs while it builds a graph (``_Lowering.value_of``: an if of
them, a mask, a loop's test), kept within a budget of bytes.

A ``while`` loop of the values (a Python one, JAX's or PyTorch's) reads each step's carry once, so the memo drops
its oldest values past the budget (1,600 steps of a 1000 x 1000 carry would hold 13 GB); a value dropped and asked
again is computed again from its arguments. A walk of ``value_of`` may still need an old value (an argument of a
node it has yet to compute: ``uses``), which stays; :meth:`ValueMemo.trim` sets such a value aside while the walk
runs instead of meeting it again at each trim (the cost was the values held, per op computed past the budget), and
the walk's end puts it back in its place: each value is met once per walk that reads it, and the order of what is
dropped is the oldest first, as before.
"""
from __future__ import annotations

import heapq
from collections import OrderedDict


class ValueMemo:
    """Node id → value at the given inputs; the values ops computed are counted (``total`` bytes) and trimmed."""

    def __init__(self) -> None:
        self.values: dict = {}  # node id -> its value (inputs, constants and ops' results)
        self.held: OrderedDict = OrderedDict()  # node id -> bytes, of the ops' results not set aside, oldest first
        self.total = 0  # the bytes of the ops' results held, set aside ones included
        self._aside: dict = {}  # node id -> bytes: met by trim while the walk still needs it; older than all held
        self._ready: list = []  # heap of (rank among those aside, id) of those aside the walk no longer needs
        self._rank: dict = {}  # node id -> the order it was set aside in (the oldest first)

    def __contains__(self, i: int) -> bool:
        return i in self.values

    def add(self, i: int, value) -> None:
        """An op's result: counted, and dropped when it is the oldest the walks no longer need past the budget."""
        self.values[i] = value
        self.held[i] = nbytes = getattr(value, "nbytes", 0)
        self.total += nbytes

    def released(self, i: int) -> None:
        """The walk has computed every node it still needed ``i`` for: ``i`` may be dropped again."""
        if i in self._aside:
            heapq.heappush(self._ready, (self._rank[i], i))

    def trim(self, uses: dict, keep: int, cap: int) -> bool:
        """Drop the oldest values that no node the walk has yet to compute reads (``uses``) and that are not
        ``keep`` (the node the walk computes), until at most ``cap`` bytes are held; False where the values the walk
        needs hold more than ``cap`` by themselves."""
        held = self.held
        while self.total > cap:
            if self._ready:  # set aside earlier, so older than any held
                i = heapq.heappop(self._ready)[1]
                nbytes = self._aside.pop(i)
            elif held:
                i, nbytes = held.popitem(last=False)
                if i == keep or uses.get(i, 0) > 0:
                    self._rank[i] = len(self._rank)
                    self._aside[i] = nbytes
                    continue
            else:
                return False
            self.total -= nbytes
            del self.values[i]
        return True

    def end_walk(self) -> None:
        """Put back the values set aside, in their order, before those held: each is older than all of these."""
        for i in reversed(self._aside):
            self.held[i] = self._aside[i]
            self.held.move_to_end(i, last=False)
        self._aside.clear()
        self._ready.clear()
        self._rank.clear()
