// Schema version 5: idempotency records are read from disk (not all loaded at start), and a new
// key is checked against its user's cap of live records: count them by user and age without
// reading the stored responses.
export const up = `
CREATE INDEX idempotency_by_user_age ON idempotency(user_id, created_at);
`;

export const postgres = up;
