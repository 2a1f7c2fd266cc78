"""Name and email normalization for customer matching.

Two names are "equal" when they are the same after: Unicode folding (accents dropped), case
folding, `&` read as `and`, punctuation and whitespace removed, a leading "the" and trailing
legal-form words dropped (Inc, LLC, Ltd, GmbH, Corp, Co, LLP, PLC, ...). The legal form is not
part of who a client is: "Acme Dental, Inc." and "ACME DENTAL LLC" are one business in a
billing system that spelled it one way and a bookkeeper who spelled it another.
"""

from __future__ import annotations

import re
import unicodedata

# Trailing words that name a legal form, not the business (dots already removed).
LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "llc",
        "ltd",
        "limited",
        "gmbh",
        "corp",
        "corporation",
        "co",
        "company",
        "llp",
        "lp",
        "plc",
        "pllc",
        "pc",
        "pa",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "ag",
        "kg",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "aps",
        "pty",
        "pte",
        "ug",
        "ohg",
        "kft",
        "sro",
        "sp",
        "zoo",
    }
)

# Mail providers whose domain says nothing about who the sender works for.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "zoho.com",
        "fastmail.com",
    }
)

_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Accents dropped, case folded, `&` as `and`, dots and apostrophes removed, other
    punctuation as spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ").replace(".", "").replace("'", "").replace("’", "")
    return " ".join(_NON_WORD.sub(" ", text).split())


def normalize_name(name: str | None) -> str:
    """The comparable form of a business name ("" for none). Legal-form words are dropped from
    the end (repeatedly: "Acme Pty Ltd" -> "acme"), never down to nothing."""
    words = fold(name or "").split()
    if words[:1] == ["the"] and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    # "Acme and Co" -> "acme"
    if len(words) > 1 and words[-1] == "and":
        words.pop()
    return " ".join(words)


def normalize_email(email: str | None) -> str:
    return (email or "").strip().casefold()


def emails_of(value: str | None) -> list[str]:
    """QuickBooks keeps several addresses in one field, separated by commas or semicolons."""
    return [e for e in (normalize_email(p) for p in re.split(r"[,;\s]+", value or "")) if "@" in e]


def domain_of(email: str) -> str | None:
    """The company domain of an address, or None for free-mail and malformed addresses."""
    if "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip(".")
    return None if not domain or domain in FREE_MAIL else domain
