// Schema version 11: venues (issue 16). A schedule may be laid out in sections, rows and price
// categories. Its layout is stored once per distinct layout, addressed by its content: the key is
// the ETag of its layout document (src/venues/snapshot.ts), the same one clients cache it by, so
// the 100 dates of a tour in one hall share one row and no id needs allocating. A schedule
// without a venue keeps `venue` NULL and is one row of `seat_count` seats at `price`; with one,
// `seat_count` is the venue's and `price` its lowest category's.
export const up = `
CREATE TABLE venues (
  etag    TEXT PRIMARY KEY,
  layout  TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE schedules ADD COLUMN venue TEXT REFERENCES venues(etag);
`;

export const postgres = `
CREATE TABLE venues (
  etag    TEXT PRIMARY KEY,
  layout  TEXT NOT NULL
);

ALTER TABLE schedules ADD COLUMN venue TEXT REFERENCES venues(etag);
`;
