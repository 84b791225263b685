"""Micro-batching: concurrent requests share one model call.

A small MLP costs about as much for 32 rows as for one: the price of a call is
its dispatch. So requests that arrive while the model is busy wait in a queue,
and the next call serves all of them at once. A lone request is never held
back: it starts a call at once (no fixed window), so batching costs nothing
when there is no load. Under load (the previous call served more than one
request) an optional window (``batch_window_ms``) lets a few more join.

Model calls run one at a time. A small call (at most ``inline_rows`` rows, a
fraction of a millisecond for an MLP) runs on the event loop itself: handing it to
a thread would cost more than it takes. A larger one runs in a single worker
thread, so the event loop keeps reading and parsing requests meanwhile.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable


class MicroBatcher:
    """Queue requests' rows; run them through ``predict`` in shared batches.

    Args:
        predict: rows (as ``combine`` made them) -> an array with one output per row.
        combine: a list of request payloads -> one payload (e.g. ``np.concatenate``).
        max_rows: the most rows one call takes (a larger request runs alone).
        window_s: the wait for more requests under load; 0: none.
        inline_rows: calls of at most this many rows run on the event loop.
    """

    def __init__(self, predict: Callable, combine: Callable[[list], Any], max_rows: int,
                 window_s: float = 0.0, inline_rows: int = 64):
        self.predict, self.combine = predict, combine
        self.max_rows, self.window_s, self.inline_rows = max_rows, window_s, inline_rows
        self._queue: list[tuple[Any, int, asyncio.Future]] = []
        self._draining = False
        self._busy = False  # whether the previous call served more than one request
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="mlpkit-predict")
        self.calls = 0      # model calls made
        self.requests = 0   # requests served by them

    async def __call__(self, payload, rows: int):
        """The model's outputs for ``payload`` (``rows`` rows), once its batch ran."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((payload, rows, future))
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain())
        return await future

    def _take(self) -> list:
        batch, rows = [], 0
        while self._queue and (not batch or rows + self._queue[0][1] <= self.max_rows):
            item = self._queue.pop(0)
            if not item[2].cancelled():
                batch.append(item)
                rows += item[1]
        return batch

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                if self._busy and self.window_s:
                    await asyncio.sleep(self.window_s)
                batch = self._take()
                if not batch:
                    continue
                rows = sum(r for _, r, _ in batch)
                self._busy = len(batch) > 1
                self.calls += 1
                self.requests += len(batch)
                try:
                    payload = batch[0][0] if len(batch) == 1 else self.combine(
                        [p for p, _, _ in batch])
                    if rows <= self.inline_rows:
                        out = self.predict(payload)
                    else:
                        out = await loop.run_in_executor(self._executor, self.predict, payload)
                except Exception as e:  # every waiting request learns of it
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(e)
                    continue
                start = 0
                for _, rows, future in batch:
                    if not future.done():
                        future.set_result(out[start:start + rows])
                    start += rows
        finally:
            self._draining = False

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
