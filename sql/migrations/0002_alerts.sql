-- Freshness alerts (etl/alerts), in SQL that DuckDB and PostgreSQL both accept.

-- One row per obligation that has been due soon or breached, from its first warning to its end.
CREATE TABLE alerts (
    breach_id        VARCHAR PRIMARY KEY,   -- <source>:<rule>:<period>, e.g. …:twice_monthly:2026-10-H1
    source           VARCHAR NOT NULL,      -- source id, '*' for the calendar alert
    dataset          VARCHAR NOT NULL,
    department       VARCHAR NOT NULL,
    rule             VARCHAR NOT NULL,      -- twice_monthly | change | calendar
    state            VARCHAR NOT NULL,      -- due_soon | breached
    due_date         DATE NOT NULL,
    first_seen       DATE NOT NULL,         -- the monitor day it was first due soon or breached
    last_notified    DATE,                  -- at most one notice per row and day
    escalation_level INTEGER NOT NULL DEFAULT 0,
    recovered_on     DATE,                  -- set: closed (delivered; a breach got a recovery notice)
    updated_at       TIMESTAMPTZ NOT NULL,
    CHECK (state IN ('due_soon', 'breached'))
);

-- Every notice decided, one per row and day at most (the key says so).
CREATE TABLE alert_notices (
    breach_id        VARCHAR NOT NULL,
    notice_date      DATE NOT NULL,
    kind             VARCHAR NOT NULL,      -- due_soon | breach | reminder | escalation | recovery
    escalation_level INTEGER NOT NULL,
    days_late        INTEGER,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (breach_id, notice_date),
    CHECK (kind IN ('due_soon', 'breach', 'reminder', 'escalation', 'recovery'))
);

-- The messages that carry the notices: written before sending, marked when sent.
CREATE SEQUENCE alert_messages_message_id_seq;

CREATE TABLE alert_messages (
    message_id  BIGINT PRIMARY KEY DEFAULT nextval('alert_messages_message_id_seq'),
    notice_date DATE NOT NULL,
    department  VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,           -- mail | dingtalk | webhook
    conn_id     VARCHAR,                    -- Airflow connection of the robot or webhook
    recipients  JSON NOT NULL,              -- {"to": [...], "cc": [...]} (mail)
    subject     VARCHAR NOT NULL,
    body        VARCHAR NOT NULL,           -- HTML, Markdown or JSON, as sent
    breach_ids  JSON NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    error       VARCHAR,                    -- the last failure to send, secrets removed
    CHECK (channel IN ('mail', 'dingtalk', 'webhook'))
);
