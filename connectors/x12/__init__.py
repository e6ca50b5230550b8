"""ANSI X12 EDI: a tolerant streaming reader and a writer in each partner's delimiters."""
