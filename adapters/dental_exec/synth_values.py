"""Realistic Dental-Exec value spellings for the synthetic generator (every quirk at a rate)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Muñoz", "O’Brien", "Bergström",
    "Nguyễn", "Łukasiewicz", "Okafor", "Kowalski", "Patel", "Haddad", "Müller", "Peña",
)  # fmt: skip
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
    "Mark", "Margaret", "Jonathan", "Sandra", "Zoë", "José", "Renée", "Siobhán", "Chloé",
    "Ana", "Min-jun", "Thi", "Lars", "Maja", "Chidi", "Ravi", "Emma", "Noah", "Olivia", "Liam",
)  # fmt: skip
STREETS = ("Alder St", "Harbor Way", "Elm St", "Oak Ave", "Pine Rd", "Cedar Ct", "Maple Dr")
CITIES = (
    ("Springfield", "OR", "97477"), ("Eugene", "OR", "97401"), ("Lowell", "MA", "01852"),
    ("Newark", "NJ", "07102"), ("Salem", "OR", "97301"), ("Portland", "ME", "04101"),
)  # fmt: skip
EMAIL_PLACEHOLDERS = ("none@none.com", "noemail@dental-exec.example", "refused", "NONE")
NOTE_LINES = (
    "Pt anxious, prefers morning appts.",
    'Pt says "no more metal", wants white',
    "Premed before cleanings, see alerts",
    "Ins verified, copay $25",
    "Call mom to confirm, cell best",
    "Sensitive LL, use topical",
)
CDT_FEES = {
    "D0120": (50, 75), "D0140": (75, 110), "D0150": (85, 130), "D0210": (120, 180),
    "D0220": (25, 40), "D0274": (60, 90), "D0330": (100, 150), "D1110": (95, 140),
    "D1120": (70, 100), "D1206": (35, 55), "D1351": (45, 65), "D2140": (120, 160),
    "D2150": (150, 200), "D2330": (140, 200), "D2391": (160, 220), "D2392": (200, 280),
    "D2740": (1100, 1600), "D2750": (1050, 1500), "D2950": (250, 400), "D3310": (800, 1100),
    "D3330": (1100, 1500), "D4341": (200, 300), "D4342": (150, 220), "D4910": (130, 190),
    "D5110": (1500, 2500), "D6010": (1800, 2800), "D7140": (150, 250), "D7210": (250, 400),
    "D8080": (5000, 7000), "D9110": (90, 150),
}  # fmt: skip
CDT_CODES = tuple(CDT_FEES)
OFFICE_CODES = ("WHITEN", "NSF", "BROKEN", "D2740.1")


def fmt_date(day: date | None, rng: random.Random, *, legacy: bool = False) -> str:
    """`MM/DD/YYYY`, sometimes without leading zeros, two-digit years on legacy rows (Q3)."""
    if day is None:
        return ""
    roll = rng.random()
    if legacy and roll < 0.3:
        return f"{day.month:02d}/{day.day:02d}/{day.year % 100:02d}"
    if roll < 0.06:
        return f"{day.month}/{day.day}/{day.year}"
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


def fmt_datetime(moment: datetime | None) -> str:
    """`MM/DD/YYYY hh:mm:ss AM`."""
    if moment is None:
        return ""
    return moment.strftime("%m/%d/%Y %I:%M:%S %p")


def fmt_time(moment: datetime) -> str:
    """`h:mm AM` (12-hour, no leading zero)."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def fmt_money(cents: int, rng: random.Random, *, parentheses: bool = False) -> str:
    """`$1,234.50`; negatives as `($45.00)` or `-$45.00`; zero sometimes blank (Q4)."""
    if cents == 0 and rng.random() < 0.3:
        return ""
    text = f"${abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    if cents < 0:
        return f"({text})" if parentheses else f"-{text}"
    return text


def fmt_phone(rng: random.Random, suffix: int) -> str:
    """A 555-01xx phone in one of the Q5 spellings."""
    line = f"01{suffix % 100:02d}"
    roll = rng.random()
    if roll < 0.45:
        return f"(555) 555-{line}"
    if roll < 0.7:
        return f"555-555-{line}"
    if roll < 0.8:
        return f"555555{line}"
    if roll < 0.86:
        return f"555.555.{line} x{rng.randint(100, 299)}"
    if roll < 0.92:
        return f"+1 555 555 {line}"
    if roll < 0.97:
        return f"555-{line}"
    return "none"


def fmt_zip(zip5: str, rng: random.Random) -> str:
    """ZIP with the leading zero lost (Q14) or as ZIP+4 in either form."""
    roll = rng.random()
    if zip5.startswith("0") and roll < 0.5:
        return zip5.lstrip("0")
    if roll < 0.05:
        return f"{zip5}-{rng.randint(1000, 9999)}"
    if roll < 0.08:
        return f"{zip5}{rng.randint(1000, 9999)}"
    return zip5


def fmt_cdt(code: str, rng: random.Random) -> str:
    """A CDT code with the Q16 drift: lower case, trailing space, `0dddd`, office codes."""
    roll = rng.random()
    if roll < 0.02:
        return code.lower()
    if roll < 0.03:
        return code + " "
    if roll < 0.04:
        return "0" + code[1:]
    if roll < 0.05:
        return rng.choice(OFFICE_CODES)
    return code


def note(rng: random.Random, *, multiline_rate: float) -> str:
    """A free-text note; some span lines (LF or CRLF) and hold commas and quotes (Q2)."""
    first = rng.choice(NOTE_LINES)
    if rng.random() < multiline_rate:
        return first + rng.choice(("\n", "\r\n")) + rng.choice(NOTE_LINES)
    return first


def npi(rng: random.Random, *, valid: bool = True) -> str:
    """A check-digit-valid (or deliberately invalid) 10-digit NPI."""
    nine = "1" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    total = 24
    for index, char in enumerate(reversed(nine)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    check = (10 - total % 10) % 10
    return nine + str(check if valid else (check + 1) % 10)


def days_before(day: date, rng: random.Random, low: int, high: int) -> date:
    """A date `low`..`high` days before `day`."""
    return day - timedelta(days=rng.randint(low, high))
