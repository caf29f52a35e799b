"""SchemaForm, driven as an analyst would: set input values, submit, read what is shown."""

from __future__ import annotations

import html
import re
from datetime import date
from enum import Enum
from typing import Literal

import ipywidgets as W
import pytest
from pydantic import BaseModel, EmailStr, Field, SecretStr, field_validator

from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import (
    CREATE_STATUSES,
    CasePriority,
    CreateStatus,
    KycCaseCreateInput,
    UserType,
)

REQUIRED = "This field is required."

VALID_CASE = {
    "legal_first_name": "Ada",
    "legal_last_name": "Lovelace",
    "user_internal_id": "000123",
    "user_type": "INDIVIDUAL",
    "relationship_type": "NEW_ONBOARDING",
    "current_status": "DRAFT",  # required by the contract: no model default
    "case_priority": "HIGH",
    "agency_name": "Agency",
    "regulated_provider_name": "Provider Ltd",
    "programme_name": "Cards",
    "country_of_onboarding": "GB",
    "assigned_team": "Onboarding",
}


def visible_text(widget: W.HTML) -> str:
    """What a reader sees in an HTML/Label widget: "" when it is hidden."""
    if widget.layout.display == "none":
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value)).strip()


def shown_errors(form: SchemaForm) -> dict[str, str]:
    return {n: t for n, w in form.error_widgets.items() if (t := visible_text(w))}


def fill(form: SchemaForm, values: dict[str, object]) -> None:
    """Type/select like a user: each assignment is one front-end change."""
    for name, value in values.items():
        widget = form.fields[name]
        if isinstance(widget, W.Dropdown):
            widget.value = next(v for _, v in widget.options if v == value)
        else:
            widget.value = value


# ---------------------------------------------------------------- the case form


def test_case_form_inputs_labels_and_markers() -> None:
    form = SchemaForm(KycCaseCreateInput)
    assert list(form.fields) == list(KycCaseCreateInput.model_fields)
    first = form.fields["legal_first_name"]
    assert isinstance(first, W.Text) and first.continuous_update is False
    # The label is the input's own description (a <label for=...> in ipywidgets 8).
    assert first.description == "Legal first name *"
    assert form.fields["user_internal_id"].description == "User internal ID *"
    assert form.fields["assigned_analyst_email"].description == "Assigned analyst e-mail"
    assert form.fields["kyc_case_id"].description == "External case ID"
    assert "identity document" in first.tooltip
    assert "Fields marked * are required." in visible_text(form.legend)
    # Descriptions show under the field as help text.
    help_texts = [visible_text(w) for w in form.rows["legal_first_name"].children[1:-1]]
    assert help_texts == [KycCaseCreateInput.model_fields["legal_first_name"].description]
    # No error is shown on a fresh form.
    assert shown_errors(form) == {} and visible_text(form.form_message) == ""


class Triage(BaseModel):
    """A model whose choice has a default (the case input's status has none)."""

    status: CreateStatus = CreateStatus.DRAFT
    level: CasePriority


def test_required_choice_starts_unselected_and_default_choice_is_selected() -> None:
    form = SchemaForm(KycCaseCreateInput)
    user_type = form.fields["user_type"]
    assert isinstance(user_type, W.Dropdown)
    assert user_type.label == "Select…"
    assert ("Individual", UserType.INDIVIDUAL) in user_type.options
    assert ("KYC refresh", "KYC_REFRESH") in form.fields["relationship_type"].options
    # The contract makes current_status required without a default: it starts unselected.
    assert form.fields["current_status"].label == "Select…"
    values = form.values()
    assert values["user_type"] is None and values["current_status"] is None
    assert values["legal_first_name"] == ""
    assert values["assigned_analyst_email"] is None and values["kyc_case_id"] is None

    # A choice with a model default starts on it, with no placeholder to fall back to.
    triage = SchemaForm(Triage)
    status = triage.fields["status"]
    assert status.value == CreateStatus.DRAFT and status.label == "Draft"
    assert "Select…" not in [label for label, _ in status.options]
    assert triage.fields["level"].label == "Select…"


