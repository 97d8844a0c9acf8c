import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ConsoleMiddleware } from './console.middleware';

/** The web console's files (docs/console.md): served before any route, outside the API's rules. */
@Module({ providers: [ConsoleMiddleware] })
export class StaticModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(ConsoleMiddleware)
      .forRoutes(
        { path: '/', method: RequestMethod.ALL },
        { path: 'console', method: RequestMethod.ALL },
        { path: 'console/*path', method: RequestMethod.ALL },
      );
  }
}
