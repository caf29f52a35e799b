"""A synthetic case for demos and smoke tests: made-up data, never a real person."""

from __future__ import annotations

from typing import Any

__all__ = ["synthetic_case_input"]


def synthetic_case_input(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/kyc-cases`` body with obviously fictional values."""
    data: dict[str, Any] = {
        "legal_first_name": "Jordan",
        "legal_last_name": "Sample",
        "user_internal_id": "DEMO-000123",
        "user_type": "INDIVIDUAL",
        "relationship_type": "NEW_ONBOARDING",
        "current_status": "DRAFT",
        "case_priority": "NORMAL",
        "agency_name": "Demo Agency",
        "regulated_provider_name": "Example Bank plc",
        "programme_name": "Everyday Account",
        "country_of_onboarding": "GB",
        "assigned_team": "Onboarding Team A",
    }
    data.update(overrides)
    return data
