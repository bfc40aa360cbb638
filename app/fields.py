"""Field types shared by every request schema: strict, bounded, and named in errors."""

import re
import zoneinfo
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
)

MAX_MONEY = 10**15


def _integral(value: object) -> object:
    """JSON has one number type: 5000.0 is the integer 5000 (JSON Schema agrees)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Money = Annotated[
    int,
    Strict(),
    Field(ge=0, le=MAX_MONEY, description="Integer minor units."),
    BeforeValidator(_integral),
]
PositiveMoney = Annotated[int, Strict(), Field(gt=0, le=MAX_MONEY), BeforeValidator(_integral)]
WHOLE_NUMBER = BeforeValidator(_integral)  # with Strict(): 5.0 counts, 5.5 and "5" do not


EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD: not the Unix times (`0`) that date parsing would also take."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


_ISO_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _iso_instant(value: object) -> object:
    """Only RFC 3339 text: not the Unix times (`0`) that datetime parsing would also take."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not _ISO_INSTANT.match(value):
        raise ValueError("must be an RFC 3339 date-time with an offset")
    return value


def _plausible_date(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _plausible_instant(value: datetime) -> datetime:
    _plausible_date(value.date())
    return value


# The schema states the year range too, so a client (or a fuzzer) can know it.
_PLAUSIBLE_YEAR = {"pattern": r"^(19|20|21)[0-9]{2}-"}
Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    AfterValidator(_plausible_date),
    Field(description="YYYY-MM-DD", json_schema_extra=_PLAUSIBLE_YEAR),
]
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_instant),
    AfterValidator(_plausible_instant),
    Field(description="RFC 3339 with offset", json_schema_extra=_PLAUSIBLE_YEAR),
]


Ref = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
ShortText = Ref
Name = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Note = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=4000)]

# ISO 4217 active codes.
_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
    BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
_CURRENCIES = frozenset(_ISO_4217.split())


def _currency(value: str) -> str:
    if value not in _CURRENCIES:
        raise ValueError("not an ISO 4217 currency code")
    return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(value: str) -> bool:
    return value in _zones()


def _time_zone(value: str) -> str:
    if not is_time_zone(value):
        raise ValueError("not an IANA time zone name")
    return value


Currency = Annotated[
    str,
    Strict(),
    AfterValidator(_currency),
    Field(json_schema_extra={"enum": sorted(_CURRENCIES)}),
]
TimeZone = Annotated[str, Strict(), StringConstraints(max_length=64), AfterValidator(_time_zone)]
Locale = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", max_length=35),
]
