"""The data bus (LGSP) — docs/data-bus.md.

- `gateway.call(...)`: a synchronous call (never inside a transaction; timeouts; BusError);
- `delivery.send(...)`: an asynchronous call through the outbox (inside the transaction);
- `registry`: members, services, access rights; `log`: the signed message log;
- `circuit`: the breaker per remote service; `security`: signed request tokens;
- `views`: `/r1/<service id>/<path>` for other systems."""
