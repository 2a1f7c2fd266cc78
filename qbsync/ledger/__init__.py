"""The billing side: models, import/export formats, validation and store writes."""
