import type { DataSource } from 'typeorm';

/**
 * Hot read paths (every request's key lookup, task reads) skip TypeORM's query building and
 * entity hydration, which dominate their cost. These helpers keep such raw reads portable.
 */

/** `:name` parameters in `sql` become the driver's own placeholders ($1 or ?). */
export function rawQuery<T>(dataSource: DataSource, sql: string, parameters: Record<string, unknown>): Promise<T[]> {
  const [query, values] = dataSource.driver.escapeQueryWithParameters(sql, parameters, {});
  return dataSource.query(query, values) as Promise<T[]>;
}

const HAS_OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * PostgreSQL gives Date objects (or, inside JSON, ISO text with an offset); SQLite gives
 * TypeORM's UTC text `YYYY-MM-DD HH:MM:SS.SSS`.
 */
export function toDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  if (value instanceof Date) return value;
  return new Date(HAS_OFFSET.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}

/** SQLite has no booleans: 0 and 1. */
export function toBoolean(value: boolean | number): boolean {
  return value === true || value === 1;
}

/** `simple-json` columns are text in both dialects. */
export function fromJson<T>(value: string | null): T | null {
  return value === null ? null : (JSON.parse(value) as T);
}

/** Splits a list for statements with one bind parameter per item. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
