"""The automated ICE Law Enforcement Support Center (LESC) daemon."""
