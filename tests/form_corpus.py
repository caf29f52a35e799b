"""A corpus of models for ``SchemaForm``: every field shape, with valid and invalid values.

Each :class:`Case` names a model, instances the form must round-trip (set ->
validate -> the same ``model_dump()``), and invalid values with the dotted
path where the error must appear. ``tests/test_form_corpus.py`` runs every
case through ``SchemaForm(model)`` and through
``SchemaForm.from_json_schema(model.model_json_schema())``. All people and
numbers here are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr, model_validator
from pydantic_core import to_jsonable_python

# ------------------------------------------------------------------------------ scalars


class Risk(str, Enum):
    LOW = "LOW"
    HIGH = "HIGH"


class Scalars(BaseModel):
    """Every one-input type, with constraints, defaults and read-only fields."""

    name: str = Field(min_length=2, max_length=40, description="As on the passport.")
    code: str = Field(pattern=r"^[A-Z]{3}$", description="Three capital letters.")
    age: int = Field(ge=18, le=120)
    ratio: float = Field(gt=0, lt=1)
    fee: Decimal = Field(multiple_of=Decimal("0.05"), ge=0)
    active: bool = True
    vip: bool | None = None
    risk: Risk
    segment: Literal["retail", "business"]
    version: Literal["v1"] = "v1"
    born_on: date
    onboarded_at: datetime
    cutoff: time
    ref: UUID
    email: EmailStr
    pin: SecretStr
    note: Annotated[str, Field(max_length=20)] = ""
    nickname: str | None = None
    tags_count: int = Field(default_factory=lambda: 3)
    created_by: str = Field("system", frozen=True, json_schema_extra={"readOnly": True})
    region: str = Field("EU", json_schema_extra={"readOnly": True})


# ------------------------------------------------------------------------------ nested


class Address(BaseModel):
    line1: str = Field(min_length=1)
    city: str = Field(min_length=1)
    postcode: str = Field(pattern=r"^[A-Z0-9 ]{3,8}$")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. GB.")


class BeneficialOwner(BaseModel):
    name: str = Field(min_length=1)
    share: float = Field(ge=0, le=100, description="Percentage held.")
    born_on: date | None = None


class Passport(BaseModel):
    kind: Literal["passport"] = "passport"
    number: str = Field(pattern=r"^[A-Z0-9]{9}$")
    expires_on: date


class DrivingLicence(BaseModel):
    kind: Literal["driving_licence"] = "driving_licence"
    number: str = Field(min_length=5)
    issuing_region: str


class EmailContact(BaseModel):
    email: EmailStr


class PhoneContact(BaseModel):
    phone: str = Field(pattern=r"^\+[0-9]{8,15}$")


class Customer(BaseModel):
    """A customer with an address, beneficial owners and a discriminated identity document."""

    model_config = ConfigDict(title="Customer")

    name: str = Field(min_length=1)
    address: Address
    postal_address: Address | None = None
    owners: list[BeneficialOwner] = Field(min_length=1, max_length=4)
    document: Annotated[Passport | DrivingLicence, Field(discriminator="kind")]
    contact: EmailContact | PhoneContact
    reference: int | str
    tags: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list, max_length=3)
    limits: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _owners_hold_at_most_everything(self) -> Customer:
        if sum(o.share for o in self.owners) > 100:
            raise ValueError("owners hold more than 100 % together")
        return self


class Collections(BaseModel):
    """Other containers, and ``Optional`` around a list, a dict and a union."""

    codes: set[str] = Field(default_factory=set)
    scores: tuple[int, ...] = ()
    aliases: list[str] | None = None
    ratios: dict[str, float] | None = None
    document: Annotated[Passport | DrivingLicence, Field(discriminator="kind")] | None = None
    when: date | time | None = None


# ------------------------------------------------------------------------------ recursion


class OrgUnit(BaseModel):
    """A model that holds a list of itself, and maybe its parent."""

    name: str = Field(min_length=1)
    children: list[OrgUnit] = Field(default_factory=list)
    head: OrgUnit | None = None


# ------------------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Invalid:
    """Values that must be refused, and where the message must appear."""

    values: dict[str, Any]
    path: str
    message: str | None = None
    """The message expected at ``path`` (``None``: any message)."""
    python_only: bool = False
    """A rule JSON Schema cannot say (a model validator): not checked through ``from_json_schema``."""


@dataclass(frozen=True)
class Case:
    model: type[BaseModel]
    valid: tuple[BaseModel, ...]
    invalid: tuple[Invalid, ...] = field(default_factory=tuple)


SCALARS_OK = Scalars(
    name="Ada Example",
    code="ABC",
    age=36,
    ratio=0.25,
    fee=Decimal("12.35"),
    active=False,
    vip=True,
    risk=Risk.HIGH,
    segment="business",
    born_on=date(1988, 4, 1),
    onboarded_at=datetime(2024, 5, 6, 7, 8, 9),
    cutoff=time(17, 30),
    ref=UUID("123e4567-e89b-12d3-a456-426614174000"),
    email="ada@example.com",
    pin=SecretStr("4321"),
    note="short",
    nickname="Ada",
    tags_count=5,
)

CUSTOMER_OK = Customer(
    name="Example Holdings Ltd",
    address=Address(line1="1 High Street", city="Exampleton", postcode="EX1 2AB", country="GB"),
    owners=[
        BeneficialOwner(name="Ada Example", share=60, born_on=date(1980, 1, 2)),
        BeneficialOwner(name="Bo Example", share=40),
    ],
    document=Passport(number="X12345678", expires_on=date(2031, 1, 1)),
    contact=PhoneContact(phone="+441234567890"),
    reference=42,
    tags=["priority", "retail"],
    limits={"daily": 500, "monthly": 5000},
)

CUSTOMER_OTHER = Customer(
    name="Bo Example",
    address=Address(line1="2 Low Road", city="Sampleville", postcode="SA1 1AA", country="FR"),
    postal_address=Address(line1="PO Box 9", city="Sampleville", postcode="SA1 9ZZ", country="FR"),
    owners=[BeneficialOwner(name="Bo Example", share=100)],
    document=DrivingLicence(number="DL-998877", issuing_region="Normandy"),
    contact=EmailContact(email="bo@example.com"),
    reference="REF-0042",
)

ORG_OK = OrgUnit(
    name="Group",
    children=[
        OrgUnit(name="Retail", children=[OrgUnit(name="Cards")]),
        OrgUnit(name="Business"),
    ],
    head=OrgUnit(name="Board"),
)


def customer(**changes: Any) -> dict[str, Any]:
    """CUSTOMER_OK as a dict, with some parts replaced (for invalid cases)."""
    data = CUSTOMER_OK.model_dump()
    data.update(changes)
    return data


COLLECTIONS_OK = Collections(
    codes={"A1", "B2"},
    scores=(3, 1, 2),
    aliases=["Ada", "A. Example"],
    ratios={"equity": 0.5},
    document=DrivingLicence(number="DL-55555", issuing_region="Wessex"),
    when=time(9, 30),
)

CASES: dict[str, Case] = {
    "scalars": Case(
        Scalars,
        (SCALARS_OK,),
        (
            Invalid({**SCALARS_OK.model_dump(), "name": "A"}, "name", "Use at least 2 characters."),
            Invalid({**SCALARS_OK.model_dump(), "code": "abc"}, "code",
                    "This does not have the expected format."),
            Invalid({**SCALARS_OK.model_dump(), "age": 12}, "age", "Enter a number of at least 18."),
            Invalid({**SCALARS_OK.model_dump(), "ratio": 1.5}, "ratio", "Enter a number less than 1."),
            Invalid({**SCALARS_OK.model_dump(), "fee": Decimal("1.02")}, "fee",
                    "Enter a multiple of 0.05."),
            Invalid({**SCALARS_OK.model_dump(), "ref": "not-a-uuid"}, "ref"),
            Invalid({**SCALARS_OK.model_dump(), "note": "x" * 21}, "note", "Use at most 20 characters."),
            Invalid({**SCALARS_OK.model_dump(), "email": "nope"}, "email"),
        ),
    ),
    "customer": Case(
        Customer,
        (CUSTOMER_OK, CUSTOMER_OTHER),
        (
            Invalid(customer(address={**CUSTOMER_OK.address.model_dump(), "postcode": "??"}),
                    "address.postcode", "This does not have the expected format."),
            Invalid(customer(owners=[{"name": "Ada", "share": 10}, {"name": "", "share": 10}]),
                    "owners.1.name", "This field is required."),
            Invalid(customer(owners=[{"name": "Ada", "share": 10}, {"name": "Bo", "share": 120}]),
                    "owners.1.share", "Enter a number of at most 100."),
            Invalid(customer(owners=[]), "owners", "Add at least 1 item."),
            Invalid(customer(owners=[{"name": "Ada", "share": 70}, {"name": "Bo", "share": 70}]),
                    "", "Owners hold more than 100 % together.", python_only=True),
            Invalid(customer(document={"kind": "passport", "number": "short",
                                       "expires_on": date(2030, 1, 1)}),
                    "document.number", "This does not have the expected format."),
            Invalid(customer(document={"kind": "driving_licence", "number": "DL-1"}),
                    "document.issuing_region", "This field is required."),
            Invalid(customer(contact={"phone": "0123"}), "contact.phone",
                    "This does not have the expected format."),
            Invalid(customer(tags=["ok", ""]), "tags.1", "This field is required."),
            Invalid(customer(limits={"daily": "lots"}), "limits.daily", "Enter a whole number."),
            Invalid(customer(postal_address={"line1": "x", "city": "", "postcode": "AB1",
                                             "country": "GB"}),
                    "postal_address.city", "This field is required."),
        ),
    ),
    "collections": Case(
        Collections,
        (COLLECTIONS_OK, Collections()),
        (
            Invalid({"scores": ["x"]}, "scores.0", "Enter a whole number."),
            Invalid({"aliases": ["ok", ""]}, "aliases.1", "This field is required."),
            Invalid({"ratios": {"equity": "half"}}, "ratios.equity", "Enter a number."),
            Invalid({"document": {"kind": "passport", "number": "123"}}, "document.expires_on",
                    "This field is required."),
        ),
    ),
    "org": Case(
        OrgUnit,
        (ORG_OK, OrgUnit(name="Alone")),
        (
            Invalid({"name": "Group", "children": [{"name": "A", "children": [{"name": ""}]}]},
                    "children.0.children.0.name", "This field is required."),
            Invalid({"name": "Group", "head": {"name": ""}}, "head.name", "This field is required."),
        ),
    ),
}


def revealed(value: Any) -> Any:
    """A python dump with every ``SecretStr`` as its text (what a JSON Schema form returns)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: revealed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [revealed(v) for v in value]
    return value


def as_json(instance: BaseModel) -> Any:
    """What ``SchemaForm.from_json_schema`` returns for ``instance``: JSON values, secrets as text."""
    return to_jsonable_python(revealed(instance.model_dump(by_alias=True)))
