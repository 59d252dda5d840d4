"""What `ferry members check` shows: one row per provider, by name, and the warnings.

Provider names and emails are staff data from providers.csv, shown so the operator can see
who each provider was matched to; no patient value is read here.
"""

from __future__ import annotations

import msgspec

from core.members import MemberReport, ProviderContact
from core.ports.destination import Member

__all__ = ["MemberRow", "member_rows", "member_warnings"]


class MemberRow(msgspec.Struct, frozen=True, kw_only=True):
    """One provider: who it is in the export, what matching made of it, whose records they
    become (`member`) and what to do (`action`, empty when nothing)."""

    code: str
    name: str
    email: str
    outcome: str
    member: str
    action: str = ""


def _who(member: Member | None) -> str:
    if member is None:
        return "no owner"
    name = f"{member.first_name} {member.last_name}".strip()
    return f"{name} <{member.email or 'no email'}>" if name else member.email or member.id


def _map_hint(code: str) -> str:
    return f"ferry config set members.{code} EMAIL"


def _row(report: MemberReport, provider: ProviderContact, shared_with: dict[str, str]) -> MemberRow:
    code = provider.code
    base = {"code": code, "name": provider.name, "email": provider.email or ""}
    fallback = f"placeholder: {_who(report.placeholder)}"
    if code in report.matched:
        via = " (by [members])" if code in report.mapped else ""
        action = "names disagree: check" if code in report.name_mismatches else ""
        member = _who(report.members.get(report.matched[code]))
        return MemberRow(**base, outcome=f"matched{via}", member=member, action=action)
    if code in report.unmatched:
        email = report.unmatched[code]
        action = f"invite {email} to Twenty, or {_map_hint(code)}"
        return MemberRow(**base, outcome="unmatched", member=fallback, action=action)
    if code in shared_with:
        action = f"email shared with {shared_with[code]}: {_map_hint(code)}"
        return MemberRow(**base, outcome="shared", member=fallback, action=action)
    action = f"no email in the export: {_map_hint(code)}"
    return MemberRow(**base, outcome="missing", member=fallback, action=action)


def member_rows(report: MemberReport) -> list[MemberRow]:
    """One row per provider, by code."""
    shared_with = {
        code: ", ".join(c for c in codes if c != code)
        for codes in report.shared.values()
        for code in codes
    }
    return [_row(report, p, shared_with) for p in sorted(report.providers, key=lambda p: p.code)]


def member_warnings(report: MemberReport) -> list[str]:
    """One line per provider matched to a member whose name is not the provider's."""
    by_code = {p.code: p for p in report.providers}
    lines = []
    for code in report.name_mismatches:
        member = report.members.get(report.matched[code])
        lines.append(
            f"{code} {by_code[code].name} was matched by email to the member "
            f"{_who(member)}, whose name differs: if they are not the same person, map the "
            f"code to the right member's email ({_map_hint(code)}), then run "
            "`ferry members check` again"
        )
    return lines
