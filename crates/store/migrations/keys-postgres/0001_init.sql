-- The key store: kept apart from the data (its own database or schema, reached with its own
-- role and URL), so that a copy of the data alone is unreadable and deleting a key here destroys
-- its data in every copy of the data.

CREATE TABLE key_meta (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);

-- Every data key, wrapped by the master key. `context` names the owner and is bound into the
-- wrapping: member:<uuid>, system:blind_index, system:audit_chain, retention:<class>:<bucket>.
CREATE TABLE wrapped_keys (
    context     TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    wrapped     BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
