"""Codec strings: RFC 6381 parsing (rfc6381), derivation from sample entries (derive), and browser
support (support)."""
