import {
  Controller,
  Get,
  Header,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiNotFoundResponse,
} from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Auth, Public } from '../auth/auth.decorator';
import { ErrorBody } from '../common/errors/error-body.dto';
import { DatabaseGuard } from '../database/database-guard';
import { DEFAULT_TENANT_ID, requireTenant } from '../database/tenant-context';
import { MetricsService } from './metrics.service';
import { Readiness } from './readiness';

@ApiTags('Operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly metrics: MetricsService,
    private readonly readiness: Readiness,
    private readonly guard: DatabaseGuard,
  ) {}

  /** Liveness: the process is up. */
  @Get('health/live')
  @Public()
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database answers and nothing is still loading (the search key index). */
  @Get('health/ready')
  @Public()
  // Documented here: a failed check reaches the exception filter, so its 503 is the error body.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({
    description: 'The database answers',
    schema: {
      type: 'object',
      example: {
        status: 'ok',
        info: { database: { status: 'up' } },
        error: {},
        details: { database: { status: 'up' } },
      },
    },
  })
  @ApiServiceUnavailableResponse({
    description: 'Database unreachable, or the search key index still loading',
    type: ErrorBody,
  })
  async ready(): Promise<HealthCheckResult> {
    // Every cause is named: "Not ready: database unreachable, search key index loading".
    const causes = this.readiness.pending();
    if (this.guard.unreachable === undefined) {
      try {
        const result = await this.health.check([
          () => this.db.pingCheck('database', { timeout: 3000 }),
        ]);
        if (causes.length === 0) return result;
      } catch {
        causes.unshift('database unreachable');
      }
    } else causes.unshift('database unreachable');
    throw new ServiceUnavailableException(`Not ready: ${causes.join(', ')}`);
  }

  /**
   * Prometheus metrics (text exposition format), for the operator.
   * @remarks They describe the whole instance (every tenant's feeds and suppliers among the
   * labels): a principal acting in any tenant but `default` is answered as if the path did not
   * exist.
   */
  @Get('metrics')
  @Auth('metrics.read')
  @ApiProduces('text/plain')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOkResponse({ description: 'Prometheus text format', schema: { type: 'string' } })
  @ApiNotFoundResponse({ description: 'Acting in a tenant other than default', type: ErrorBody })
  render(): Promise<string> {
    if (requireTenant() !== DEFAULT_TENANT_ID) throw new NotFoundException('Cannot GET /metrics');
    return this.metrics.render();
  }
}
