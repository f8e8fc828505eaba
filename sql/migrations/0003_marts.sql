-- Marts built from the dataset tables by etl/marts (templates in sql/marts/), in SQL that DuckDB
-- and PostgreSQL both accept. Subjects (主体) are keyed by ``subject_key``: the USCC, else the
-- identity number of a natural person, else the legacy code the record carries (see etl/marts/subjects.py).

-- One row per current record that names a subject: what the profiles and lists are built from.
CREATE TABLE mart_subject_facts (
    subject_key   VARCHAR NOT NULL,
    subject_kind  VARCHAR NOT NULL,       -- uscc, idcard, regno, orgcode, tax_reg_no, … or name
    subject_name  VARCHAR,
    subject_type  VARCHAR,                -- the record's 行政相对人类别 where it has one
    dataset       VARCHAR NOT NULL,
    category      VARCHAR NOT NULL,       -- licensing, penalty, red_list, black_list, basic, other
    domain        VARCHAR NOT NULL,       -- the key domain of the delivering source
    department    VARCHAR,                -- the delivering department (ledger)
    delivery_id   VARCHAR NOT NULL,
    received_at   TIMESTAMPTZ,
    source_row    BIGINT NOT NULL,
    record_key    VARCHAR NOT NULL,       -- the dedup key's values joined with '|'
    fact_date     DATE,                   -- decision date (许可, 处罚) or list entry date
    exit_date     DATE,                   -- list exit date
    list_name     VARCHAR,
    authority     VARCHAR,                -- the issuing body named in the record
    serious       BOOLEAN NOT NULL,       -- a serious penalty (etl/marts/rules.py)
    uscc          VARCHAR,
    regno         VARCHAR,
    orgcode       VARCHAR,
    PRIMARY KEY (dataset, record_key)
);
CREATE INDEX mart_subject_facts_by_subject ON mart_subject_facts (subject_key);

-- 信用档案: one row per subject.
CREATE TABLE mart_subject_profiles (
    subject_key             VARCHAR PRIMARY KEY,
    subject_kind            VARCHAR NOT NULL,
    name                    VARCHAR,
    subject_type            VARCHAR,
    division                VARCHAR,
    legacy_codes            VARCHAR,      -- registration numbers and organisation codes seen, sorted, ','
    former_names            VARCHAR,      -- other names its records were delivered under, sorted, '；'
    licences                BIGINT NOT NULL,
    latest_licence          DATE,
    penalties               BIGINT NOT NULL,
    latest_penalty          DATE,
    red_list_entries        BIGINT NOT NULL,
    latest_red_list_entry   DATE,
    black_list_entries      BIGINT NOT NULL,
    latest_black_list_entry DATE
);

-- The profile's counts by key domain and category.
CREATE TABLE mart_subject_domains (
    subject_key VARCHAR NOT NULL,
    domain      VARCHAR NOT NULL,
    category    VARCHAR NOT NULL,
    records     BIGINT NOT NULL,
    latest      DATE,
    PRIMARY KEY (subject_key, domain, category)
);

-- The joint red and black lists: every list entry; "on the list as of D" is
-- entry_date <= D AND (exit_date IS NULL OR exit_date > D) (sql/marts/on_list.sql).
CREATE VIEW mart_list_entries AS
SELECT subject_key, subject_kind, subject_name, dataset, category AS list_kind, list_name, domain,
       department, authority, fact_date AS entry_date, exit_date, delivery_id, source_row, record_key
FROM mart_subject_facts
WHERE category IN ('red_list', 'black_list');

-- 重点监管对象 as of the last refresh's date (sql/marts/key_targets.sql).
CREATE TABLE mart_key_targets (
    subject_key        VARCHAR PRIMARY KEY,
    as_of              DATE NOT NULL,
    black_list_domains BIGINT NOT NULL,   -- domains of the black lists it is on as of that date
    serious_penalties  BIGINT NOT NULL,   -- serious penalties decided in the twelve months to that date
    reasons            VARCHAR NOT NULL
);

-- Watermark: the ledger rows whose loads the marts reflect, and one row per refresh.
CREATE TABLE mart_refreshed_deliveries (
    ledger_id    BIGINT PRIMARY KEY,
    refreshed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE mart_refreshes (
    refreshed_at TIMESTAMPTZ NOT NULL,
    mode         VARCHAR NOT NULL,        -- full or incremental
    as_of        DATE NOT NULL,
    deliveries   BIGINT NOT NULL,
    subjects     BIGINT NOT NULL
);
-- Work tables of one refresh (emptied inside its transaction): the ledger rows it takes in and
-- the subjects it rebuilds.
CREATE TABLE mart_refresh_ledger (
    ledger_id   BIGINT PRIMARY KEY,
    delivery_id VARCHAR NOT NULL
);
CREATE TABLE mart_refresh_subjects (
    subject_key VARCHAR PRIMARY KEY
);
-- The key domain of each catalog source (a source may count for another domain than its dataset),
-- rewritten from the catalog by every refresh.
CREATE TABLE mart_sources (
    source VARCHAR PRIMARY KEY,
    domain VARCHAR NOT NULL
);

-- Who looked up whom, and whether identity numbers were shown unmasked.
CREATE TABLE lookup_audit (
    looked_up_at TIMESTAMPTZ NOT NULL,
    os_user      VARCHAR NOT NULL,
    query        VARCHAR NOT NULL,
    unmasked     BOOLEAN NOT NULL,
    subject_keys VARCHAR NOT NULL         -- the subjects shown, ','
);
