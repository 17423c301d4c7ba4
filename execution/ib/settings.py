"""The IB adapter's settings, the live-port guard and its errors (no I/O, no IB import)."""

from __future__ import annotations

from dataclasses import dataclass, field

from execution.ib.mapping import live_port_name
from execution.ib.pacing import PacingLimits

__all__ = ["ContractNotFound", "IBSettings", "LiveAccountRefused", "LivePortRefused", "MarketDataUnavailable",
           "check_account", "check_port", "choose_account"]


class LivePortRefused(ValueError):
    """A live-trading port was given without explicit permission."""


class LiveAccountRefused(ValueError):
    """A live (non-paper) account, or no single account, without explicit permission."""


def check_account(account: str, allow_live: bool) -> None:
    """Refuse an account that is not an IB paper account (their ids start with ``D``)
    unless ``allow_live``; no I/O."""
    if not account.upper().startswith("D") and not allow_live:
        raise LiveAccountRefused(f"account {account} is not a paper account (paper ids start with D); "
                                 "refusing to trade it without --allow-live")


class ContractNotFound(LookupError):
    """IB has no (unique) contract for an instrument (IB error 200)."""


class MarketDataUnavailable(LookupError):
    """No quote arrived for an instrument within the request timeout."""


def check_port(port: int, allow_live: bool) -> None:
    """Refuse the live ports (7496 TWS, 4001 Gateway) unless ``allow_live``; no I/O."""
    name = live_port_name(port)
    if name is not None and not allow_live:
        raise LivePortRefused(f"port {port} is the {name} port; refusing to trade a live account without --allow-live")


@dataclass(frozen=True, slots=True)
class IBSettings:
    """Connection, timing (seconds) and pacing of the adapter."""

    host: str = "127.0.0.1"
    port: int = 7497
    client_id: int = 1
    account: str = ""
    allow_live: bool = False
    connect_timeout: float = 10.0
    request_timeout: float = 10.0
    ack_timeout: float = 5.0
    commission_wait: float = 0.5
    reconcile_interval: float = 5.0
    reconnect_initial: float = 0.5
    reconnect_max: float = 30.0
    reconnect_attempts: int = 8
    pacing: PacingLimits = field(default_factory=PacingLimits)
    order_ref_prefix: str = "overlay-"


def choose_account(configured: str, managed: list[str], allow_live: bool) -> str:
    """The account to trade: ``configured`` (which must be among the login's ``managed``
    accounts) or the login's only one; a live account (not ``D…``) is refused unless
    ``allow_live``. Raises :class:`LiveAccountRefused` naming the problem; no I/O."""
    managed = [a for a in managed if a]
    account = configured or (managed[0] if len(managed) == 1 else "")
    if configured and managed and configured not in managed:
        raise LiveAccountRefused(f"account {configured} is not among the login's accounts {', '.join(managed)}")
    if not account:
        raise LiveAccountRefused(f"the login manages {len(managed)} accounts ({', '.join(managed)}); name one")
    check_account(account, allow_live)
    return account
