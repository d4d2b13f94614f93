"""Messaging channels of the assistant: a question arrives from a messaging platform, the answer
goes back through the outbox.

An adapter (one module per platform, `zalo` for the Zalo Official Account) turns the platform's
webhook request into an `services.Incoming` — after checking that the platform sent it — or refuses
it; `services.receive` answers it once per platform message id (a retried webhook is answered once)
and puts the reply into the outbox (exchange.outbox) in the same transaction as the idempotency
record; the outbox's sender for the channel (exchange.senders) delivers it after commit, with
retries and dead letters. The platform's user id is personal data: it is the outbox recipient, the
conversation is keyed by a keyed hash of it, and it is never logged.

`zalo_simulator` is a stand-in for the Zalo platform run as its own process (docs/national-systems.md).
"""
