from chinhquyenso.exchange import notices


def unread(request):
    """The unread in-app notices in the header ("Thông báo (3)"). Lazy: counted only when a
    page's header asks, and only for a signed-in account."""
    user = request.user

    def count() -> int:
        return notices.unread_count(user) if user.is_authenticated else 0

    def reads_bus_log() -> bool:
        from chinhquyenso.exchange.bus.log import may_read

        return user.is_authenticated and may_read(user)

    # The header's link to the message log (exchange.bus.log_views): auditors and the province administrator.
    return {"unread_notices": count, "reads_bus_log": reads_bus_log}
