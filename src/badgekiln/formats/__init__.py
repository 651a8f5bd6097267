"""The published formats: Open Badges 2.0 and 3.0 documents, status lists, baking, URLs, host files."""
