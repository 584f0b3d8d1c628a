"""What the TechCorp golden set contains: classes, fields, template families.

The generator in :mod:`golden_sets.generate` turns this specification into documents. Everything here is
plain data so that the classes and templates can be read and reviewed in one place (the README links it).

Template families
-----------------
Every class has six template families. Families 0-3 ("in-distribution") feed the ``train`` and ``test``
splits; families 4-5 are held out of training and make the ``shift`` split. A family fixes the layout
(key/value, letter, padded header block, pipe table, e-mail, compact OCR line), the title, the field
labels, the date and money formats and the wording of the boilerplate, so a model that learnt the
templates rather than the documents loses accuracy on ``shift``.
"""

from __future__ import annotations

LAYOUTS = ("kv", "letter", "header", "table", "email", "compact")
IN_DISTRIBUTION_FAMILIES = (0, 1, 2, 3)
HELD_OUT_FAMILIES = (4, 5)

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "CHF", "AUD")
CURRENCY_ALIASES = {
    "USD": ["$", "US$", "US dollars", "U.S. dollars"],
    "EUR": ["€", "euro", "euros"],
    "GBP": ["£", "pounds sterling", "sterling"],
    "CAD": ["C$", "Canadian dollars"],
    "CHF": ["Swiss francs", "Fr."],
    "AUD": ["A$", "Australian dollars"],
}
PAYMENT_TERMS = ("Net 15", "Net 30", "Net 45", "Net 60", "Due on receipt")


def _terms_aliases() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n in (15, 30, 45, 60):
        out[f"Net {n}"] = [f"{n} days net", f"net {n} days", f"NET{n}", f"within {n} days",
                           f"{n} days from invoice date"]
    out["Due on receipt"] = ["payable on receipt", "due upon receipt", "immediate payment", "on receipt"]
    return out


PAYMENT_TERMS_ALIASES = _terms_aliases()

JURISDICTIONS = ("State of New York", "State of Delaware", "State of California", "England and Wales",
                 "Province of Ontario", "State of Texas", "Commonwealth of Massachusetts", "Ireland",
                 "State of Washington", "Scotland")

# name -> (type, description)
FIELDS: dict[str, tuple[str, str]] = {
    "document_number": ("string", "identifier printed on the document (invoice number, order number, ...)"),
    "issue_date": ("date", "date the document was issued"),
    "due_date": ("date", "date payment is due"),
    "effective_date": ("date", "date an agreement takes effect"),
    "expiration_date": ("date", "date an agreement or offer ends"),
    "issuer_name": ("string", "organisation or person that issued the document"),
    "recipient_name": ("string", "organisation or person the document is addressed to"),
    "total_amount": ("money", "total amount, tax included"),
    "tax_amount": ("money", "tax amount (VAT, sales tax, GST)"),
    "currency": ("enum", "ISO 4217 currency code"),
    "payment_terms": ("enum", "payment terms"),
    "governing_law": ("string", "jurisdiction whose law governs an agreement"),
    "po_reference": ("string", "purchase order or invoice referred to by this document"),
    "product_codes": ("list", "product codes (SKUs) listed in the document, in order of appearance"),
    "contract_term": ("string", "duration of an agreement, e.g. '24 months'"),
}

COMMERCIAL = "commercial"
LEGAL = "legal"
LETTER = "letter"

