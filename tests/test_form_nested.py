"""Nested forms driven as an analyst would: type, click Add/Remove/Move, switch options, read.

The models are the corpus's (tests/form_corpus.py): a customer with an
address, beneficial owners, a discriminated identity document, a contact that
is one of two models, a reference that is a number or a text; an org unit
that holds a list of itself.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import ipywidgets as W
import pytest
from form_corpus import CUSTOMER_OK, Customer, OrgUnit, Scalars
from pydantic import BaseModel, Field, SecretStr

from kyc_widgets.form.custom_inputs import register_input
from kyc_widgets.form.dicts import DUPLICATE_KEY_MESSAGE
from kyc_widgets.form.schema_form import SchemaForm

REQUIRED = "This field is required."


def visible_text(widget: W.HTML) -> str:
    if widget.layout.display == "none":
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value)).strip()


def shown_errors(form: SchemaForm[Any]) -> dict[str, str]:
    return {p: t for p, w in form.error_widgets.items() if (t := visible_text(w))}


def owners_form() -> SchemaForm[Customer]:
    """A customer form with two owners typed in (Ada, Bo), nothing else filled."""
    form = SchemaForm(Customer)
    form.editor("owners").add_button.click()  # type: ignore[union-attr]
    form.fields["owners.0.name"].value = "Ada"
    form.fields["owners.0.share"].value = "60"
    form.fields["owners.1.name"].value = "Bo"
    form.fields["owners.1.share"].value = "40"
    return form


# ------------------------------------------------------------------------------ nested models


def test_a_nested_model_is_a_titled_collapsible_group_with_labels_at_every_level() -> None:
    form = SchemaForm(Customer)
    address = form.editor("address")
    header = address.header  # type: ignore[union-attr]
    assert header.description == "Address *"
    city = form.fields["address.city"]
    assert city.description == "City *"
    assert "Fields marked * are required." in visible_text(form.legend)
    body_class = f"{form.scope}-body-address"
    assert form.bridge.attributes(f".{body_class}") == {
        "id": body_class, "role": "group", "aria-labelledby": f"{form.scope}-group-address",
    }
    header.click()  # fold it
    assert address.body.layout.display == "none"  # type: ignore[union-attr]
    assert form.bridge.attributes(f".{form.scope}-group-address")["aria-expanded"] == "false"
    form.focus_field("address.city")  # focus opens what is folded around the field
    assert address.body.layout.display is None  # type: ignore[union-attr]
    assert form.bridge.focused == form.input_selector("address.city")


def test_errors_at_every_level_are_under_their_field_tied_by_aria_and_summarised() -> None:
    form = owners_form()
    form.fields["owners.1.share"].value = "120"
    assert form.validate() is None
    errors = shown_errors(form)
    assert errors["address.city"] == f"⚠ Error: {REQUIRED}"
    assert errors["owners.1.share"] == "⚠ Error: Enter a number of at most 100."
    assert "owners.0.name" not in errors and "owners.1.name" not in errors
    assert form.aria("owners.1.share")["aria-invalid"] == "true"
    described = form.aria("owners.1.share")["aria-describedby"].split()
    assert described[-1] in form.error_widgets["owners.1.share"]._dom_classes
    summary = form.summary_text()
    assert "Address › City" in summary and "Beneficial owner 2 › Share" in summary
    form.focus_errors()
    assert form.bridge.focused == f".{form.scope}-summary"
    form.fields["owners.1.share"].value = "40"  # fixed, on blur: its message goes
    assert "owners.1.share" not in form.field_errors
    assert "aria-invalid" not in form.aria("owners.1.share")


def test_an_optional_nested_model_has_an_explicit_none_state() -> None:
    form = SchemaForm(Customer)
    postal = form.editor("postal_address")
    assert form.values()["postal_address"] is None
    assert not any(p.startswith("postal_address.") for p in form.fields)  # built on demand
    postal.add_button.click()  # type: ignore[union-attr]
    form.fields["postal_address.city"].value = "Sampleville"
    assert form.values()["postal_address"]["city"] == "Sampleville"
    postal.remove_button.click()  # type: ignore[union-attr]
    assert form.values()["postal_address"] is None
    postal.add_button.click()  # type: ignore[union-attr]
    assert form.fields["postal_address.city"].value == "Sampleville"  # kept, out of sight


# ------------------------------------------------------------------------------ lists


def test_list_items_are_added_moved_and_removed_with_their_values_and_errors() -> None:
    form = owners_form()
    owners = form.editor("owners")
    assert [i.heading.value for i in owners.items] == [  # type: ignore[union-attr]
        "<strong>Beneficial owner 1</strong>", "<strong>Beneficial owner 2</strong>",
    ]
    assert form.bridge.focused == form.input_selector("owners.1.name")  # Add focuses the new item
    form.fields["owners.1.share"].value = "120"
    assert form.field_errors == {"owners.1.share": "Enter a number of at most 100."}

    owners.items[1].up.click()  # type: ignore[union-attr]
    assert [o["name"] for o in form.values()["owners"]] == ["Bo", "Ada"]
    assert form.field_errors == {"owners.0.share": "Enter a number of at most 100."}
    assert form.fields["owners.0.name"].value == "Bo"
    assert form.bridge.focused == f".{form.scope}-down-{owners.items[0].editor.token}"  # type: ignore[union-attr]

    owners.items[0].down.click()  # type: ignore[union-attr]
    assert [o["name"] for o in form.values()["owners"]] == ["Ada", "Bo"]
    owners.items[0].remove.click()  # type: ignore[union-attr]
    assert [o["name"] for o in form.values()["owners"]] == ["Bo"]
    assert form.fields["owners.0.name"].value == "Bo" and "owners.1.name" not in form.fields
    assert form.bridge.focused == f".{form.scope}-add-owners"


def test_list_length_limits_are_honoured_by_the_buttons() -> None:
    form = SchemaForm(Customer)
    owners = form.editor("owners")
    assert len(owners.items) == 1  # type: ignore[union-attr]  # min_length=1: one blank owner
    assert owners.items[0].remove.disabled  # type: ignore[union-attr]
    for _ in range(3):
        owners.add_button.click()  # type: ignore[union-attr]
    assert len(owners.items) == 4 and owners.add_button.disabled  # type: ignore[union-attr]
    assert not owners.items[0].remove.disabled and owners.items[0].up.disabled  # type: ignore[union-attr]
    assert owners.items[3].down.disabled  # type: ignore[union-attr]
    tags = form.editor("tags")
    assert tags.items == [] and not tags.add_button.disabled  # type: ignore[union-attr]
    tags.add_button.click()  # type: ignore[union-attr]
    assert form.fields["tags.0"].description == "Tags, item 1 *"


def test_a_dict_is_key_value_rows() -> None:
    form = SchemaForm(Customer, values=CUSTOMER_OK)
    limits = form.editor("limits")
    assert form.values()["limits"] == {"daily": 500, "monthly": 5000}
    limits.add_button.click()  # type: ignore[union-attr]
    row = limits.rows[-1]  # type: ignore[union-attr]
    row.key.value = "daily"
    form.fields["limits.daily"]  # the new row answers at its key's path too
    row.editor.input.value = "7"
    assert form.validate() is None
    assert DUPLICATE_KEY_MESSAGE in form.field_errors.values()
    row.key.value = "weekly"
    assert form.validate() is not None
    assert form.values()["limits"] == {"daily": 500, "monthly": 5000, "weekly": 7}


# ------------------------------------------------------------------------------ unions


def test_switching_a_discriminated_option_keeps_each_options_values_and_never_mixes_them() -> None:
    form = SchemaForm(Customer, values=CUSTOMER_OK)
    document = form.editor("document")
    selector = document.selector  # type: ignore[union-attr]
    assert selector.description == "Document *" and selector.value == "Passport"
    assert form.fields["document.number"].value == "X12345678"
    assert "document.kind" not in form.fields  # the selector is the tag

    selector.value = "Driving licence"
    assert form.fields["document.number"].value == ""  # the licence's own, blank box
    form.fields["document.number"].value = "DL-123456"
    form.fields["document.issuing_region"].value = "Normandy"
    assert form.values()["document"] == {
        "kind": "driving_licence", "number": "DL-123456", "issuing_region": "Normandy",
    }
    selector.value = "Passport"
    assert form.fields["document.number"].value == "X12345678"  # kept
    assert "document.issuing_region" not in form.fields
    result = form.validate()
    assert result is not None and result.document.model_dump() == CUSTOMER_OK.document.model_dump()
    selector.value = "Driving licence"
    result = form.validate()
    assert result is not None and result.document.model_dump() == {
        "kind": "driving_licence", "number": "DL-123456", "issuing_region": "Normandy",
    }


def test_a_union_without_discriminator_shows_only_the_chosen_options_errors() -> None:
    form = SchemaForm(Customer, values=CUSTOMER_OK)
    contact = form.editor("contact")
    assert contact.selector.value == "Phone contact"  # type: ignore[union-attr]
    contact.selector.value = "Email contact"  # type: ignore[union-attr]
    form.fields["contact.email"].value = "not an address"
    assert form.validate() is None
    assert form.field_errors == {
        "contact.email": "Enter a valid e-mail address (e.g. name@example.com)."
    }
    form.fields["contact.email"].value = "ada@example.com"
    result = form.validate()
    assert result is not None and result.contact.model_dump() == {"email": "ada@example.com"}

    reference = form.editor("reference")
    assert reference.selector.value == "Whole number"  # type: ignore[union-attr]
    reference.selector.value = "Text"  # type: ignore[union-attr]
    form.fields["reference"].value = "42"
    result = form.validate()
    assert result is not None and result.reference == "42"  # the analyst chose text
    reference.selector.value = "Whole number"  # type: ignore[union-attr]
    assert form.validate().reference == 42  # type: ignore[union-attr]


def test_an_unselected_required_union_is_required() -> None:
    form = SchemaForm(Customer)
    form.validate()
    assert form.field_errors["document"] == REQUIRED
    assert form.aria("document")["aria-invalid"] == "true"


# ------------------------------------------------------------------------------ recursion


def test_recursion_is_expanded_on_demand_not_at_build() -> None:
    form = SchemaForm(OrgUnit)
    assert list(form.fields) == ["name"]
    assert form.values() == {"name": "", "children": [], "head": None}
    form.fields["name"].value = "Group"
    form.editor("children").add_button.click()  # type: ignore[union-attr]
    form.fields["children.0.name"].value = "Retail"
    form.editor("children.0.children").add_button.click()  # type: ignore[union-attr]
    form.fields["children.0.children.0.name"].value = "Cards"
    form.editor("head").add_button.click()  # type: ignore[union-attr]
    form.fields["head.name"].value = "Board"
    assert sorted(form.fields) == [
        "children.0.children.0.name", "children.0.name", "head.name", "name",
    ]
    result = form.validate()
    assert result == OrgUnit(
        name="Group",
        children=[OrgUnit(name="Retail", children=[OrgUnit(name="Cards")])],
        head=OrgUnit(name="Board"),
    )


# ------------------------------------------------------------------------------ read-only


def test_read_only_fields_are_shown_but_not_editable() -> None:
    form = SchemaForm(Scalars)
    frozen, marked = form.fields["created_by"], form.fields["region"]
    assert frozen.disabled and frozen.value == "system"
    assert marked.disabled and marked.value == "EU"
    assert form.fields["version"].disabled  # a constant (Literal["v1"])
    form.disabled = True
    form.disabled = False
    assert frozen.disabled and marked.disabled and not form.fields["name"].disabled

    customer = SchemaForm(Customer, read_only=["address", "owners"], values=CUSTOMER_OK)
    assert all(w.disabled for p, w in customer.fields.items() if p.startswith(("address.", "owners.")))
    owners = customer.editor("owners")
    assert owners.add_button.disabled  # type: ignore[union-attr]
    assert all(i.remove.disabled and i.up.disabled for i in owners.items)  # type: ignore[union-attr]
    assert not customer.fields["name"].disabled


# ------------------------------------------------------------------------------ values, errors


def test_set_values_fills_every_level_and_values_is_the_nested_dump() -> None:
    form = SchemaForm(Customer)
    form.set_values(CUSTOMER_OK)
    assert form.fields["owners.1.name"].value == "Bo Example"
    assert form.fields["address.postcode"].value == "EX1 2AB"
    assert form.fields["owners.0.born_on"].value == date(1980, 1, 2)
    assert form.values()["owners"][1] == {"name": "Bo Example", "share": 40.0, "born_on": None}
    assert form.values()["document"]["kind"] == "passport"
    form.reset()
    assert form.values()["owners"] == [{"name": "", "share": None, "born_on": None}]
    assert form.values()["document"] is None


def test_server_errors_land_at_their_paths_in_any_spelling() -> None:
    form = owners_form()
    form.set_errors(
        {
            "owners.1.name": "Not on the register.",
            "owners[0].share": "Does not match the register.",
            "/address/city": "Unknown city.",
            "owners.7.name": "No such owner.",  # not built: the nearest group shows it
            "risk_score": "Not accepted.",  # not a field: the summary
        }
    )
    assert form.field_errors == {
        "address.city": "Unknown city.",
        "owners": "No such owner.",
        "owners.0.share": "Does not match the register.",
        "owners.1.name": "Not on the register.",
    }
    assert visible_text(form.error_widgets["owners.1.name"]) == "⚠ Error: Not on the register."
    assert "Not accepted." in form.summary_text()
    form.focus_errors()
    assert form.bridge.focused == f".{form.scope}-summary"
    form.set_errors({"owners.1.name": "Not on the register."}, summary="")
    form.focus_errors()  # no summary: focus goes to the first field in error
    assert form.bridge.focused == form.input_selector("owners.1.name")


def test_on_change_reports_nested_edits_by_path() -> None:
    seen: list[tuple[str, Any]] = []
    form = SchemaForm(Customer)
    form.on_change(lambda path, value: seen.append((path, value)))
    form.fields["address.city"].value = "Exampleton"
    form.editor("owners").add_button.click()  # type: ignore[union-attr]
    assert seen[0] == ("address.city", "Exampleton")
    assert seen[1][0] == "owners" and len(seen[1][1]) == 2


def test_a_nested_secret_is_never_echoed() -> None:
    class Login(BaseModel):
        user: str
        pin: SecretStr

    class Account(BaseModel):
        logins: list[Login] = Field(min_length=1)

    form = SchemaForm(Account)
    form.fields["logins.0.pin"].value = "s3cr3t-pin"
    assert form.fields["logins.0.pin"].value == ""
    assert "s3cr3t-pin" not in repr(W.Widget.get_manager_state(drop_defaults=False))
    value = form.values()["logins"][0]["pin"]
    assert isinstance(value, SecretStr) and value.get_secret_value() == "s3cr3t-pin"
    assert "s3cr3t-pin" not in repr(form.values()) and "s3cr3t-pin" not in repr(form.editor("logins.0.pin"))
    assert form.validate() is None  # the user is missing
    assert "s3cr3t-pin" not in " ".join(form.field_errors.values()) + form.summary_text()


def test_a_registered_custom_input_is_used_wherever_its_field_appears() -> None:
    class Place(BaseModel):
        country: str = Field(json_schema_extra={"input": "country"})

    class Trip(BaseModel):
        stops: list[Place] = Field(min_length=1)

    undo = register_input(lambda spec: W.Combobox(options=["GB", "FR"]), extra=("input", "country"))
    try:
        form = SchemaForm(Trip)
        box = form.fields["stops.0.country"]
        assert isinstance(box, W.Combobox) and box.description == "Country *"
        box.value = "FR"
        assert form.validate() == Trip(stops=[Place(country="FR")])
    finally:
        undo()
    assert isinstance(SchemaForm(Trip).fields["stops.0.country"], W.Text)


def test_json_schema_refs_are_read_in_the_openapi_document() -> None:
    document = {
        "openapi": "3.1.0",
        "components": {
            "schemas": {
                "Owner": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "minLength": 1}},
                    "required": ["name"],
                },
                "Case": {
                    "type": "object",
                    "title": "Case",
                    "properties": {
                        "owners": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Owner"},
                            "minItems": 1,
                        },
                        "first-seen": {"type": "string", "format": "date"},
                    },
                    "required": ["owners"],
                },
            }
        },
    }
    schema = document["components"]["schemas"]["Case"]  # type: ignore[index]
    form = SchemaForm.from_json_schema(schema, document=document)
    assert form.fields["first-seen"].description == "First seen"
    form.fields["owners.0.name"].value = "Ada"
    form.fields["first-seen"].value = date(2024, 1, 2)
    assert form.validate() == {"owners": [{"name": "Ada"}], "first-seen": "2024-01-02"}
    form.fields["owners.0.name"].value = ""
    assert form.validate() is None and form.field_errors == {"owners.0.name": REQUIRED}


def test_a_json_schema_that_cannot_be_drawn_says_where() -> None:
    with pytest.raises(ValueError, match="object schema"):
        SchemaForm.from_json_schema({"type": "string"})
    with pytest.raises(ValueError, match="points nowhere"):
        SchemaForm.from_json_schema(
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}
        )


def test_defaults_factories_and_optional_containers_start_as_the_model_says() -> None:
    from form_corpus import Collections

    scalars = SchemaForm(Scalars)
    assert scalars.fields["tags_count"].value == "3"  # default_factory, called for the form
    assert scalars.fields["active"].value is True and scalars.fields["note"].value == ""
    form = SchemaForm(Collections)
    assert form.values() == {
        "codes": [], "scores": [], "aliases": None, "ratios": None, "document": None, "when": None,
    }
    document = form.editor("document")
    assert document.selector.options[0] == ("(none)", "")  # type: ignore[union-attr]
    document.selector.value = "Passport"  # type: ignore[union-attr]
    assert form.values()["document"] == {"kind": "passport", "number": "", "expires_on": None}
    document.selector.value = ""  # type: ignore[union-attr]
    assert form.values()["document"] is None
    form.editor("aliases").add_button.click()  # type: ignore[union-attr]  # "Add aliases"
    assert form.values()["aliases"] == []
    assert form.validate() == Collections(aliases=[])


class Endless(BaseModel):
    name: str
    again: Endless


def test_a_model_requiring_itself_without_end_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="'again'.*Optional or a list"):
        SchemaForm(Endless)
