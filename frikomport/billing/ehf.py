"""EHF invoices and credit notes: PEPPOL BIS Billing 3.0 documents in UBL 2.1 XML.

Norwegian public bodies send and receive invoices as EHF through the PEPPOL network. This
module only writes the XML for course fees; it has no database and no Flask, so it can be
tested against the schemas on its own. It uses the standard library's ElementTree because
lxml is not a runtime dependency of the portal.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

from frikomport.billing.orgnumber import normalise_org_number

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
ORG_SCHEME = "0192"  # Enhetsregisteret, the Norwegian organisation number
UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CAC = f"{UBL}CommonAggregateComponents-2"
CBC = f"{UBL}CommonBasicComponents-2"
ITEM_NAME_MAX = 200
EXEMPT_REASON = ("Unntatt merverdiavgift, jf. merverdiavgiftsloven § 3-5 "
                 "(undervisningstjenester)")
OUTSIDE_REASON = "Ikke merverdiavgiftspliktig"

# XML 1.0 cannot hold most C0 controls, lone surrogates or U+FFFE/U+FFFF; C1 controls are
# legal but only ever arrive as mojibake. Tab and newline are kept (descriptions use them).
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Party:
    name: str
    org_number: str  # nine digits, MOD11-valid: EndpointID, PartyIdentification, CompanyID
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "NO"
    email: str = ""
    contact_name: str = ""
    vat_number: str = ""  # seller only: "NO<org number>MVA" when VAT-registered, else ""


@dataclass(frozen=True)
class Line:
    line_id: str  # e.g. the registration id
    name: str  # the course title (cut to ITEM_NAME_MAX characters)
    description: str  # participant, dates, the person's own reference
    amount_ore: int  # one participant, quantity 1; positive on a credit note too
    note: str = ""


@dataclass(frozen=True)
class Document:
    number: str
    issue_date: date
    due_date: date | None  # required on an invoice, refused on a credit note
    seller: Party
    buyer: Party
    buyer_reference: str  # BT-10: the buyer routes the invoice internally by it
    lines: tuple[Line, ...]
    currency: str = "NOK"
    note: str = ""
    credited_invoice: str | None = None  # set: a credit note (381) for this invoice number
    payment_account: str = ""  # bank account: PaymentMeans code 30 (credit transfer)
    payment_id: str = ""  # KID


def clean_text(value: str) -> str:
    """Text without the characters XML 1.0 cannot carry; Norwegian letters and all other
    printable characters stay. Escaping of < & > is left to the serializer."""
    value = _UNWANTED.sub("", str(value))
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def money(ore: int) -> str:
    """Øre as kroner with exactly two decimals, e.g. 123456 → "1234.56".

    Amounts are whole øre (int) because EN 16931 allows at most two decimals and its totals
    must add up exactly (BR-CO-10); adding floats would drift by fractions of an øre.
    """
    sign = "-" if ore < 0 else ""
    return f"{sign}{abs(ore) // 100}.{abs(ore) % 100:02d}"


def tax_category(document: Document) -> str:
    """E (exempt) for a VAT-registered seller, else O (outside the scope of VAT).

    Course fees are education, exempt under merverdiavgiftsloven § 3-5. A municipality
    registered for VAT for other activities states its VAT number and category E (rule
    BR-E-02 requires that number). One that is not registered may state no VAT number at
    all, and category O says exactly that (BR-O-02).
    """
    return "E" if document.seller.vat_number else "O"


def to_xml(document: Document) -> bytes:
    """The document as UTF-8 XML: a CreditNote when it credits an invoice, else an Invoice.

    Raises ValueError for what a receiving access point would reject or what is surely a
    mistake: no lines, a negative or non-integer amount, an invalid organisation number, no
    buyer reference, a due date before the issue date (see ``_check``).
    """
    _check(document)
    kind = "Invoice" if document.credited_invoice is None else "CreditNote"
    root = ET.Element(kind, {"xmlns": f"{UBL}{kind}-2", "xmlns:cac": CAC, "xmlns:cbc": CBC})
    _header(root, document, kind)
    _party(_sub(root, "cac:AccountingSupplierParty"), document.seller, document)
    _party(_sub(root, "cac:AccountingCustomerParty"), document.buyer, None)
    if clean_text(document.payment_account):
        means = _sub(root, "cac:PaymentMeans")
        _sub(means, "cbc:PaymentMeansCode", "30")
        _optional(means, "cbc:PaymentID", document.payment_id)
        _sub(_sub(means, "cac:PayeeFinancialAccount"), "cbc:ID", document.payment_account)
    _totals(root, document)
    for line in document.lines:
        _line(root, line, document, kind)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _check(document: Document) -> None:
    for label, text in (("number", document.number),
                        ("buyer_reference", document.buyer_reference),
                        ("seller.name", document.seller.name),
                        ("buyer.name", document.buyer.name)):
        if not clean_text(text):
            raise ValueError(f"EHF: {label} is required")
    for party in (document.seller, document.buyer):
        normalise_org_number(party.org_number)
        if not re.fullmatch(r"[A-Z]{2}", party.country):
            raise ValueError(f"EHF: country must be a two-letter code, not {party.country!r}")
    seller_org = normalise_org_number(document.seller.org_number)
    if document.seller.vat_number not in ("", f"NO{seller_org}MVA"):
        raise ValueError(f"EHF: the seller's VAT number must be NO{seller_org}MVA (NO-R-001)")
    if document.buyer.vat_number:
        raise ValueError("EHF: a buyer VAT number is not written; leave buyer.vat_number empty")
    if not re.fullmatch(r"[A-Z]{3}", document.currency):
        raise ValueError(f"EHF: currency must be an ISO 4217 code, not {document.currency!r}")
    _check_dates(document)
    if clean_text(document.payment_id) and not clean_text(document.payment_account):
        raise ValueError("EHF: a KID (payment_id) needs the payment_account it is paid to")
    _check_lines(document.lines)


def _check_dates(document: Document) -> None:
    """A credit note's due date is refused, not dropped: UBL 2.1 has no DueDate in a
    CreditNote, so a date the caller gave would silently vanish from the document."""
    if document.credited_invoice is not None:
        if not clean_text(document.credited_invoice):
            raise ValueError("EHF: credited_invoice must name the invoice being credited")
        if document.due_date is not None:
            raise ValueError("EHF: a credit note has no due date")
    elif document.due_date is None:
        raise ValueError("EHF: an invoice needs a due date")
    elif document.due_date < document.issue_date:
        raise ValueError("EHF: the due date is before the issue date")


def _check_lines(lines: tuple[Line, ...]) -> None:
    if not lines:
        raise ValueError("EHF: a document needs at least one line")
    seen = set()
    for line in lines:
        amount = line.amount_ore
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError(f"EHF: line {line.line_id!r}: amount_ore must be an int (øre)")
        if amount < 0:
            raise ValueError(f"EHF: line {line.line_id!r}: negative amount {amount} øre; "
                             "credit it with a credit note instead")
        line_id = clean_text(line.line_id)
        if not line_id or not clean_text(line.name):
            raise ValueError("EHF: every line needs a line_id and a name")
        if line_id in seen:
            raise ValueError(f"EHF: line id {line_id!r} appears twice")
        seen.add(line_id)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = clean_text(text)
    return element


def _optional(parent: ET.Element, tag: str, text: str) -> None:
    """Optional elements are left out when blank: PEPPOL-EN16931-R008 forbids empty ones."""
    if clean_text(text):
        _sub(parent, tag, text)


def _header(root: ET.Element, document: Document, kind: str) -> None:
    _sub(root, "cbc:CustomizationID", CUSTOMIZATION_ID)
    _sub(root, "cbc:ProfileID", PROFILE_ID)
    _sub(root, "cbc:ID", document.number)
    _sub(root, "cbc:IssueDate", document.issue_date.isoformat())
    if kind == "Invoice":
        _sub(root, "cbc:DueDate", document.due_date.isoformat())
        _sub(root, "cbc:InvoiceTypeCode", "380")
    else:
        _sub(root, "cbc:CreditNoteTypeCode", "381")
    _optional(root, "cbc:Note", document.note)
    _sub(root, "cbc:DocumentCurrencyCode", document.currency)
    _sub(root, "cbc:BuyerReference", document.buyer_reference)
    if kind == "CreditNote":
        reference = _sub(_sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _sub(reference, "cbc:ID", document.credited_invoice)


def _party(wrapper: ET.Element, party: Party, seller_of: Document | None) -> None:
    """``seller_of`` is given for the seller: its VAT number goes in under category E."""
    org = normalise_org_number(party.org_number)
    element = _sub(wrapper, "cac:Party")
    _sub(element, "cbc:EndpointID", org, schemeID=ORG_SCHEME)
    _sub(_sub(element, "cac:PartyIdentification"), "cbc:ID", org, schemeID=ORG_SCHEME)
    _sub(_sub(element, "cac:PartyName"), "cbc:Name", party.name)
    address = _sub(element, "cac:PostalAddress")
    _optional(address, "cbc:StreetName", party.street)
    _optional(address, "cbc:CityName", party.city)
    _optional(address, "cbc:PostalZone", party.postcode)
    _sub(_sub(address, "cac:Country"), "cbc:IdentificationCode", party.country)
    if seller_of is not None and tax_category(seller_of) == "E":
        scheme = _sub(element, "cac:PartyTaxScheme")
        _sub(scheme, "cbc:CompanyID", party.vat_number)
        _sub(_sub(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    legal = _sub(element, "cac:PartyLegalEntity")
    _sub(legal, "cbc:RegistrationName", party.name)
    _sub(legal, "cbc:CompanyID", org, schemeID=ORG_SCHEME)
    if clean_text(party.contact_name) or clean_text(party.email):
        contact = _sub(element, "cac:Contact")
        _optional(contact, "cbc:Name", party.contact_name)
        _optional(contact, "cbc:ElectronicMail", party.email)


def _totals(root: ET.Element, document: Document) -> None:
    """No VAT on course fees: one subtotal, tax 0.00, and every total equals the lines' sum."""
    currency = {"currencyID": document.currency}
    total = money(sum(line.amount_ore for line in document.lines))
    tax_total = _sub(root, "cac:TaxTotal")
    _sub(tax_total, "cbc:TaxAmount", "0.00", **currency)
    subtotal = _sub(tax_total, "cac:TaxSubtotal")
    _sub(subtotal, "cbc:TaxableAmount", total, **currency)
    _sub(subtotal, "cbc:TaxAmount", "0.00", **currency)
    exempt = tax_category(document) == "E"
    _category(subtotal, "cac:TaxCategory", document,
              reason=EXEMPT_REASON if exempt else OUTSIDE_REASON)
    monetary = _sub(root, "cac:LegalMonetaryTotal")
    for tag in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount",
                "PayableAmount"):
        _sub(monetary, f"cbc:{tag}", total, **currency)