# Per class: group, short noun, number prefix, the fields that apply, six titles (one per family),
# six issuer and recipient role labels, six boilerplate sentences.
CLASSES: dict[str, dict] = {
    "invoice": dict(
        group=COMMERCIAL, noun="Invoice", prefix="INV",
        fields=["document_number", "issue_date", "due_date", "issuer_name", "recipient_name", "total_amount",
                "tax_amount", "currency", "payment_terms", "po_reference", "product_codes"],
        titles=["INVOICE", "Tax Invoice", "Commercial Invoice", "Sales Invoice", "Bill for services", "CHARGES"],
        issuer=["Vendor", "From", "Supplier", "Seller", "Billed by", "Issued by"],
        recipient=["Bill To", "To", "Customer", "Sold To", "Charge to", "Payer"],
        boiler=["Please remit payment to the account shown below.",
                "Thank you for your business. Kindly pay the amount due by the date indicated.",
                "Payment by bank transfer only; quote the invoice number as reference.",
                "Late payments accrue interest at 1.5% per month.",
                "We have charged you for the goods delivered; settle at your convenience within terms.",
                "Amount payable for supplied items. Remittance details overleaf."]),
    "purchase_order": dict(
        group=COMMERCIAL, noun="Purchase Order", prefix="PO",
        fields=["document_number", "issue_date", "issuer_name", "recipient_name", "total_amount", "tax_amount",
                "currency", "payment_terms", "product_codes"],
        titles=["PURCHASE ORDER", "Purchase Order", "Order Form", "Procurement Order", "ORDER REQUEST",
                "Buying request"],
        issuer=["Buyer", "Ordered by", "Purchaser", "From", "Requested by", "Procuring entity"],
        recipient=["Vendor", "Supplier", "To", "Ship From", "Fulfilled by", "Source"],
        boiler=["Please supply the following items under the terms stated.",
                "Deliver the goods listed below to our receiving dock and reference this order on your invoice.",
                "This order is subject to our standard terms of purchase.",
                "Acknowledge receipt of this order within two business days.",
                "We would like to buy the goods below; confirm availability and ship.",
                "Kindly fulfil and dispatch; quote our reference on all paperwork."]),
    "quotation": dict(
        group=COMMERCIAL, noun="Quotation", prefix="QT",
        fields=["document_number", "issue_date", "expiration_date", "issuer_name", "recipient_name",
                "total_amount", "tax_amount", "currency", "product_codes"],
        titles=["QUOTATION", "Price Quote", "Sales Quotation", "Quote", "Price proposal", "ESTIMATE"],
        issuer=["Quoted by", "From", "Supplier", "Prepared by", "Offer from", "Seller"],
        recipient=["Prepared for", "To", "Customer", "Quote for", "Offer to", "Prospect"],
        boiler=["We are pleased to quote the following prices.",
                "This quotation is valid until the date shown and subject to stock availability.",
                "Prices quoted exclude shipping unless stated otherwise.",
                "Please sign and return this quote to place your order.",
                "Here is our offer for the items you enquired about; it can be accepted before it lapses.",
                "Indicative pricing; acceptance creates a binding order."]),
    "delivery_note": dict(
        group=COMMERCIAL, noun="Delivery Note", prefix="DN",
        fields=["document_number", "issue_date", "issuer_name", "recipient_name", "po_reference", "product_codes"],
        titles=["DELIVERY NOTE", "Packing Slip", "Dispatch Note", "Delivery Docket", "Goods received slip",
                "SHIPMENT"],
        issuer=["Shipper", "From", "Dispatched by", "Supplier", "Sent by", "Carrier for"],
        recipient=["Deliver To", "Ship To", "Consignee", "Recipient", "Drop at", "Receiver"],
        boiler=["Please check the goods on arrival and sign below.",
                "The items listed have been dispatched in good condition.",
                "Report any damage or shortage within 48 hours of receipt.",
                "Number of packages as listed. Signature of receiver required.",
                "Your parcel has left our warehouse; count the cartons when it arrives.",
                "Handed to driver; receiver to countersign on unloading."]),
    "credit_note": dict(
        group=COMMERCIAL, noun="Credit Note", prefix="CN",
        fields=["document_number", "issue_date", "issuer_name", "recipient_name", "total_amount", "tax_amount",
                "currency", "po_reference", "product_codes"],
        titles=["CREDIT NOTE", "Credit Memo", "Credit Memorandum", "Credit Note", "Refund notice",
                "CREDIT ADVICE"],
        issuer=["Issued by", "From", "Supplier", "Vendor", "Refunded by", "Creditor"],
        recipient=["Credit To", "Customer", "To", "Account", "Refund to", "Beneficiary"],
        boiler=["This credit note is issued against the invoice referenced below for returned goods.",
                "The amount below has been credited to your account.",
                "Credit issued for damaged items; no further action is required.",
                "Please offset this credit against your next payment.",
                "We owe you the sum below after your return was processed.",
                "Reversal of charges previously billed; balance adjusted."]),
    "receipt": dict(
        group=COMMERCIAL, noun="Receipt", prefix="RCT",
        fields=["document_number", "issue_date", "issuer_name", "total_amount", "tax_amount", "currency",
                "product_codes"],
        titles=["RECEIPT", "Sales Receipt", "Cash Receipt", "Payment Receipt", "Till slip", "PAID"],
        issuer=["Store", "Merchant", "Sold by", "From", "Shop", "Outlet"],
        recipient=["Customer", "Cashier", "Served by", "Member", "Client", "Guest"],
        boiler=["Thank you for shopping with us. Keep this receipt for returns.",
                "Paid in full. Goods sold are not refundable without this receipt.",
                "Returns accepted within 30 days with proof of purchase.",
                "Card payment approved. Customer copy.",
                "Thanks for visiting, see you again soon!",
                "Transaction complete; retain for your records."]),
    "contract": dict(
        group=LEGAL, noun="Agreement", prefix="MSA",
        fields=["document_number", "effective_date", "expiration_date", "issuer_name", "recipient_name",
                "total_amount", "currency", "payment_terms", "governing_law", "contract_term"],
        titles=["MASTER SERVICES AGREEMENT", "Services Agreement", "Supply Agreement", "Framework Agreement",
                "Consulting engagement terms", "AGREEMENT FOR SERVICES"],
        issuer=["Provider", "Service Provider", "Supplier", "Contractor", "Consultant", "First Party"],
        recipient=["Client", "Customer", "Company", "Purchaser", "Engaging party", "Second Party"],
        boiler=["The Provider shall perform the services described in the schedules with due skill and care.",
                "Either party may terminate this Agreement for material breach on thirty days written notice.",
                "The Supplier warrants that all deliverables conform to the specifications.",
                "Fees are payable against invoices issued monthly in arrears.",
                "The consultant will do the work set out in the attached scope, and the client will pay for it.",
                "Obligations of the parties are set out in the clauses that follow."]),
    "nda": dict(
        group=LEGAL, noun="Non-Disclosure Agreement", prefix="NDA",
        fields=["effective_date", "issuer_name", "recipient_name", "governing_law", "contract_term"],
        titles=["NON-DISCLOSURE AGREEMENT", "Mutual Confidentiality Agreement", "Confidentiality Agreement",
                "NDA", "Secrecy undertaking", "CONFIDENTIAL INFORMATION TERMS"],
        issuer=["Disclosing Party", "Discloser", "Company", "Owner", "Party sharing", "Revealing party"],
        recipient=["Receiving Party", "Recipient", "Counterparty", "Receiver", "Party receiving", "Holder"],
        boiler=["The Receiving Party shall hold all Confidential Information in strict confidence.",
                "Confidential Information shall not be disclosed to any third party without prior written consent.",
                "Upon request, the Recipient shall return or destroy all confidential materials.",
                "Nothing in this Agreement grants any licence to intellectual property.",
                "Keep the secrets you are told secret, and only use them to evaluate the deal.",
                "Proprietary data stays private; misuse entitles the owner to injunctive relief."]),
    "statement_of_work": dict(
        group=LEGAL, noun="Statement of Work", prefix="SOW",
        fields=["document_number", "effective_date", "expiration_date", "issuer_name", "recipient_name",
                "total_amount", "currency", "payment_terms", "po_reference"],
        titles=["STATEMENT OF WORK", "Statement of Work", "Work Order", "Project Statement", "Scope of engagement",
                "TASK ORDER"],
        issuer=["Contractor", "Provider", "Vendor", "Consultant", "Delivery partner", "Performing party"],
        recipient=["Client", "Customer", "Sponsor", "Buyer", "Commissioning party", "Requestor"],
        boiler=["This Statement of Work describes deliverables, milestones and acceptance criteria.",
                "Milestones are accepted in writing by the Client project manager.",
                "The project scope is limited to the tasks enumerated below.",
                "Change requests require a signed amendment to this statement.",
                "Here is what the team will build, by when, and how sign-off works.",
                "Work packages and acceptance are governed by the parent agreement."]),
    "expense_report": dict(
        group=LETTER, noun="Expense Report", prefix="EXP",
        fields=["document_number", "issue_date", "issuer_name", "total_amount", "currency"],
        titles=["EXPENSE REPORT", "Expense Claim", "Travel Expense Report", "Reimbursement Request",
                "Out-of-pocket costs", "EXPENSES"],
        issuer=["Employee", "Submitted by", "Claimant", "Name", "Traveller", "Staff member"],
        recipient=["Approver", "Manager", "Cost Center", "Department", "Sign-off", "Reviewer"],
        boiler=["I certify that these expenses were incurred on company business.",
                "Receipts for all items above 25.00 are attached.",
                "Please reimburse the amount below to my salary account.",
                "Mileage is claimed at the standard company rate.",
                "Costs from the client trip last week, hotel and taxis included.",
                "Claim for reimbursement of business outlays, receipts enclosed."]),
    "remittance_advice": dict(
        group=LETTER, noun="Remittance Advice", prefix="RA",
        fields=["document_number", "issue_date", "issuer_name", "recipient_name", "total_amount", "currency",
                "po_reference"],
        titles=["REMITTANCE ADVICE", "Payment Advice", "Remittance Notice", "Notice of Payment",
                "Funds sent", "PAYMENT CONFIRMATION"],
        issuer=["Payer", "From", "Remitter", "Paid by", "Sender of funds", "Originator"],
        recipient=["Payee", "To", "Beneficiary", "Paid to", "Receiver of funds", "Creditor"],
        boiler=["We have initiated a bank transfer in settlement of the invoice below.",
                "Please allocate this payment against the referenced document.",
                "Funds should reach your account within three business days.",
                "This advice confirms payment; no further invoice is expected.",
                "Money's on its way for the bill you sent us.",
                "Settlement effected by wire; reconcile against your ledger."]),
    "payment_reminder": dict(
        group=LETTER, noun="Payment Reminder", prefix="REM",
        fields=["document_number", "issue_date", "due_date", "issuer_name", "recipient_name", "total_amount",
                "currency", "po_reference"],
        titles=["PAYMENT REMINDER", "Overdue Notice", "Reminder of Payment", "Final Reminder", "Friendly nudge",
                "DUNNING LETTER"],
        issuer=["From", "Creditor", "Accounts Receivable", "Issued by", "Collections team", "Sender"],
        recipient=["To", "Debtor", "Customer", "Account holder", "Attention", "Addressee"],
        boiler=["Our records show that the invoice below remains unpaid.",
                "If you have already paid, please disregard this reminder.",
                "Please settle the overdue balance to avoid suspension of your account.",
                "This is our final reminder before the matter is passed to collections.",
                "Just a heads-up: we still have not received your payment.",
                "Outstanding sum remains open past its due date; act promptly."]),
}

