import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './src/database/data-source-options';

/** For the TypeORM CLI (`npm run typeorm -- migration:run`): the app's own DataSource definition. */
export default new DataSource(
  buildDataSourceOptions({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir: process.env.DATA_DIR || './data' }),
);
