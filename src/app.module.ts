import { TenantDirectoryModule } from './tenancy/tenant-directory.module';
import { TenantsModule } from './tenants/tenants.module';
import {
  ArgumentMetadata,
  DynamicModule,
  Global,
  MiddlewareConsumer,
  Module,
  NestModule,
  ValidationPipe,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuditModule } from './audit/audit.module';
import { AuditLogModule } from './audit-log/audit-log.module';
import { SELF_VALIDATED } from './common/self-validated';
import { SiemModule } from './siem/siem.module';
import { ApiClientsModule } from './api-clients/api-clients.module';
import { AuthModule } from './auth/auth.module';
import { AcceptJsonMiddleware } from './common/accept.middleware';
import { BodyParserMiddleware } from './common/body-parser.middleware';
import { ConcurrencyLimiterMiddleware } from './common/concurrency-limiter.middleware';
import { HttpExceptionFilter } from './common/errors/http-exception.filter';
import { WorkBudgetModule } from './common/work-budget';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HttpMetricsMiddleware } from './health/http-metrics.middleware';
import { MetricsModule } from './health/metrics.module';
import { RolesModule } from './roles/roles.module';
import { SuppliersModule } from './suppliers/suppliers.module';
import { FeedsModule } from './feeds/feeds.module';
import { TagsModule } from './tags/tags.module';
import { SearchModule } from './search/search.module';
import { SharingModule } from './sharing/sharing.module';
import { StaticModule } from './static/static.module';
import { UsersModule } from './users/users.module';

/** Global on purpose: the one validated configuration is read by every layer, from middleware to repositories. */
@Global()
@Module({})
class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}

/** The global pipe, except for DTOs that a route's own pipe validates (SELF_VALIDATED). */
class AppValidationPipe extends ValidationPipe {
  protected override toValidate(metadata: ArgumentMetadata): boolean {
    const type = metadata.metatype as { [SELF_VALIDATED]?: boolean } | undefined;
    return !type?.[SELF_VALIDATED] && super.toValidate(metadata);
  }
}

/**
 * Validation errors name the field; unknown fields are rejected (docs/api.md §1).
 * @internal exported for tests (the search body pipe is checked against it)
 */
export const validationOptions: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  forbidUnknownValues: true,
  stopAtFirstError: false,
  validationError: { target: false, value: false },
};
const validationPipe = new AppValidationPipe(validationOptions);

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        WorkBudgetModule,
        DatabaseModule,
        TenantDirectoryModule,
        // Express tries routes in registration order, one pattern match each; the hot path
        // (SIEM and SOAR lookups) is registered first.
        SearchModule,
        AuditModule,
        AuditLogModule,
        SiemModule,
        HealthModule,
        // HttpMetricsMiddleware (configure below) records into MetricsService.
        MetricsModule,
        AuthModule,
        RolesModule,
        UsersModule,
        SuppliersModule,
        FeedsModule,
        TagsModule,
        ApiClientsModule,
        SharingModule,
        TenantsModule,
        StaticModule,
      ],
      providers: [
        ConcurrencyLimiterMiddleware,
        { provide: APP_PIPE, useValue: validationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
    // The API only: health, metrics and docs stay outside the limiter and the body rules.
    consumer
      .apply(ConcurrencyLimiterMiddleware, AcceptJsonMiddleware, BodyParserMiddleware)
      .forRoutes('api/*path');
    // TAXII (read-only, its own media type and Accept rule: SharingModule) counts against the limit too.
    consumer.apply(ConcurrencyLimiterMiddleware).forRoutes('taxii2', 'taxii2/*path');
  }
}