# Six labels per field, one per family (families 4 and 5 are held out of training).
LABELS: dict[str, list[str]] = {
    "document_number": ["{noun} Number", "{noun} No.", "{noun} #", "Reference", "Doc ID", "Ref code"],
    "issue_date": ["{noun} Date", "Date", "Date of Issue", "Issued", "Dated", "Issue dt"],
    "due_date": ["Due Date", "Payment Due", "Pay By", "Due", "Settle by", "Payable on"],
    "effective_date": ["Effective Date", "Commencement Date", "Start Date", "Effective as of", "Begins",
                       "In force from"],
    "expiration_date": ["Expiration Date", "Valid Until", "End Date", "Expires", "Terminates on", "Lapses"],
    "total_amount": ["Total", "Amount Due", "Grand Total", "Total Amount", "Balance", "Sum payable"],
    "tax_amount": ["Tax", "VAT", "Sales Tax", "Tax Amount", "GST", "Levy"],
    "subtotal": ["Subtotal", "Net Amount", "Sub-total", "Net", "Before tax", "Goods value"],
    "currency": ["Currency", "Curr.", "Currency Code", "Cur", "Money", "Denomination"],
    "payment_terms": ["Payment Terms", "Terms", "Terms of Payment", "Pay Terms", "Conditions", "Settlement"],
    "governing_law": ["Governing Law", "Applicable Law", "Jurisdiction", "Law", "Legal venue", "Choice of law"],
    "po_reference": ["PO Number", "Your Order", "Order Ref", "P.O. #", "Against order", "Buyer ref"],
    "product_codes": ["Item Code", "SKU", "Product", "Part No.", "Article", "Cat. No."],
    "contract_term": ["Term", "Duration", "Contract Period", "Length", "Runs for", "Period"],
}

