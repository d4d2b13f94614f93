from chinhquyenso.civil_records.selectors import keeps_registers


def nav(request):
    """Whether the header shows "Hộ tịch": only to those its pages open for (a department's
    officers would get a 403). Lazy: the query runs only when an officer's menu asks."""
    return {"sees_civil_records": lambda: keeps_registers(request.user)}
