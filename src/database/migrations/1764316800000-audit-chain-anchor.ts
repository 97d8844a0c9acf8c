import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit chain becomes keyed (HMAC under AUDIT_CHAIN_KEY, docs/security.md). The anchor
 * row, written by the application with the key, says from which sequence records are keyed;
 * records before it stay verifiable with the unkeyed hash they were written with.
 */
export class AuditChainAnchor1764316800000 implements MigrationInterface {
  name = 'AuditChainAnchor1764316800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_chain_anchor (
        singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        keyed_from  bigint NOT NULL CHECK (keyed_from > 0),
        legacy_head text NOT NULL,
        mac         text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // Written once; like the log it anchors, never changed.
    await q.query(`
      CREATE TRIGGER audit_chain_anchor_append_only BEFORE UPDATE OR DELETE ON audit_chain_anchor
        FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change()`);
    await q.query(`
      CREATE TRIGGER audit_chain_anchor_no_truncate BEFORE TRUNCATE ON audit_chain_anchor
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_chain_anchor`);
  }
}
