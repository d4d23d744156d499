// Schema version 6: a user's reservations, newest first (reservations.list), without a scan of
// everyone's history.
export const up = `
CREATE INDEX reservations_by_user ON reservations(user_id, id);
`;

export const postgres = up;
