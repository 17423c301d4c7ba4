"""Per-client fair scheduling of the simulator's matching work.

TWS serves its API clients independently: one client's burst of orders does not delay
another's. The simulator matches orders in arrival order and shares each interval's volume
among waiting orders oldest first, so a client sending 2,000 market orders at once would put
every other client's order behind them. :class:`FairQueue` bounds what each client has in
the matching engine: at most ``per_client`` orders are *in flight* (sent, and for a market
order not yet finished; a limit order leaves the count once the simulator accepts it and it
rests). Further orders of that client wait in its own FIFO and are released one for one as
its earlier orders leave, so another client's order meets at most ``per_client`` orders of
each other client ahead of it.
"""

from __future__ import annotations

from collections import deque

from execution import broker as port


class FairQueue:
    def __init__(self, broker: port.Broker, per_client: int = 8) -> None:
        self.broker = broker
        self.per_client = per_client
        self._flight: dict[int, set[int]] = {}
        self._waiting: dict[int, deque[port.OrderRequest]] = {}
        self._queued: dict[int, int] = {}  # sim id -> client id, for waiting requests

    def submit(self, client: int, req: port.OrderRequest) -> None:
        flight = self._flight.setdefault(client, set())
        if len(flight) < self.per_client and not self._waiting.get(client):
            flight.add(req.order_id)
            self.broker.submit(req)
            return
        self._waiting.setdefault(client, deque()).append(req)
        self._queued[req.order_id] = client

    def withdraw(self, sim_id: int) -> bool:
        """Drop a request still waiting here (a cancel); False if it already went on."""
        client = self._queued.pop(sim_id, None)
        if client is None:
            return False
        queue = self._waiting[client]
        for req in list(queue):
            if req.order_id == sim_id:
                queue.remove(req)
        return True

    def rested(self, client: int, sim_id: int) -> None:
        """A limit order was accepted and rests: it no longer holds a matching slot."""
        self.done(client, sim_id)

    def done(self, client: int, sim_id: int) -> None:
        flight = self._flight.get(client)
        if flight is None or sim_id not in flight:
            return
        flight.discard(sim_id)
        queue = self._waiting.get(client)
        while queue and len(flight) < self.per_client:
            req = queue.popleft()
            self._queued.pop(req.order_id, None)
            flight.add(req.order_id)
            self.broker.submit(req)

    def waiting(self, client: int) -> int:
        return len(self._waiting.get(client, ()))
