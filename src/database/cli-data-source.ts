import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { buildDataSourceOptions } from './data-source';
import { runAsSchemaOwnerByDefault } from './tenant-context';

// Migrations create and alter tables: they run as the login role, never the application's.
runAsSchemaOwnerByDefault();

/** For the TypeORM CLI only (`npm run migration:generate`); the app builds its own. */
export default new DataSource({
  ...buildDataSourceOptions(AppConfig.load()),
  entities: [join(__dirname, '..', '**', '*.entity.js')],
});