# Prose for the letter (family 1) and e-mail (family 4) layouts and for legal bodies: {v} is the value.
PROSE: dict[str, list[str]] = {
    "document_number": ["This is {noun} {v}.", "Please quote reference {v} in all correspondence.",
                        "Our ref {v}."],
    "issue_date": ["It was issued on {v}.", "This document is dated {v}.", "Sent {v}."],
    "due_date": ["Payment is due by {v}.", "The balance must be received no later than {v}.",
                 "Please pay before {v}."],
    "effective_date": ["This Agreement is effective as of {v}.", "The engagement commences on {v}.",
                       "Kicks off {v}."],
    "expiration_date": ["It expires on {v}.", "It remains valid until {v}.", "Ends {v}."],
    "issuer_name": ["{role}: {v}.", "Issued by {v}.", "Sent by {v}."],
    "recipient_name": ["Addressed to {v}.", "Prepared for {v}.", "Hi {v},"],
    "total_amount": ["The total amount is {v}.", "The amount due comes to {v}.", "All in: {v}."],
    "tax_amount": ["Tax included: {v}.", "This includes tax of {v}.", "Of which tax {v}."],
    "currency": ["All amounts are in {v}.", "Amounts are stated in {v}.", "Money is in {v}."],
    "payment_terms": ["Payment terms are {v}.", "The agreed terms are {v}.", "Terms: {v}, as usual."],
    "governing_law": ["This Agreement is governed by the laws of {v}.",
                      "The laws of {v} apply to this document.",
                      "Any dispute goes to the courts of {v}."],
    "po_reference": ["This refers to order {v}.", "It relates to document {v}.", "Re your order {v}."],
    "contract_term": ["The initial term is {v}.", "This Agreement runs for {v}.", "It lasts {v}."],
}

