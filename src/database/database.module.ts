import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { buildDataSourceOptions, runMigrations } from './data-source';
import { Sql } from './sql';

/**
 * The DataSource, migrated before anything else can use it, and the query helper over it.
 * Global on purpose: one connection pool is the substrate of every repository, like the
 * configuration, so importing it everywhere would add noise and tell nothing.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => buildDataSourceOptions(config),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        await runMigrations(dataSource, !(options as { url?: string }).url);
        return dataSource;
      },
    }),
  ],
  providers: [{ provide: Sql, inject: [DataSource], useFactory: (db: DataSource) => Sql.over(db) }],
  exports: [Sql],
})
export class DatabaseModule {}
