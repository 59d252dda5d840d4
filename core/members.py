"""Match Dental-Exec providers to the CRM's workspace members by email.

Members cannot be created through Twenty's API, so providers are only matched: by email,
trimmed and lower-cased. A provider whose email matches no member (unmatched), who has no
email (missing) or who shares an email with another provider (shared, Q9) is assigned to the
placeholder owner instead, and each such default is listed for correction after migration.
Provider codes (`DDS1`) are compared trimmed and upper-cased (Q13).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import msgspec

from core.ports.destination import Destination, Member
from core.ports.source import SourceRow

__all__ = [
    "MemberReport",
    "ProviderContact",
    "check_members",
    "match_members",
    "normalise_code",
    "normalise_email",
    "providers_from_rows",
]


class ProviderContact(msgspec.Struct, frozen=True):
    """What matching needs of one provider: code, email, whether still active."""

    code: str
    email: str | None
    is_active: bool = True


class MemberReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of matching; `owner_for(code)` answers for any provider code.

    Attributes:
        matched: provider code -> member id.
        unmatched: provider code -> its email, which no member has.
        missing: codes of providers without an email.
        shared: email -> the codes of the providers sharing it.
        placeholder: the member that receives every default assignment, if configured and found.
        placeholder_problem: why there is no placeholder (empty when there is one).
    """

    matched: dict[str, str]
    unmatched: dict[str, str]
    missing: tuple[str, ...]
    shared: dict[str, tuple[str, ...]]
    placeholder: Member | None
    placeholder_problem: str = ""

    def owner_for(self, code: str | None) -> tuple[str | None, bool]:
        """(member id or None, whether it is a default assignment) for a provider code."""
        member = self.matched.get(normalise_code(code)) if code else None
        if member is not None:
            return member, False
        return (self.placeholder.id if self.placeholder else None), True

    @property
    def defaulted(self) -> tuple[str, ...]:
        """Codes whose records will go to the placeholder owner."""
        codes = set(self.unmatched) | set(self.missing)
        codes.update(c for group in self.shared.values() for c in group)
        return tuple(sorted(codes))


def normalise_email(text: str | None) -> str | None:
    """Trimmed, lower-cased email; None when empty or not an address."""
    value = (text or "").strip().lower()
    return value if "@" in value else None


def normalise_code(text: str | None) -> str:
    """Trimmed, upper-cased provider code."""
    return (text or "").strip().upper()


def providers_from_rows(rows: Iterable[SourceRow]) -> list[ProviderContact]:
    """ProviderContacts from the export's `provider` rows (rows without a code are skipped)."""
    contacts = []
    for row in rows:
        code = normalise_code(row.values.get("code"))
        if not code:
            continue
        active = (row.values.get("active") or "Y").strip().upper() not in {"N", "NO", "0"}
        contacts.append(ProviderContact(code, normalise_email(row.values.get("email")), active))
    return contacts


def _placeholder(
    members: Sequence[Member], placeholder_email: str | None
) -> tuple[Member | None, str]:
    if not placeholder_email:
        return None, "no placeholder owner configured: defaulted records get no owner"
    wanted = normalise_email(placeholder_email)
    found = next((m for m in members if normalise_email(m.email) == wanted), None)
    if found is None:
        return None, f"placeholder owner {placeholder_email!r} is not a workspace member"
    return found, ""


def match_members(
    providers: Iterable[ProviderContact],
    members: Sequence[Member],
    placeholder_email: str | None = None,
) -> MemberReport:
    """Match providers to members by normalised email; everything else goes to the placeholder."""
    by_email = {e: m.id for m in members if (e := normalise_email(m.email))}
    holders: dict[str, list[str]] = defaultdict(list)
    missing: list[str] = []
    for provider in providers:
        if provider.email is None:
            missing.append(provider.code)
        else:
            holders[provider.email].append(provider.code)
    matched: dict[str, str] = {}
    unmatched: dict[str, str] = {}
    shared: dict[str, tuple[str, ...]] = {}
    for email, codes in holders.items():
        if len(codes) > 1:
            shared[email] = tuple(sorted(codes))
        elif email in by_email:
            matched[codes[0]] = by_email[email]
        else:
            unmatched[codes[0]] = email
    placeholder, problem = _placeholder(members, placeholder_email)
    return MemberReport(
        matched=matched,
        unmatched=unmatched,
        missing=tuple(sorted(missing)),
        shared=shared,
        placeholder=placeholder,
        placeholder_problem=problem,
    )


async def check_members(
    providers: Iterable[ProviderContact],
    destination: Destination,
    placeholder_email: str | None = None,
) -> MemberReport:
    """List the workspace members and match the providers to them."""
    return match_members(providers, await destination.list_members(), placeholder_email)