def test_initial_value_acts_as_the_forms_default_for_a_choice() -> None:
    """``values=`` is what reset() returns to, so the field never needs "Select…"."""
    form = SchemaForm(KycCaseCreateInput, values={"current_status": CreateStatus.DRAFT})
    status = form.fields["current_status"]
    assert status.value == CreateStatus.DRAFT and status.label == "Draft"
    assert [v for _, v in status.options] == list(CreateStatus)
    assert form.fields["user_type"].label == "Select…"  # no initial value: placeholder kept


def test_validate_empty_form_shows_each_required_message_and_summary() -> None:
    form = SchemaForm(KycCaseCreateInput)
    assert form.validate() is None
    required = [n for n, f in KycCaseCreateInput.model_fields.items() if f.is_required()]
    assert shown_errors(form) == {n: f"⚠ Error: {REQUIRED}" for n in required}
    assert form.field_errors == {n: REQUIRED for n in required}
    summary = visible_text(form.form_message)
    assert summary.startswith(f"⚠ Please fix {len(required)} fields: Legal first name, ")
    assert "Assigned team" in summary and "Assigned analyst e-mail" not in summary
    assert 'role="alert"' in form.form_message.value


def test_valid_fill_returns_the_model_and_clears_messages() -> None:
    form = SchemaForm(KycCaseCreateInput)
    assert form.validate() is None
    fill(form, VALID_CASE)
    fill(form, {"assigned_analyst_email": "  "})  # blank optional e-mail means "not given"
    case = form.validate()
    assert isinstance(case, KycCaseCreateInput)
    assert case.legal_first_name == "Ada" and case.user_internal_id == "000123"
    assert case.user_type is UserType.INDIVIDUAL and case.current_status is CreateStatus.DRAFT
    assert case.assigned_analyst_email is None and case.kyc_case_id is None
    assert shown_errors(form) == {} and visible_text(form.form_message) == ""


def test_bad_email_message_under_that_field_only() -> None:
    form = SchemaForm(KycCaseCreateInput, values=VALID_CASE)
    form.fields["assigned_analyst_email"].value = "ada.example.com"
    assert form.validate() is None
    assert shown_errors(form) == {
        "assigned_analyst_email": "⚠ Error: Enter a valid e-mail address (e.g. name@example.com)."
    }
    assert visible_text(form.form_message) == "⚠ Please fix 1 field: Assigned analyst e-mail"


def test_model_validator_message_kept_without_pydantic_prefix() -> None:
    form = SchemaForm(KycCaseCreateInput, values={**VALID_CASE, "kyc_case_id": "ab c"})
    assert form.validate() is None
    assert list(form.field_errors) == ["kyc_case_id"]
    message = form.field_errors["kyc_case_id"]
    # The model's own words, capitalised, without pydantic's "Value error, " prefix.
    assert message.startswith("Must not contain spaces, tabs, line breaks")
    assert message.endswith(".") and "Value error" not in message


def test_blur_validation_shows_then_clears_only_that_field() -> None:
    form = SchemaForm(KycCaseCreateInput)
    email = form.fields["assigned_analyst_email"]
    email.value = "not-an-email"  # what the front end sends on blur/Enter
    assert shown_errors(form) == {
        "assigned_analyst_email": "⚠ Error: Enter a valid e-mail address (e.g. name@example.com)."
    }
    # Untouched required fields are not flagged before a submit; no summary yet.
    assert visible_text(form.form_message) == ""
    email.value = "ada@example.com"
    assert shown_errors(form) == {}
    # Clearing a touched required field is reported at once.
    form.fields["legal_first_name"].value = "Ada"
    form.fields["legal_first_name"].value = "   "
    assert form.field_errors == {"legal_first_name": REQUIRED}


def test_fixing_a_field_after_submit_updates_the_summary() -> None:
    form = SchemaForm(KycCaseCreateInput, values={**VALID_CASE, "legal_first_name": ""})
    form.fields["assigned_analyst_email"].value = "bad"
    assert form.validate() is None
    assert visible_text(form.form_message).startswith("⚠ Please fix 2 fields")
    form.fields["legal_first_name"].value = "Ada"
    assert visible_text(form.form_message) == "⚠ Please fix 1 field: Assigned analyst e-mail"
    form.fields["assigned_analyst_email"].value = ""
    assert visible_text(form.form_message) == "" and shown_errors(form) == {}