# Date and money rendering per family.
DATE_FORMATS = ["iso", "long_us", "dotted_eu", "slash_us", "long_eu", "dash_abbrev"]
MONEY_FORMATS = ["code_prefix", "symbol", "eu_suffix", "plain_suffix", "code_prefix", "eu_space"]
DOC_NUMBER_FORMATS = ["{P}-{Y}-{N5}", "{P}{N6}", "{P}/{Y}/{N4}", "{P}-{N5}", "{Y}-{P}-{N4}", "{P}.{N6}"]

ROOTS = ["Bright", "Kestrel", "Northwind", "Ostara", "Cobalt", "Silverline", "Redwood", "Lumen", "Halcyon",
         "Granite", "Bluefin", "Meridian", "Ironbark", "Solstice", "Vantage", "Juniper", "Harbor", "Summit",
         "Crescent", "Evergreen", "Falcon", "Orchid", "Pioneer", "Quartz", "Riverstone", "Sable", "Tidewater",
         "Umber", "Verity", "Willow", "Zephyr", "Aster", "Beacon", "Cedar", "Delta", "Ember", "Fjord",
         "Glacier", "Hollis", "Indigo"]
INDUSTRIES = ["Logistics", "Analytics", "Components", "Systems", "Foods", "Textiles", "Pharma", "Energy",
              "Robotics", "Media", "Consulting", "Software", "Metals", "Packaging", "Labs", "Freight",
              "Furniture", "Optics", "Chemicals", "Devices", "Outfitters", "Holdings", "Partners", "Industries"]
LEGAL_FORMS = ["LLC", "Ltd", "Inc.", "GmbH", "S.A.", "PLC", "Corp.", "AG", "B.V.", "Pty Ltd"]
FIRST_NAMES = ["Maria", "James", "Aisha", "Chen", "Olivia", "Mateo", "Priya", "Lukas", "Fatima", "Noah",
               "Sofia", "Kenji", "Amara", "Elena", "Tomas", "Ines", "David", "Hana", "Omar", "Grace",
               "Ivan", "Leila", "Marco", "Nadia", "Oscar", "Ruth", "Samuel", "Yara", "Victor", "Zoe"]
LAST_NAMES = ["Lopez", "Smith", "Okafor", "Wang", "Muller", "Rossi", "Patel", "Novak", "Haddad", "Brown",
              "Garcia", "Tanaka", "Mensah", "Petrov", "Silva", "Moreau", "Kim", "Jensen", "Costa", "Walsh",
              "Schmidt", "Nakamura", "Dubois", "Kowalski", "Ahmed", "Larsen", "Ferreira", "Ivanova", "Reyes",
              "Byrne"]
PRODUCTS = ["steel brackets", "USB-C cables", "office chairs", "printer toner", "safety gloves",
            "LED panels", "hydraulic pumps", "server racks", "label rolls", "thermal paper", "copper wire",
            "cleaning supplies", "laptop stands", "packing tape", "ball bearings", "solar inverters",
            "coffee beans", "network switches", "ink cartridges", "pallet wrap", "valve seals", "desk lamps"]
TASKS_SOW = ["discovery workshop", "data migration", "integration testing", "user training",
             "dashboard build", "security review", "go-live support", "requirements analysis"]
