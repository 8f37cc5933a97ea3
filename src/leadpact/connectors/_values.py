"""Cell values to typed lead values: countries, numbers, amounts, consent."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["parse_amount", "parse_consent", "parse_count", "to_country"]

# English and Dutch names of the countries a European B2B team meets most; ISO 3166-1 alpha-2.
_COUNTRIES: dict[str, str] = {}
for _code, _names in {
    "NL": "netherlands|the netherlands|netherlands (the)|holland|nederland|nld",
    "BE": "belgium|belgië|belgie|belgique|bel",
    "LU": "luxembourg|luxemburg|lux",
    "DE": "germany|deutschland|duitsland|deu",
    "FR": "france|frankrijk|fra",
    "GB": "united kingdom|uk|great britain|england|scotland|wales|verenigd koninkrijk|gbr",
    "IE": "ireland|ierland|irl",
    "ES": "spain|españa|spanje|esp",
    "PT": "portugal|prt",
    "IT": "italy|italia|italië|italie|ita",
    "AT": "austria|österreich|oostenrijk|aut",
    "CH": "switzerland|schweiz|suisse|zwitserland|che",
    "DK": "denmark|danmark|denemarken|dnk",
    "SE": "sweden|sverige|zweden|swe",
    "NO": "norway|norge|noorwegen|nor",
    "FI": "finland|suomi|fin",
    "IS": "iceland|ijsland|isl",
    "PL": "poland|polska|polen|pol",
    "CZ": "czech republic|czechia|tsjechië|tsjechie|cze",
    "SK": "slovakia|slowakije|svk",
    "HU": "hungary|hongarije|hun",
    "RO": "romania|roemenië|roemenie|rou",
    "BG": "bulgaria|bulgarije|bgr",
    "GR": "greece|griekenland|grc",
    "HR": "croatia|kroatië|kroatie|hrv",
    "SI": "slovenia|slovenië|slovenie|svn",
    "EE": "estonia|estland|est",
    "LV": "latvia|letland|lva",
    "LT": "lithuania|litouwen|ltu",
    "CY": "cyprus|cyp",
    "MT": "malta|mlt",
    "TR": "turkey|türkiye|turkije|tur",
    "UA": "ukraine|oekraïne|oekraine|ukr",
    "US": "united states|united states of america|usa|u.s.|u.s.a.|america|verenigde staten",
    "CA": "canada|can",
    "MX": "mexico|mex",
    "BR": "brazil|brasil|brazilië|brazilie|bra",
    "AR": "argentina|argentinië|argentinie|arg",
    "AU": "australia|australië|australie|aus",
    "NZ": "new zealand|nieuw-zeeland|nzl",
    "JP": "japan|jpn",
    "CN": "china|chn",
    "IN": "india|ind",
    "SG": "singapore|sgp",
    "HK": "hong kong|hkg",
    "KR": "south korea|korea|zuid-korea|kor",
    "ZA": "south africa|zuid-afrika|zaf",
    "AE": "united arab emirates|uae|verenigde arabische emiraten|are",
    "IL": "israel|israël|isr",
    "SR": "suriname|sur",
    "CW": "curaçao|curacao|cuw",
    "AW": "aruba|abw",
}.items():
    for _name in _names.split("|"):
        _COUNTRIES[_name] = _code
    _COUNTRIES[_code.lower()] = _code
del _code, _names, _name


#: The most digits a count may have (a score, a number of touches): far beyond any column, far below
#: what makes ``int()`` slow.
_DIGITS = 40


def _shown(value: str) -> str:
    """A value for an error message: as given, or its start when it is long."""
    return repr(value) if len(value) <= 60 else f"{value[:40]!r}… ({len(value)} characters)"


def to_country(value: str) -> str:
    """ISO-2 code for a country name or code the table knows; otherwise the value as given.

    >>> to_country("Nederland"), to_country("nl"), to_country("Atlantis")
    ('NL', 'NL', 'Atlantis')
    """
    return _COUNTRIES.get(value.strip().casefold(), value)


def parse_count(value: str) -> int:
    """A whole number such as a score: ``"42"``, ``"42.0"``, ``"1.234"`` is not accepted as 1234.

    >>> parse_count("87.0")
    87
    """
    text = value.strip()
    if len(text) <= _DIGITS:  # longer text is never a count; int() of it could take long
        try:
            return int(text)
        except ValueError:
            pass
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{_shown(value)} is not a number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{_shown(value)} is not a whole number")
    if number.adjusted() >= _DIGITS:  # 10**999999 as an int would take a second and a megabyte
        raise ValueError(f"{_shown(value)} is out of range: more than {_DIGITS} digits")
    return int(number)


_AMOUNT_JUNK = re.compile(r"[\s\u00a0\u202f'€$£]|EUR|USD|GBP", re.IGNORECASE)


def parse_amount(value: str) -> Decimal:
    """A money amount in either locale: ``1,500.00``, ``1.500,00``, ``€ 1500``, ``1500``.

    With both separators the last one is the decimal separator; a single separator followed by exactly
    three digits is a thousands separator (``1.500`` and ``1,500`` are 1500); otherwise it is decimal.

    >>> parse_amount("€ 1.500,50"), parse_amount("1,500"), parse_amount("99,5")
    (Decimal('1500.50'), Decimal('1500'), Decimal('99.5'))
    """
    text = _AMOUNT_JUNK.sub("", value)
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    text = text.strip("-()")
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
        thousands = "," if decimal_sep == "." else "."
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        parts = text.split(sep)
        thousands_only = len(parts) > 2 or len(parts[-1]) == 3
        text = text.replace(sep, "" if thousands_only else ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{_shown(value)} is not an amount") from None
    if not amount.is_finite() or not text:
        raise ValueError(f"{_shown(value)} is not an amount")
    return -amount if negative else amount


_YES = frozenset({"yes", "y", "true", "1", "ja", "j", "opt-in", "opted in", "granted", "subscribed", "x"})
_NO = frozenset({"no", "n", "false", "0", "nee", "opt-out", "opted out", "denied", "unsubscribed"})


#: Consent as CRMs spell it: HubSpot's legal basis for processing (``hs_legal_basis``, several values
#: joined by ``;``), Pipedrive's marketing status (``subscribed``, ``unsubscribed``, ``no_consent``,
#: ``archived``), Mautic's channel status.
_BASIS_YES = ("freely given consent", "legitimate interest", "performance of a contract")
_MORE_NO = frozenset({"no_consent", "no consent", "never_subscribed", "do not contact", "donotcontact"})


def parse_consent(value: str) -> bool | None:
    """``True``/``False`` for the usual yes/no words (English and Dutch) and the CRMs' own consent values;
    ``None`` when unrecognised.

    >>> parse_consent("Freely given consent from contact"), parse_consent("no_consent"), parse_consent("?")
    (True, False, None)
    """
    word = value.strip().casefold()
    if word in _YES:
        return True
    if word in _NO or word in _MORE_NO:
        return False
    parts = [p.strip() for p in word.split(";") if p.strip()]
    if parts and any(p.startswith(_BASIS_YES) for p in parts):
        return True
    return None
