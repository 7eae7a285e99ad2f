"""Which ORIs a terminal's TLS client certificate may log on as.

With client certificates required (``tls_client_ca``), a certificate names the ORI it belongs
to in its subject's common name (CN), or the directory maps it: an ``[[ori]]`` entry with
``certificate_cn = "<CN>"`` may be logged on with a certificate of that CN (one certificate for
several ORIs of a terminal, for example). Any other ORI gets ``LJ ORI NOT ALLOWED ON THIS
LINK``.
"""

from __future__ import annotations

from typing import Any

from nlets_sim.switch.directory import Directory


def certificate_names(peercert: Any) -> frozenset[str]:
    """The subject common names of a verified peer certificate (``getpeercert()``)."""
    if not isinstance(peercert, dict):
        return frozenset()
    return frozenset(
        str(value)
        for rdn in peercert.get("subject", ())
        for key, value in rdn
        if key == "commonName"
    )


def certificate_allows(directory: Directory, names: frozenset[str] | None, ori: str) -> bool:
    """True when no certificate is required (``names`` None), or the certificate names ``ori``
    or the CN the directory gives it."""
    if names is None:
        return True
    agency = directory.agencies.get(ori)
    mapped = agency.certificate_cn if agency is not None else None
    return ori in names or (mapped is not None and mapped in names)
