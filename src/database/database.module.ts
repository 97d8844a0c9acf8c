import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DatabaseGuard } from './database-guard';
import { asSchemaOwner } from './tenant-context';
import { buildDataSourceOptions, databaseGuardFor, runMigrations } from './data-source';
import { ServerPool } from './server-pool';
import { Sql } from './sql';

/**
 * The guard of every wait for the database (database-guard.ts), shared with the pool it guards,
 * and the handle the pool hands itself to (server-pool.ts).
 */
@Module({
  providers: [
    { provide: DatabaseGuard, inject: [AppConfig], useFactory: databaseGuardFor },
    ServerPool,
  ],
  exports: [DatabaseGuard, ServerPool],
})
class DatabaseGuardModule implements OnApplicationShutdown {
  constructor(private readonly guard: DatabaseGuard) {}

  onApplicationShutdown(): void {
    this.guard.stop();
  }
}

/**
 * The DataSource, migrated before anything else can use it, and the query helper over it.
 * Global on purpose: one connection pool is the substrate of every repository, like the
 * configuration, so importing it everywhere would add noise and tell nothing.
 */
@Global()
@Module({
  imports: [
    DatabaseGuardModule,
    TypeOrmModule.forRootAsync({
      imports: [DatabaseGuardModule],
      inject: [AppConfig, DatabaseGuard, ServerPool],
      useFactory: buildDataSourceOptions,
      dataSourceFactory: async (options) => {
        // As the schema's owner: the application's role may not exist before the migrations.
        return asSchemaOwner(async () => {
          const dataSource = await new DataSource(options!).initialize();
          await runMigrations(dataSource, !(options as { url?: string }).url);
          return dataSource;
        });
      },
    }),
  ],
  providers: [
    {
      provide: Sql,
      inject: [DataSource, ServerPool],
      useFactory: (db: DataSource, pools: ServerPool) => Sql.over(db, pools.pool),
    },
  ],
  exports: [Sql, DatabaseGuardModule],
})
export class DatabaseModule {}
