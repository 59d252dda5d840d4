"""Transforms of practices (-> Company), patients (-> Person) and providers (members)."""

from __future__ import annotations

from core.mapping.context import TransformContext
from core.mapping.engine import Build
from core.mapping.outcomes import Outcome, Skipped
from core.mapping.records import (
    custom_values,
    extra_custom,
    finish,
    phones_value,
    start,
)
from core.mapping.steps import cached_date, first_column
from core.ports.source import SourceRow
from core.values import ValueParseError, parse_email, parse_npi

__all__ = ["id_of", "int_value_of", "transform_patient", "transform_practice", "transform_provider"]


def transform_provider(row: SourceRow, ctx: TransformContext) -> Outcome:
    """Providers become no records: they resolve to workspace members."""
    return Skipped(
        "PROVIDER_IS_MEMBER",
        "providers are matched to workspace members by email (ferry members check)",
    )


def transform_practice(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A practice location -> a Company (website on the primary location only)."""
    location_id = int(row.key) if row.key and row.key.isdecimal() else None
    build = start(row, ctx, location_id)
    found = ctx.location(location_id)
    if found is not None and found.zone_problem:
        build.warnings.append(f"{found.zone_problem}:time_zone")
    website = build.values.get("website")
    website_column = next(
        (c for c in ctx.file("practice").columns if c.transform == "website"), None
    )
    if website and website_column is not None:
        if ctx.website_location == location_id:
            url = website if "://" in website else f"https://{website}"
            build.payload[website_column.target] = {"primaryLinkUrl": url, "primaryLinkLabel": ""}
        else:
            build.extra.append(f"Website: {website}")
            build.warnings.append("website_on_primary_only")
    for value in custom_values(build, "practice"):
        if value.key == "NPI_TYPE2":
            npi = parse_npi(value.value)
            if npi is not None and npi.value is not None:
                build.payload["npi"] = npi.value
                continue
            build.warnings.append(f"npi_invalid:NPI_TYPE2:{npi.problem if npi else 'blank'}")
        extra_custom(build, value)
    return finish(build)


_ALERT_PREFIX = "MA_"


def transform_patient(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A patient -> a Person: unique email, phones, address, custom fields, referrals."""
    patient_id = int(row.key) if row.key and row.key.isdecimal() else None
    build = start(row, ctx, int_value_of(row, ctx, "home_location_id"))
    _email(build, patient_id)
    phones = phones_value(build)
    if phones is not None:
        build.payload["phones"] = phones
    for column in ("first_name", "last_name"):
        if "?" in (build.values.get(column) or ""):
            build.warnings.append(f"lost_characters:{column}")
    _patient_custom(build)
    referral = ctx.referrals.get(patient_id) if patient_id is not None else None
    if referral is not None:
        build.payload["referralSource"] = referral.source_option
        build.payload["referralDetail"] = "; ".join(text for _, text in referral.details)
    return finish(build)


def int_value_of(row: SourceRow, ctx: TransformContext, column: str) -> int | None:
    """An ID column of the row, read through the mapping (None when blank or unreadable)."""
    return id_of(ctx.values(row), column)


def id_of(values: dict[str, str | None], column: str) -> int | None:
    """An ID column of canonical values (None when blank, zero or unreadable)."""
    value = values.get(column)
    return int(value) if value is not None and value.isdecimal() and int(value) else None


def _email(build: Build, patient_id: int | None) -> None:
    column = first_column(build.ctx, "patient", "email_unique")
    if column is None:
        return
    email = parse_email(build.values.get(column.column))
    if email is None:
        return
    if email.address is None:
        build.warnings.append(f"{email.problem}_email_dropped:{column.column}")
        if email.problem == "invalid":
            build.extra.append(
                f"{column.label or column.header} (not an address): {email.raw.strip()}"
            )
        return
    owner = build.ctx.email_owner.get(email.address)
    if owner == patient_id:
        build.payload["emails"] = {"primaryEmail": email.address, "additionalEmails": []}
    else:
        build.payload["sharedEmail"] = email.address
        build.warnings.append(f"email_shared_with:patient:{owner}")


def _patient_custom(build: Build) -> None:
    alerts: list[str] = []
    for value in custom_values(build, "patient"):
        text = (value.value or "").strip().lower()
        if value.key.startswith(_ALERT_PREFIX) and text in {"yes", "y", "true", "1"}:
            alerts.append(value.key[len(_ALERT_PREFIX) :])
        elif value.key == "HIPAA_NPP_ACK" and text in {"yes", "no"}:
            build.payload["hipaaAcknowledged"] = text == "yes"
        elif value.key == "HIPAA_NPP_SIGNED" and _iso(value.value):
            build.payload["hipaaSignedDate"] = _iso(value.value)
        elif value.key == "TOOTH_CHART" and value.value:
            build.payload["toothChart"] = value.value
        else:
            extra_custom(build, value)
    if alerts:
        build.payload["medicalAlerts"] = sorted(alerts)


def _iso(text: str | None) -> str | None:
    try:
        parsed = cached_date(text) if text is not None else None
    except ValueParseError:
        return None
    return parsed.value.isoformat() if parsed is not None and parsed.value else None
