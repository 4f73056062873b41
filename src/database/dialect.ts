export type DatabaseDialect = 'sqlite' | 'postgres';

export function dialectOf(databaseUrl: string | undefined): DatabaseDialect {
  return databaseUrl ? 'postgres' : 'sqlite';
}

/**
 * Entity decorators are evaluated when their module loads, before Nest reads its config, so the
 * dialect-specific column type is taken from the process environment, which is fixed for the
 * life of the process. SQLite stores UTC text; PostgreSQL gets a real `timestamptz`.
 */
export const TIMESTAMP_COLUMN_TYPE =
  dialectOf(process.env.DATABASE_URL || undefined) === 'postgres' ? 'timestamptz' : 'datetime';
