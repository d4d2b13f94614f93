from chinhquyenso.dashboard.selectors import can_view


def nav(request):
    """Whether the header shows "Điều hành (IOC)". Lazy: the membership query
    runs only when a page's header asks (officers' menus)."""
    return {"sees_dashboard": lambda: can_view(request.user)}
