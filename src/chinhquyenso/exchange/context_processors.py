from chinhquyenso.exchange import notices


def unread(request):
    """The unread in-app notices in the header ("Thông báo (3)"). Lazy: counted only when a
    page's header asks, and only for a signed-in account."""
    user = request.user

    def count() -> int:
        return notices.unread_count(user) if user.is_authenticated else 0

    return {"unread_notices": count}