def test_set_values_fills_without_validation_messages() -> None:
    form = SchemaForm(KycCaseCreateInput)
    form.set_values({"legal_first_name": "", "assigned_analyst_email": "bad", "unknown": 1})
    assert shown_errors(form) == {} and form.field_errors == {}
    assert form.fields["assigned_analyst_email"].value == "bad"
    model = KycCaseCreateInput.model_validate({**VALID_CASE, "kyc_case_id": "EXT-1"})
    form.set_values(model)
    assert form.fields["user_type"].value == UserType.INDIVIDUAL
    assert form.fields["kyc_case_id"].value == "EXT-1"
    assert form.validate() == model


def test_set_errors_maps_fields_and_unknown_goes_to_form_message() -> None:
    form = SchemaForm(KycCaseCreateInput)
    form.set_errors(
        [
            ("legal_first_name", "Too long for the registry."),
            ("no_such_field", "Something about a field we do not show."),
            (None, "General problem."),
        ]
    )
    assert shown_errors(form) == {"legal_first_name": "⚠ Error: Too long for the registry."}
    summary = visible_text(form.form_message)
    assert "Please fix 1 field: Legal first name" in summary
    assert "Something about a field we do not show." in summary and "General problem." in summary
    form.clear_errors()
    assert shown_errors(form) == {} and visible_text(form.form_message) == ""
    form.set_errors({"kyc_case_id": "A case with this id already exists."})
    assert form.field_errors == {"kyc_case_id": "A case with this id already exists."}


def test_form_message_independent_of_errors() -> None:
    form = SchemaForm(KycCaseCreateInput)
    form.set_form_message("Your session expired: sign in again.")
    assert visible_text(form.form_message) == "⚠ Your session expired: sign in again."
    form.clear_errors()
    assert "sign in again" in visible_text(form.form_message)
    form.set_form_message(None)
    assert visible_text(form.form_message) == ""


def test_reset_restores_initial_values_and_clears_errors() -> None:
    form = SchemaForm(KycCaseCreateInput, values={"agency_name": "Agency", "current_status": "DRAFT"})
    form.fields["agency_name"].value = "Changed"
    form.fields["current_status"].value = "PENDING"
    form.validate()
    form.reset()
    assert form.fields["agency_name"].value == "Agency"
    assert form.fields["current_status"].value == CreateStatus.DRAFT
    assert form.fields["user_type"].label == "Select…"
    assert shown_errors(form) == {} and visible_text(form.form_message) == ""


def test_disabled_locks_every_input_but_keeps_read_only_locked() -> None:
    form = SchemaForm(KycCaseCreateInput, read_only=["kyc_case_id"])
    assert form.fields["kyc_case_id"].disabled and not form.fields["legal_first_name"].disabled
    form.disabled = True
    assert all(w.disabled for w in form.fields.values()) and form.disabled
    form.disabled = False
    assert not form.fields["legal_first_name"].disabled
    assert form.fields["kyc_case_id"].disabled


def test_choices_narrow_an_enum_in_model_order() -> None:
    form = SchemaForm(KycCaseCreateInput, choices={"current_status": CREATE_STATUSES - {"PENDING"}})
    placeholder, *options = form.fields["current_status"].options
    assert placeholder == ("Select…", "")  # required, no default, no initial value
    assert [v for _, v in options] == [s for s in CreateStatus if s is not CreateStatus.PENDING]
    with pytest.raises(ValueError, match="not one of the options"):
        form.set_values({"current_status": "PENDING"})
    narrowed = SchemaForm(KycCaseCreateInput, choices={"case_priority": [("Soon", "HIGH"), "LOW"]})
    assert narrowed.fields["case_priority"].options[1:] == (("Soon", "HIGH"), ("Low", "LOW"))


def test_choices_turn_a_text_field_into_a_dropdown() -> None:
    # (not the country: it has its own picker, kyc_widgets.form.country_picker)
    form = SchemaForm(KycCaseCreateInput, choices={"programme_name": ["Cards", "Loans"]})
    programme = form.fields["programme_name"]
    assert isinstance(programme, W.Dropdown) and programme.label == "Select…"
    form.set_values({**VALID_CASE, "programme_name": "Cards"})
    assert form.validate().programme_name == "Cards"  # type: ignore[union-attr]


