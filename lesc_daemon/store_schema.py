"""The tables of the LESC's store: persons, names, immigration status history, ICE records in
NCIC, detainers, leads, the query audit, the operator inbox and the outbox of responses not
yet sent."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS persons (
    id TEXT PRIMARY KEY, dob TEXT NOT NULL, sex TEXT, pob TEXT, citizenship TEXT,
    arn TEXT, fbi TEXT, sid TEXT, soc TEXT, firearms_exception INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS persons_arn ON persons (arn) WHERE arn IS NOT NULL;
CREATE INDEX IF NOT EXISTS persons_fbi ON persons (fbi) WHERE fbi IS NOT NULL;
CREATE TABLE IF NOT EXISTS names (
    person_id TEXT NOT NULL, name TEXT NOT NULL, surname TEXT NOT NULL,
    soundex TEXT NOT NULL, nysiis TEXT NOT NULL, dob TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS names_soundex ON names (soundex, dob);
CREATE INDEX IF NOT EXISTS names_nysiis ON names (nysiis, dob);
CREATE INDEX IF NOT EXISTS names_person ON names (person_id);
-- The matcher's blocks (names.py): one row per part of every name, with the person's DOB.
CREATE TABLE IF NOT EXISTS name_keys (
    key TEXT NOT NULL, dob TEXT NOT NULL, person_id TEXT NOT NULL,
    PRIMARY KEY (key, dob, person_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS status_history (
    person_id TEXT NOT NULL, code TEXT NOT NULL, class TEXT, since TEXT, until TEXT
);
-- A person's statuses in the order of ``since``: the latest is read from the index's end, with
-- no sort (a sort per person had cost more than the rest of the lookup).
CREATE INDEX IF NOT EXISTS status_latest ON status_history (person_id, since);
DROP INDEX IF EXISTS status_person;
CREATE TABLE IF NOT EXISTS ncic (
    nic TEXT PRIMARY KEY, person_id TEXT NOT NULL, type TEXT NOT NULL, ori TEXT NOT NULL,
    oca TEXT, active INTEGER NOT NULL, entered TEXT
);
CREATE INDEX IF NOT EXISTS ncic_person ON ncic (person_id);
-- The NCIC desk's changes to records (ncic_desk.py): who did what, when.
CREATE TABLE IF NOT EXISTS ncic_changes (
    id INTEGER PRIMARY KEY, nic TEXT NOT NULL, action TEXT NOT NULL, operator TEXT NOT NULL,
    at TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ncic_changes_nic ON ncic_changes (nic);
CREATE TABLE IF NOT EXISTS detainers (
    number INTEGER PRIMARY KEY, person_id TEXT NOT NULL, qrn TEXT NOT NULL,
    requester TEXT NOT NULL, lodged_at TEXT NOT NULL, basis TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leads (
    number INTEGER PRIMARY KEY, person_id TEXT NOT NULL, qrn TEXT NOT NULL,
    requester TEXT NOT NULL, created_at TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, reference TEXT, received_at TEXT NOT NULL,
    requester TEXT NOT NULL, control TEXT, atn TEXT, purpose TEXT, subject TEXT,
    answer TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (received_at);
CREATE TABLE IF NOT EXISTS query_numbers (day TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS inbox (
    number INTEGER PRIMARY KEY, received_at TEXT NOT NULL, sender TEXT NOT NULL,
    control TEXT, text TEXT NOT NULL, replied_at TEXT, reply TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, due TEXT NOT NULL, message BLOB NOT NULL, sent INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent, due);
"""
