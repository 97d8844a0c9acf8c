import type { AppConfig } from './app-config';

/** Where a person on this machine opens the console (docs/console.md), for start-up messages. */
export function consoleUrl(config: AppConfig): string {
  const { TLS, HOST, PORT } = config.env;
  const host =
    HOST === '0.0.0.0' || HOST === '::' ? 'localhost' : HOST.includes(':') ? `[${HOST}]` : HOST;
  return `${TLS === 'on' ? 'https' : 'http'}://${host}:${PORT}/console/`;
}
