"""Match Dental-Exec providers to the CRM's workspace members by email.

Members cannot be created through Twenty's API, so providers are only matched: by email,
trimmed and lower-cased. The `[members]` table of ferry.toml maps a provider code to the
email of the member who stands for it, instead of the export's email (for a provider whose
login differs, or who has none). A provider whose email matches no member (unmatched), who has no
email (missing) or who shares an email with another provider (shared, Q9) is assigned to the
placeholder owner instead, and each such default is listed for correction after migration.
Provider codes (`DDS1`) are compared trimmed and upper-cased (Q13).

A match by email is checked against the names: when the provider's and the member's names
disagree (accents, case and punctuation aside), the match is kept but flagged, since a
reused or mistyped email then gives a provider's records to someone else.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from core.ports.destination import Destination, Member
from core.ports.source import SourceRow

__all__ = [
    "MemberReport",
    "ProviderContact",
    "check_members",
    "match_members",
    "names_agree",
    "normalise_code",
    "normalise_email",
    "providers_from_rows",
]


class ProviderContact(msgspec.Struct, frozen=True):
    """What matching needs of one provider: code, email, whether still active, and the name
    (staff data, shown to the operator to check each match)."""

    code: str
    email: str | None
    is_active: bool = True
    first_name: str = ""
    last_name: str = ""

    @property
    def name(self) -> str:
        """First and last name, as the export spells them."""
        return f"{self.first_name} {self.last_name}".strip()


class MemberReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of matching; `owner_for(code)` answers for any provider code.

    Attributes:
        matched: provider code -> member id.
        unmatched: provider code -> its email, which no member has.
        missing: codes of providers without an email.
        shared: email -> the codes of the providers sharing it.
        placeholder: the member that receives every default assignment, if configured and found.
        placeholder_problem: why there is no placeholder (empty when there is one).
        providers: every provider matched, in export order.
        members: the workspace members, by id.
        mapped: provider code -> the email the `[members]` table gives it.
        name_mismatches: codes matched by the export's email to a member whose name disagrees
            with the provider's (codes the `[members]` table maps are the operator's choice).
    """

    matched: dict[str, str]
    unmatched: dict[str, str]
    missing: tuple[str, ...]
    shared: dict[str, tuple[str, ...]]
    placeholder: Member | None
    placeholder_problem: str = ""
    providers: tuple[ProviderContact, ...] = ()
    members: dict[str, Member] = msgspec.field(default_factory=dict)
    mapped: dict[str, str] = msgspec.field(default_factory=dict)
    name_mismatches: tuple[str, ...] = ()

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
        first = (row.values.get("first_name") or "").strip()
        last = (row.values.get("last_name") or "").strip()
        email = normalise_email(row.values.get("email"))
        contacts.append(ProviderContact(code, email, active, first, last))
    return contacts


def _folded_words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation (`O’Brien` -> `obrien`)."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = ("".join(c for c in word if c.isalnum()) for word in plain.split())
    return [word for word in words if word]


def names_agree(provider: ProviderContact, member: Member) -> bool:
    """Whether a member's name could be the provider's: every word of the last name is in
    the member's name and the first names start alike. A side without a name agrees."""
    last = _folded_words(provider.last_name)
    first = _folded_words(provider.first_name)
    theirs = _folded_words(f"{member.first_name} {member.last_name}")
    if not theirs or not (last or first):
        return True
    if any(word not in theirs for word in last):
        return False
    member_first = _folded_words(member.first_name) or theirs
    return not first or first[0][0] == member_first[0][0]


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
    mapped: Mapping[str, str] | None = None,
) -> MemberReport:
    """Match providers to members by normalised email; everything else goes to the placeholder.

    `mapped` (the `[members]` table: provider code -> member email) overrides the export's
    email of the codes it names; a mapped email is never counted as shared.
    """
    providers = tuple(providers)
    table = {normalise_code(c): e for c, e in (mapped or {}).items() if normalise_email(e)}
    by_email = {e: m.id for m in members if (e := normalise_email(m.email))}
    holders: dict[str, list[str]] = defaultdict(list)
    missing: list[str] = []
    matched: dict[str, str] = {}
    unmatched: dict[str, str] = {}
    for provider in providers:
        if provider.code in table:
            email = normalise_email(table[provider.code]) or ""
            target = matched if email in by_email else unmatched
            target[provider.code] = by_email.get(email, email)
        elif provider.email is None:
            missing.append(provider.code)
        else:
            holders[provider.email].append(provider.code)
    shared: dict[str, tuple[str, ...]] = {}
    for email, codes in holders.items():
        if len(codes) > 1:
            shared[email] = tuple(sorted(codes))
        elif email in by_email:
            matched[codes[0]] = by_email[email]
        else:
            unmatched[codes[0]] = email
    by_id = {m.id: m for m in members}
    placeholder, problem = _placeholder(members, placeholder_email)
    return MemberReport(
        matched=matched,
        unmatched=unmatched,
        missing=tuple(sorted(missing)),
        shared=shared,
        placeholder=placeholder,
        placeholder_problem=problem,
        providers=providers,
        members=by_id,
        mapped={c: e for c, e in table.items() if c in matched or c in unmatched},
        name_mismatches=tuple(
            sorted(
                p.code
                for p in providers
                if p.code in matched
                and p.code not in table  # a mapping is the operator's own decision
                and not names_agree(p, by_id[matched[p.code]])
            )
        ),
    )


async def check_members(
    providers: Iterable[ProviderContact],
    destination: Destination,
    placeholder_email: str | None = None,
    mapped: Mapping[str, str] | None = None,
) -> MemberReport:
    """List the workspace members and match the providers to them (`mapped`: the
    `[members]` table of ferry.toml)."""
    members = await destination.list_members()
    return match_members(providers, members, placeholder_email, mapped)