def test_widgets_override_keeps_the_label() -> None:
    area = W.Textarea()
    form = SchemaForm(
        KycCaseCreateInput,
        widgets={"legal_first_name": area, "assigned_team": lambda: W.Combobox(options=["Ops"])},
    )
    assert form.fields["legal_first_name"] is area
    assert area.description == "Legal first name *"
    assert isinstance(form.fields["assigned_team"], W.Combobox)
    area.value = "Ada"
    assert form.values()["legal_first_name"] == "Ada"


def test_exclude_read_only_order() -> None:
    form = SchemaForm(
        KycCaseCreateInput,
        exclude=["kyc_case_id", "assigned_analyst_name"],
        read_only=["agency_name"],
        order=["case_priority", "legal_last_name"],
    )
    assert list(form.fields)[:3] == ["case_priority", "legal_last_name", "legal_first_name"]
    assert "kyc_case_id" not in form.fields and "assigned_analyst_name" not in form.values()
    assert form.fields["agency_name"].disabled
    # Values for excluded fields are kept and validated.
    form.set_values({**VALID_CASE, "kyc_case_id": "EXT 1"})
    assert form.validate() is None
    assert "External case ID: Must not contain spaces" in visible_text(form.form_message)
    with pytest.raises(ValueError, match="no field"):
        SchemaForm(KycCaseCreateInput, exclude=["legal_firstname"])


def test_form_is_a_displayable_box() -> None:
    form = SchemaForm(KycCaseCreateInput)
    assert isinstance(form, W.VBox)
    bundle = form._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


# ---------------------------------------------------------------- an unrelated model


class Colour(Enum):
    RED = 1
    LIGHT_GREEN = 2


class Survey(BaseModel):
    name: str
    colour: Colour = Field(description="Pick the one you like best.")
    size: Literal["S", "M", "L"] = "M"
    mood: Literal["happy", "sad"] | None = None
    nickname: str | None = None
    age: int
    visits: int = 1
    score: float | None = None
    subscribed: bool = False
    newsletter: bool | None = None
    born_on: date
    contact: EmailStr
    api_token: str | None = None

    @field_validator("age")
    @classmethod
    def _adult(cls, value: int) -> int:
        if value < 18:
            raise ValueError("must be 18 or older")
        return value


def test_unrelated_model_widgets() -> None:
    form = SchemaForm(Survey)
    kinds = {n: type(w).__name__ for n, w in form.fields.items()}
    assert kinds == {
        "name": "Text",
        "colour": "Dropdown",
        "size": "Dropdown",
        "mood": "Dropdown",
        "nickname": "Text",
        "age": "Text",  # a required int with no default must be able to be empty
        "visits": "IntText",
        "score": "Text",
        "subscribed": "Checkbox",
        "newsletter": "Dropdown",
        "born_on": "DatePicker",
        "contact": "Text",
        "api_token": "Password",
    }
    assert form.fields["born_on"].description == "Born on *"
    assert form.fields["colour"].label == "Select…"
    assert ("Light green", Colour.LIGHT_GREEN) in form.fields["colour"].options
    assert form.fields["size"].value == "M"
    assert form.fields["mood"].label == "(none)"
    assert form.fields["subscribed"].description == "Subscribed"


def test_unrelated_model_validate_and_values() -> None:
    form = SchemaForm(Survey)
    assert form.validate() is None
    # ``name`` is a plain ``str`` (the model would accept ""), but it is required and
    # marked *: a blank box is missing, like every other required field.
    assert form.fields["name"].description == "Name *"
    assert form.field_errors == {
        n: REQUIRED for n in ("name", "colour", "age", "born_on", "contact")
    }
    form.fields["name"].value = "   "
    assert form.field_errors["name"] == REQUIRED  # on blur too, and spaces are blank
    fill(form, {"name": "Bo", "colour": Colour.LIGHT_GREEN, "age": "17", "contact": "x"})
    form.fields["born_on"].value = date(2000, 1, 2)
    form.fields["score"].value = "abc"
    assert form.validate() is None
    assert form.field_errors == {
        "age": "Must be 18 or older.",
        "contact": "Enter a valid e-mail address (e.g. name@example.com).",
        "score": "Enter a number.",
    }
    fill(form, {"age": "42", "contact": "bo@example.com", "score": " ", "newsletter": False})
    form.fields["subscribed"].value = True
    survey = form.validate()
    assert survey == Survey(
        name="Bo",
        colour=Colour.LIGHT_GREEN,
        age=42,
        born_on=date(2000, 1, 2),
        contact="bo@example.com",
        subscribed=True,
        newsletter=False,
    )
    assert survey.score is None and survey.nickname is None and survey.visits == 1


