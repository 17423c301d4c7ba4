"""The TWS-API server that lets unmodified IB clients trade the simulator (``overlay gateway``).

Sans-I/O in the h11 style: the protocol logic is pure and the socket is a thin shell.

- :mod:`sim_broker.tws.codec` — framing and field encoding;
- :mod:`sim_broker.tws.messages` — message ids and layouts by server version;
- :mod:`sim_broker.tws.requests` — decoding client requests;
- :mod:`sim_broker.tws.session` — one client's handshake and request state machine;
- :mod:`sim_broker.tws.desk` — the trading desk over the Broker port shared by all clients;
- :mod:`sim_broker.tws.orders`, :mod:`sim_broker.tws.ledger` — order and execution books;
- :mod:`sim_broker.tws.contracts`, :mod:`sim_broker.tws.market` — contract details and quotes;
- :mod:`sim_broker.tws.server` — the asyncio server and ``run``.
"""
