import 'reflect-metadata';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import pino from 'pino';
import { createApp } from './app.factory';
import { AppConfig, ConfigError } from './config/app-config';
import { consoleUrl } from './config/console-url';
import { loadTlsMaterial } from './tls';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const tls = config.env.TLS === 'on' ? await loadTlsMaterial(config) : undefined;
  const app = await createApp(config, {
    logDestination: asyncStdout(),
    httpsOptions: tls ? { key: tls.key, cert: tls.cert } : undefined,
  });
  const server = app.getHttpServer();
  // Slow clients must not pin sockets forever; large uploads still get minutes.
  server.requestTimeout = 15 * 60_000;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 65_000;

  await app.listen(config.env.PORT, config.env.HOST);
  const logger = new Logger('Bootstrap');
  const scheme = tls ? 'https' : 'http';
  logger.log(
    `Indicium listening on ${scheme}://${config.env.HOST}:${config.env.PORT} ` +
      `(console: ${consoleUrl(config)}; database: ${config.usesEmbeddedDatabase ? 'embedded' : 'server'}; docs: /docs)`,
  );
  if (tls?.generated) logger.warn('Generated a self-signed TLS certificate in DATA_DIR/tls');
  stopOnSignals(app, config, logger);
}

/** The configuration; a configuration error ends the process with its message alone. */
function loadConfig(): AppConfig {
  try {
    return AppConfig.load();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

/** Asynchronous stdout: a request never waits for its log line's write(2); flushed on exit. */
function asyncStdout(): ReturnType<typeof pino.destination> {
  const logDestination = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => {
    try {
      logDestination.flushSync();
    } catch {
      // nothing more can be done for the log at exit
    }
  });
  return logDestination;
}

/** Graceful shutdown: stop accepting, let in-flight requests finish (bounded), close the pool. */
function stopOnSignals(app: INestApplication, config: AppConfig, logger: Logger): void {
  const server = app.getHttpServer() as Server;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: shutting down`);
    const deadline = setTimeout(() => {
      logger.error('Shutdown timed out; exiting');
      process.exit(1);
    }, config.env.SHUTDOWN_TIMEOUT_SECONDS * 1000);
    deadline.unref();
    server.closeIdleConnections?.();
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error(err);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(
    `Indicium failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
