// Schema version 8: money is decided in SQL. A balance moves only with a ledger row: the server
// inserts ledger rows (a charge only within BALANCE_MAX, a payment only while the balance covers
// it: writeStatements.ts) and this trigger moves the balance, so every balance is the sum of its
// ledger by construction; the CHECK (balance >= 0) of `users` refuses an overdraft whatever any
// process believes.
export const up = `
CREATE TRIGGER ledger_moves_balance AFTER INSERT ON ledger
BEGIN
  INSERT INTO users (id, balance) VALUES (NEW.user_id, 0) ON CONFLICT (id) DO NOTHING;
  UPDATE users SET balance = balance + NEW.amount WHERE id = NEW.user_id;
END;
`;

/**
 * PostgreSQL also keeps the rule in the database for anyone with a connection: the ledger is
 * append-only, and a balance changes only from the ledger's trigger (pg_trigger_depth() > 1).
 */
export const postgres = `
CREATE FUNCTION ledger_moves_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO users (id, balance) VALUES (NEW.user_id, 0) ON CONFLICT (id) DO NOTHING;
  UPDATE users SET balance = balance + NEW.amount WHERE id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER ledger_moves_balance AFTER INSERT ON ledger
  FOR EACH ROW EXECUTE FUNCTION ledger_moves_balance();

CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER ledger_is_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();

CREATE FUNCTION balances_follow_the_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'a balance changes only with a ledger row' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER balances_follow_the_ledger BEFORE INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION balances_follow_the_ledger();
CREATE TRIGGER balances_are_not_deleted BEFORE DELETE OR TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();
`;
