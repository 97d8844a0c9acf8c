import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (docs/api.md §6): append-only, hash-chained, gapless `sequence`; and the SIEM
 * integrations that forward it (§7), with their delivery progress and delivery lease.
 */
export class Audit1763971200000 implements MigrationInterface {
  name = 'Audit1763971200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        sequence    bigint PRIMARY KEY CHECK (sequence > 0),
        id          uuid NOT NULL UNIQUE,
        "timestamp" timestamptz NOT NULL,
        actor_type  text NOT NULL CHECK (actor_type IN ('user', 'client', 'anonymous')),
        actor_id    text,
        actor_name  text,
        action      text NOT NULL,
        entity_type text NOT NULL,
        entity_name text,
        operation   text NOT NULL CHECK (operation IN ('create', 'update', 'delete', 'auth', 'access')),
        outcome     text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
        old_value   jsonb,
        new_value   jsonb,
        ip          text,
        user_agent  text,
        request_id  text,
        hash        text NOT NULL
      )`);
    // Query API filters, each newest first (keyset on sequence).
    await q.query(
      `CREATE INDEX audit_log_timestamp_idx ON audit_log ("timestamp" DESC, sequence DESC)`,
    );
    await q.query(`CREATE INDEX audit_log_actor_idx ON audit_log (actor_name, sequence DESC)`);
    await q.query(`CREATE INDEX audit_log_action_idx ON audit_log (action, sequence DESC)`);
    await q.query(
      `CREATE INDEX audit_log_entity_type_idx ON audit_log (entity_type, sequence DESC)`,
    );
    await q.query(`CREATE INDEX audit_log_outcome_idx ON audit_log (outcome, sequence DESC)`);
    await q.query(`
      CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % rejected', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change()`);
    // Wakes SIEM delivery workers on every instance when the appending transaction commits.
    await q.query(`
      CREATE FUNCTION audit_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('audit_log_appended', NEW.sequence::text);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_appended AFTER INSERT ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_notify()`);

    await q.query(`
      CREATE TABLE siem_integrations (
        id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name                    text NOT NULL,
        type                    text NOT NULL CHECK (type IN ('syslog', 'webhook')),
        enabled                 boolean NOT NULL DEFAULT true,
        send_history            boolean NOT NULL DEFAULT false,
        transport               text CHECK (transport IN ('udp', 'tcp', 'tls')),
        host                    text,
        port                    integer,
        format                  text CHECK (format IN ('cef', 'json')),
        tls_insecure            boolean NOT NULL DEFAULT false,
        ca_cert                 text,
        url                     text,
        secret                  text,
        last_delivered_sequence bigint NOT NULL DEFAULT 0,
        last_delivered_at       timestamptz,
        last_error              text,
        lease_owner             text,
        lease_until             timestamptz,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX siem_integrations_name_key ON siem_integrations (name)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE siem_integrations`);
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP FUNCTION audit_log_notify()`);
    await q.query(`DROP FUNCTION audit_log_reject_change()`);
  }
}
