"""The year's figures of ``lesc-daemon report``, as the LESC's fact sheets give them: IAQs,
Brady firearms checks (``PUR/F``), Secret Service screenings (IAQs from ``DCUSSS000``) and
detainers lodged. (Hit confirmations: ``ncic_desk.hit_confirmations``.)"""

from __future__ import annotations

from dataclasses import dataclass

from lesc_daemon.store import Store

USSS_ORI = "DCUSSS000"


@dataclass(frozen=True, slots=True)
class Totals:
    iaqs: int
    brady: int
    secret_service: int
    detainers: int

    def lines(self) -> list[str]:
        return [
            f"total IAQs: {self.iaqs:,}",
            f"Brady checks (PUR/F): {self.brady:,}",
            f"Secret Service screenings ({USSS_ORI}): {self.secret_service:,}",
            f"detainers lodged: {self.detainers:,}",
        ]


def totals(store: Store) -> Totals:
    list(store.queries_by_month())  # it writes the audit rows still pending first
    iaqs, brady, secret_service = store.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(purpose = 'F'), 0), COALESCE(SUM(requester = ?), 0)"
        " FROM audit WHERE kind = 'IAQ'",
        (USSS_ORI,),
    ).fetchone()
    (detainers,) = store.db.execute("SELECT COUNT(*) FROM detainers").fetchone()
    return Totals(int(iaqs), int(brady), int(secret_service), int(detainers))
