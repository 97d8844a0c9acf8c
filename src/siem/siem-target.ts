import type { SiemFormat } from './siem-formats';

export const SIEM_TYPES = ['syslog', 'webhook'] as const;
export const TRANSPORTS = ['udp', 'tcp', 'tls', 'relp'] as const;
export type SiemType = (typeof SIEM_TYPES)[number];
export type Transport = (typeof TRANSPORTS)[number];

interface SyslogEndpoint {
  type: 'syslog';
  host: string;
  port: number;
  format: SiemFormat;
}

/** Where and how an integration sends (its delivery-relevant configuration). */
export type SiemTarget =
  | (SyslogEndpoint & { transport: 'udp' | 'tcp' | 'relp' })
  | (SyslogEndpoint & { transport: 'tls'; tlsInsecure: boolean; caCert: string | null })
  | { type: 'webhook'; url: string; secret: string };
export type SyslogTarget = Extract<SiemTarget, { type: 'syslog' }>;
export type WebhookTarget = Extract<SiemTarget, { type: 'webhook' }>;

/** The target as the flat, nullable columns of `siem_integrations` (and of the API). */
export interface SiemTargetColumns {
  type: SiemType;
  transport: Transport | null;
  host: string | null;
  port: number | null;
  format: SiemFormat | null;
  tlsInsecure: boolean;
  caCert: string | null;
  url: string | null;
  secret: string | null;
}

/** Columns of `type` with none of its target fields set yet. */
export function emptyColumns(type: SiemType): SiemTargetColumns {
  return {
    type,
    transport: null,
    host: null,
    port: null,
    format: null,
    tlsInsecure: false,
    caCert: null,
    url: null,
    secret: null,
  };
}

export function targetColumns(t: SiemTarget): SiemTargetColumns {
  switch (t.type) {
    case 'webhook':
      return { ...emptyColumns(t.type), url: t.url, secret: t.secret };
    case 'syslog': {
      const { type, transport, host, port, format } = t;
      const tls = transport === 'tls' ? { tlsInsecure: t.tlsInsecure, caCert: t.caCert } : {};
      return { ...emptyColumns(type), transport, host, port, format, ...tls };
    }
    default:
      return unreachable(t);
  }
}

/** The names of the columns `type` requires that are null (empty: the target is complete). */
export function missingColumns(c: SiemTargetColumns): string[] {
  const required = c.type === 'syslog' ? SYSLOG_REQUIRED : WEBHOOK_REQUIRED;
  return required.filter((f) => c[f] === null);
}

const SYSLOG_REQUIRED = ['transport', 'host', 'port', 'format'] as const;
const WEBHOOK_REQUIRED = ['url', 'secret'] as const;

/** The target of complete columns (see `missingColumns`); throws on an incomplete row. */
export function targetFromColumns(c: SiemTargetColumns): SiemTarget {
  switch (c.type) {
    case 'webhook': {
      const { type, url, secret } = c;
      if (url !== null && secret !== null) return { type, url, secret };
      break;
    }
    case 'syslog': {
      const { type, transport, host, port, format } = c;
      if (transport === null || host === null || port === null || format === null) break;
      return transport === 'tls'
        ? { type, transport, host, port, format, tlsInsecure: c.tlsInsecure, caCert: c.caCert }
        : { type, transport, host, port, format };
    }
    default:
      return unreachable(c.type);
  }
  throw new Error(`${c.type} target lacks ${missingColumns(c).join(', ')}`);
}

/** Compile-time exhaustiveness: a new union member without a case fails to type-check. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
}
