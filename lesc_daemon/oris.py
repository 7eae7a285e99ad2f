"""The LESC's ORIs on line AX, as the shipped directory (``fixtures/directory.toml``) lists
them: written here once, read by the daemon's configuration and command line, its replies, its
seed data and the tools that start it."""

LESC_ORI = "VTINS07S0"  # the LESC's query ORI: the daemon logs on as it and answers from it
OPERATIONS_ORI = "VTICE0900"  # the LESC's operations desk (it entered the absconder records)
LESC_ORIS = frozenset({LESC_ORI, OPERATIONS_ORI})
LESC_KEY = f"K-{LESC_ORI}"  # its demo logon key in the shipped directory
