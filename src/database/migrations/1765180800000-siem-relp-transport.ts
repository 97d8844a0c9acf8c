import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SIEM integrations may use RELP, the acknowledged syslog transport (docs/api.md §7): the
 * CHECK on `siem_integrations.transport` now admits `relp`.
 */
export class SiemRelpTransport1765180800000 implements MigrationInterface {
  name = 'SiemRelpTransport1765180800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE siem_integrations
        DROP CONSTRAINT siem_integrations_transport_check,
        ADD CONSTRAINT siem_integrations_transport_check
          CHECK (transport IN ('udp', 'tcp', 'tls', 'relp'))`);
  }

  /** RELP integrations cannot exist below this: they are kept, disabled, as TCP. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE siem_integrations SET transport = 'tcp', enabled = false WHERE transport = 'relp'`,
    );
    await q.query(`
      ALTER TABLE siem_integrations
        DROP CONSTRAINT siem_integrations_transport_check,
        ADD CONSTRAINT siem_integrations_transport_check
          CHECK (transport IN ('udp', 'tcp', 'tls'))`);
  }
}
