from chinhquyenso.persons.access import can_view


def nav(request):
    # Lazy: evaluated only when a page's menu asks, for officers granted the health data.
    return {"sees_persons": lambda: can_view(request.user)}