def test_unrelated_model_set_values_round_trip() -> None:
    survey = Survey(
        name="Bo",
        colour=Colour.RED,
        age=30,
        born_on=date(1990, 5, 6),
        contact="b@example.com",
        mood="sad",
        score=2.5,
        visits=3,
    )
    form = SchemaForm(Survey, values=survey)
    assert form.fields["born_on"].value == date(1990, 5, 6)
    assert form.fields["age"].value == "30" and form.fields["visits"].value == 3
    assert form.validate() == survey


def test_secret_field_is_masked_and_not_kept_in_widget_state() -> None:
    form = SchemaForm(Survey)
    token_box = form.fields["api_token"]
    token_box.value = "s3cr3t-value"  # the front end sends the typed text on blur
    assert token_box.value == ""  # so saved widget state never holds it
    assert "entered" in token_box.placeholder
    assert form.values()["api_token"] == "s3cr3t-value"
    state = W.Widget.get_manager_state(drop_defaults=False)
    assert "s3cr3t-value" not in repr(state)
    form.reset()
    assert form.values()["api_token"] is None


def test_on_change_reports_user_edits_only() -> None:
    seen: list[tuple[str, object]] = []
    form = SchemaForm(Survey)
    form.on_change(lambda name, value: seen.append((name, value)))
    form.set_values({"nickname": "B"})
    form.fields["nickname"].value = ""
    assert seen == [("nickname", None)]


def test_unsupported_field_type_needs_exclude_or_widget() -> None:
    class WithBlob(BaseModel):
        blob: bytes
        title: str

    with pytest.raises(TypeError, match="blob"):
        SchemaForm(WithBlob)
    assert list(SchemaForm(WithBlob, exclude=["blob"]).fields) == ["title"]
    form = SchemaForm(WithBlob, widgets={"blob": W.Textarea})
    form.fields["blob"].value = "raw"
    form.fields["title"].value = "T"
    assert form.validate() == WithBlob(blob=b"raw", title="T")


def test_a_widget_can_replace_a_whole_list_editor() -> None:
    class WithList(BaseModel):
        tags: list[str]
        title: str

    form = SchemaForm(WithList, widgets={"tags": W.TagsInput})
    form.fields["tags"].value = ["a", "b"]
    form.fields["title"].value = "T"
    assert form.validate() == WithList(tags=["a", "b"], title="T")


def test_blank_required_plain_str_is_missing_but_optional_and_defaulted_may_stay_empty() -> None:
    class Note(BaseModel):
        title: str
        body: str = ""
        tag: str | None = None

    form = SchemaForm(Note)
    assert form.values() == {"title": "", "body": "", "tag": None}  # raw values, as shown
    assert form.validate() is None
    assert form.field_errors == {"title": REQUIRED}
    assert "Please fix 1 field: Title" in form.summary_text()
    form.fields["title"].value = "Hello"
    assert form.validate() == Note(title="Hello")


class Credentials(BaseModel):
    """Secret-looking names: whole words only, in both directions."""

    company_secretary_name: str
    tokenisation_scheme: str
    passwordless_login: str | None = None
    access_token: str
    client_secret: str | None = None
    api_key: str | None = None
    apiKey: str | None = None  # noqa: N815 - a camelCase field name as some APIs have
    admin_password: str | None = None
    pin: SecretStr | None = None


