"""The parts of a postal address as the ledger names them (`bill_city`, `ship_postal_code`).

Apart from the import models so that reading a stored client loads no pydantic.
"""

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
ADDRESS_KINDS = ("bill", "ship")
