import type { NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { answerClientErrors } from './common/errors/client-error';
import { createLoggers, PinoNestLogger } from './common/logging';
import { requestContext } from './common/request-context.middleware';
import { AppConfig } from './config/app-config';
import { setupSwagger } from './swagger';

/**
 * Builds the application exactly as production runs it; main.ts and the e2e tests both use
 * this, so tests exercise the real pipeline (body limits, filters, guards, Swagger).
 */
export interface CreateAppOptions {
  httpsOptions?: NestApplicationOptions['httpsOptions'];
  /** Where JSON log lines go (default stdout); tests capture them here. */
  logDestination?: DestinationStream;
}

export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestExpressApplication> {
  const { httpsOptions, logDestination } = options;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    // Start-up errors reach the caller (main.ts exits with them; tests see them).
    abortOnError: false,
    bufferLogs: true,
    httpsOptions,
  });
  const logs = createLoggers(config, logDestination);
  app.useLogger(new PinoNestLogger(logs.app));
  answerClientErrors(app.getHttpServer());
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(config, logs.requests));
  app.use(
    helmet({
      // Swagger UI loads its own scripts and styles from /docs and inlines a few styles.
      contentSecurityPolicy: {
        directives: {
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          // Only when this server speaks TLS itself: with TLS=off reached over plain HTTP,
          // browsers would rewrite Swagger UI's same-origin script/style URLs to https:// on
          // this HTTP port and /docs would stay blank. Behind a TLS proxy all URLs are
          // relative, so they are https anyway.
          'upgrade-insecure-requests': httpsOptions ? [] : null,
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  setupSwagger(app);
  return app;
}