def test_secret_fields_are_whole_word_matches_or_secretstr() -> None:
    form = SchemaForm(Credentials)
    kinds = {n: type(w).__name__ for n, w in form.fields.items()}
    assert kinds == {
        "company_secretary_name": "Text",  # "secret" inside "secretary": ordinary text
        "tokenisation_scheme": "Text",  # "token" inside "tokenisation": ordinary text
        "passwordless_login": "Text",
        "access_token": "Password",
        "client_secret": "Password",
        "api_key": "Password",
        "apiKey": "Password",
        "admin_password": "Password",
        "pin": "Password",  # SecretStr, whatever its name
    }
    # Ordinary text stays readable in the box; a secret leaves the widget state.
    form.fields["company_secretary_name"].value = "Jane Roe"
    form.fields["access_token"].value = "tok-123"
    assert form.fields["company_secretary_name"].value == "Jane Roe"
    assert form.fields["access_token"].value == ""
    assert form.values()["access_token"] == "tok-123"


def test_numbers_that_may_be_empty_use_a_text_box_that_says_what_it_expects() -> None:
    form = SchemaForm(Survey)
    age, score, visits = form.fields["age"], form.fields["score"], form.fields["visits"]
    assert isinstance(age, W.Text) and "whole number" in age.placeholder.lower()
    assert "(optional)" not in age.placeholder
    assert isinstance(score, W.Text) and "number" in score.placeholder.lower()
    assert "(optional)" in score.placeholder
    assert isinstance(visits, W.IntText)  # a default: a number is always present
    # Empty is "not filled in", never a silent 0.
    assert form.values()["age"] is None and form.values()["score"] is None
    age.value = "1,000"
    assert form.values()["age"] == 1000
    age.value = "lots"
    assert form.field_errors["age"] == "Enter a whole number."


def test_optional_choice_with_a_default_can_still_be_set_to_none() -> None:
    class Pref(BaseModel):
        size: Literal["S", "M"] | None = "M"

    form = SchemaForm(Pref)
    size = form.fields["size"]
    assert size.value == "M"
    assert ("(none)", "") in size.options
    size.value = ""
    assert form.validate() == Pref(size=None)


# --------------------------------------------------------------------------- accessibility


def test_a_field_in_error_is_marked_invalid_and_described_by_its_message() -> None:
    form = SchemaForm(KycCaseCreateInput)
    help_id = f"{form.scope}-help-legal_last_name"  # the model describes the field
    assert form.aria("legal_last_name") == {"aria-describedby": help_id}  # not invalid yet
    form.validate()
    error_id = f"{form.scope}-error-legal_last_name"
    assert form.aria("legal_last_name") == {
        "aria-invalid": "true", "aria-describedby": f"{help_id} {error_id}"
    }
    # the message element carries that id, inside the form's scope
    assert form.bridge.attributes(f".{error_id}") == {"id": error_id}
    assert error_id in form.error_widgets["legal_last_name"]._dom_classes
    assert form.scope in form._dom_classes and form.bridge in form.children

    fill(form, {"legal_last_name": "Lovelace"})
    assert form.aria("legal_last_name") == {"aria-describedby": help_id}  # fixed


def test_help_text_stays_in_the_description_of_a_field_in_error() -> None:
    class Person(BaseModel):
        name: str = Field(description="As on the passport.")

    form = SchemaForm(Person)
    help_id = f"{form.scope}-help-name"
    assert form.aria("name") == {"aria-describedby": help_id}
    form.validate()
    assert form.aria("name") == {
        "aria-invalid": "true", "aria-describedby": f"{help_id} {form.scope}-error-name"
    }


def test_focus_goes_to_the_summary_after_a_refused_submit_else_the_first_field_in_error() -> None:
    form = SchemaForm(KycCaseCreateInput)
    assert form.bridge.focused is None  # nothing moves focus on its own
    form.validate()
    form.focus_errors()
    assert form.bridge.focused == f".{form.scope}-summary"

    form.set_errors({"legal_last_name": "Too long."}, summary="")
    assert form.summary_text() == ""  # the caller shows its own message
    form.focus_errors()
    assert form.bridge.focused == form.input_selector("legal_last_name")


def test_a_caller_can_name_the_problem_instead_of_counting_fields() -> None:
    form = SchemaForm(KycCaseCreateInput)
    form.set_errors({"kyc_case_id": "Taken."}, summary="This external case ID already exists.")
    assert form.summary_text() == "This external case ID already exists."
    assert "Please fix" not in visible_text(form.form_message)
    form.validate()  # the form's own check counts fields again
    assert form.summary_text().startswith("Please fix")
