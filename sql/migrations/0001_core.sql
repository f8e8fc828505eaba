-- Core tables of the credit warehouse, in SQL that DuckDB and PostgreSQL both accept.
-- Dataset tables (<table> and <table>_history) are generated from the catalog by
-- `credit-etl warehouse init` (etl/warehouse/schema.py), not written here.

-- The ledger (台账): one row per delivery attempt; see etl/warehouse/ledger.py.
CREATE SEQUENCE deliveries_ledger_id_seq;

CREATE TABLE deliveries (
    ledger_id      BIGINT PRIMARY KEY DEFAULT nextval('deliveries_ledger_id_seq'),
    delivery_id    VARCHAR NOT NULL,      -- <dataset>:<department>:<sha256[:16]>
    dataset        VARCHAR NOT NULL,
    department     VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,      -- source id <dataset>__<department>__<method>
    file_name      VARCHAR NOT NULL,      -- the name the department gave the file
    sha256         VARCHAR NOT NULL,
    size_bytes     BIGINT NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    status         VARCHAR NOT NULL,
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ,
    rows_read      BIGINT NOT NULL DEFAULT 0,
    rows_loaded    BIGINT NOT NULL DEFAULT 0,
    rows_rejected  BIGINT NOT NULL DEFAULT 0,
    error_reason   VARCHAR,               -- stable UPPER_SNAKE code, e.g. MISSING_COLUMNS
    error_message  VARCHAR,               -- Chinese, for the department clerk
    feedback_paths JSON,                  -- list of feedback file keys under the storage root
    change_date    DATE,                  -- the date the data changed, when the source says
    reprocess_of   BIGINT,                -- ledger_id of the attempt this one redoes
    notes          VARCHAR,
    CHECK (status IN ('loaded', 'loaded_with_rejections', 'rejected', 'duplicate', 'failed')),
    CHECK (status NOT IN ('loaded', 'loaded_with_rejections', 'rejected')
           OR rows_read = rows_loaded + rows_rejected)
);

CREATE INDEX deliveries_by_content ON deliveries (sha256, dataset, department);
CREATE INDEX deliveries_by_dataset ON deliveries (dataset, department, received_at);

-- Rows a department must correct: the row as delivered and why it was rejected.
CREATE TABLE quarantine (
    delivery_id  VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    department   VARCHAR NOT NULL,
    source_row   BIGINT NOT NULL,         -- the row number the clerk sees in the file
    raw_json     JSON NOT NULL,           -- {"<canonical field>": "<cell as delivered>", ...}
    reasons_json JSON NOT NULL,           -- [{"field", "rule", "value", "message"}, ...]
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (delivery_id, source_row)
);

-- Subjects (主体) seen in any dataset, keyed by unified social credit code.
CREATE TABLE subjects (
    uscc              VARCHAR PRIMARY KEY,
    name              VARCHAR,
    subject_type      VARCHAR,            -- 法人及非法人组织 / 个体工商户 / …
    division          VARCHAR NOT NULL,   -- positions 3-8 of the code (GB/T 2260)
    first_seen        TIMESTAMPTZ NOT NULL,
    last_seen         TIMESTAMPTZ NOT NULL,
    first_delivery_id VARCHAR NOT NULL,
    last_delivery_id  VARCHAR NOT NULL
);

-- Which table holds which dataset, and on which dedup key: init refuses to silently re-key.
CREATE TABLE dataset_tables (
    table_name VARCHAR PRIMARY KEY,
    dataset    VARCHAR NOT NULL,
    dedup_key  VARCHAR NOT NULL,          -- field names joined with ','
    created_at TIMESTAMPTZ NOT NULL
);
