"""The Vietnamese lunar calendar (âm lịch), for dates registers wrote in it.

Hồ Ngọc Đức's published astronomical method: months begin on the day of the
new moon at UTC+7, month 11 holds the winter solstice, and a leap month is the
first month without a principal solar term. Vietnam's calendar differs from
China's (UTC+8) in some years — Tết 1968 fell on 29/01 in Vietnam, 30/01 in
China; Tết 1985 on 21/01 and 20/02 — so a Chinese lunar library would be wrong.
"""

from __future__ import annotations

import datetime as dt
import math

TIME_ZONE = 7.0
_SYNODIC_MONTH = 29.530588853


def _jd_from_date(day: int, month: int, year: int) -> int:
    a = (14 - month) // 12
    y = year + 4800 - a
    m = month + 12 * a - 3
    jd = day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045
    if jd < 2299161:  # Julian calendar before 15/10/1582
        jd = day + (153 * m + 2) // 5 + 365 * y + y // 4 - 32083
    return jd


def _date_from_jd(jd: int) -> dt.date:
    if jd > 2299160:
        a = jd + 32044
        b = (4 * a + 3) // 146097
        c = a - (b * 146097) // 4
    else:
        b, c = 0, jd + 32082
    d = (4 * c + 3) // 1461
    e = c - (1461 * d) // 4
    m = (5 * e + 2) // 153
    return dt.date(b * 100 + d - 4800 + m // 10, m + 3 - 12 * (m // 10), e - (153 * m + 2) // 5 + 1)


def _new_moon(k: int) -> float:
    """Julian day (UT) of the k-th new moon after 1/1/1900."""
    t = k / 1236.85
    t2, t3 = t * t, t * t * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
    c1 = c1 - 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr) - 0.0004 * math.sin(dr * 3 * mpr)
    c1 = c1 + 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr)) - 0.0074 * math.sin(dr * (m - mpr))
    c1 = (
        c1
        + 0.0004 * math.sin(dr * (2 * f + m))
        - 0.0004 * math.sin(dr * (2 * f - m))
        - 0.0006 * math.sin(dr * (2 * f + mpr))
    )
    c1 = c1 + 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m))
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - delta_t


def _sun_longitude(jd: float) -> float:
    """The sun's apparent longitude in radians, 0 ≤ L < 2π."""
    t = (jd - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    longitude = (l0 + dl) * dr
    return longitude - 2 * math.pi * math.floor(longitude / (2 * math.pi))


def _new_moon_day(k: int) -> int:
    return math.floor(_new_moon(k) + 0.5 + TIME_ZONE / 24)


def _solar_term(day: int) -> int:
    """0–11: which twelfth of the ecliptic the sun is in at the start of `day` (local)."""
    return math.floor(_sun_longitude(day - 0.5 - TIME_ZONE / 24) / math.pi * 6)


def _month_11(year: int) -> int:
    """Julian day on which lunar month 11 (holding the winter solstice) of `year` begins."""
    k = math.floor((_jd_from_date(31, 12, year) - 2415021) / _SYNODIC_MONTH)
    start = _new_moon_day(k)
    return _new_moon_day(k - 1) if _solar_term(start) >= 9 else start


def _leap_month_offset(month_11: int) -> int:
    k = math.floor((month_11 - 2415021.076998695) / _SYNODIC_MONTH + 0.5)
    i, arc = 1, _solar_term(_new_moon_day(k + 1))
    while True:
        last = arc
        i += 1
        arc = _solar_term(_new_moon_day(k + i))
        if arc == last or i >= 14:
            return i - 1


def to_solar(day: int, month: int, year: int, leap: bool = False) -> dt.date | None:
    """The solar date of lunar day/month/year (leap: the intercalary month),
    or None when no such lunar day exists (a 30th in a 29-day month, a leap
    month the year does not have)."""
    if not (1 <= month <= 12 and 1 <= day <= 30):
        return None
    if month < 11:
        a11, b11 = _month_11(year - 1), _month_11(year)
    else:
        a11, b11 = _month_11(year), _month_11(year + 1)
    k = math.floor(0.5 + (a11 - 2415021.076998695) / _SYNODIC_MONTH)
    offset = (month - 11) % 12
    if b11 - a11 > 365:
        leap_offset = _leap_month_offset(a11)
        leap_month = (leap_offset - 2) % 12
        if leap and month != leap_month:
            return None
        if leap or offset >= leap_offset:
            offset += 1
    elif leap:
        return None
    start, next_start = _new_moon_day(k + offset), _new_moon_day(k + offset + 1)
    if day > next_start - start:
        return None
    return _date_from_jd(start + day - 1)
