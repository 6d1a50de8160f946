-- Issue 15: payments through PortOne. Expand-only.
--
-- An order: the server makes it (product and amount from the catalogue) before PortOne's payment
-- window opens with its id, and settles it only after asking PortOne (GET /payments/{id}): paid
-- when the status is PAID and the amount is the order's. Nothing personal lives here (no card or
-- account number, not even masked): the payment record — what the gateway returned, masked — goes
-- sealed to the retention store (class payment_records, 5 years), and record_id names it.
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,     -- the paymentId PortOne knows (jikimi-pay-…)
    member_id         BLOB,                 -- the buyer (no foreign key: the order outlives a withdrawal, then NULL)
    product           TEXT NOT NULL,        -- the catalogue's product id
    order_name        TEXT NOT NULL,        -- the product's name as the window shows it
    amount            INTEGER NOT NULL,       -- KRW
    currency          TEXT NOT NULL,
    state             TEXT NOT NULL,        -- pending | paid | refused | failed | cancelled | partially_cancelled
    cancelled_amount  INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    settled_at        TEXT,                 -- when it became paid, refused or failed
    updated_at        TEXT NOT NULL,
    record_id         BLOB                  -- the payment record in retained_records
);
CREATE INDEX orders_member ON orders (member_id, created_at);

-- PortOne's webhooks already handled, by their webhook-id: a delivery retried is handled once.
CREATE TABLE webhook_events (
    id           TEXT PRIMARY KEY,
    received_at  TEXT NOT NULL
);

-- The payment records of each order (the payment, each refund), so that a withdrawal can file
-- them under the former member's withdrawal receipt and cut the order's link to the member.
CREATE TABLE order_records (
    order_id   TEXT NOT NULL,
    record_id  BLOB NOT NULL,
    PRIMARY KEY (order_id, record_id)
);
