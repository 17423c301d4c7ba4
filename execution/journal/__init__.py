"""The crash-safe journal of a paper-trading run.

- :mod:`execution.journal.store` — :class:`Journal`, the SQLite store (runs, parents,
  children, executions) and its recovery view;
- :mod:`execution.journal.broker` — :class:`JournaledBroker`, a Broker that writes every
  order to the journal before it reaches the real broker.
"""