def _category(parent: ET.Element, tag: str, document: Document, reason: str = "") -> None:
    """A tax category: O may carry no Percent (BR-O-05), E must say 0 (BR-E-05). The
    exemption reason (BR-E-10, BR-O-10) belongs to the breakdown, not to each line."""
    category = _sub(parent, tag)
    _sub(category, "cbc:ID", tax_category(document))
    if tax_category(document) == "E":
        _sub(category, "cbc:Percent", "0")
    _optional(category, "cbc:TaxExemptionReason", reason)
    _sub(_sub(category, "cac:TaxScheme"), "cbc:ID", "VAT")


def _line(root: ET.Element, line: Line, document: Document, kind: str) -> None:
    currency = {"currencyID": document.currency}
    element = _sub(root, f"cac:{kind}Line")
    _sub(element, "cbc:ID", line.line_id)
    _optional(element, "cbc:Note", line.note)
    quantity = "cbc:InvoicedQuantity" if kind == "Invoice" else "cbc:CreditedQuantity"
    _sub(element, quantity, "1", unitCode="EA")
    _sub(element, "cbc:LineExtensionAmount", money(line.amount_ore), **currency)
    item = _sub(element, "cac:Item")
    _optional(item, "cbc:Description", line.description)
    # A long title is cut rather than refused: the invoice must still go out.
    name = clean_text(line.name)
    if len(name) > ITEM_NAME_MAX:
        name = name[: ITEM_NAME_MAX - 1].rstrip() + "…"
    _sub(item, "cbc:Name", name)
    _category(item, "cac:ClassifiedTaxCategory", document)
    _sub(_sub(element, "cac:Price"), "cbc:PriceAmount", money(line.amount_ore), **currency)
