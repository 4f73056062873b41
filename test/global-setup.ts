import { Client } from 'pg';

/**
 * `E2E_DATABASE=postgres` runs the end-to-end suite against a fresh PostgreSQL database made for
 * this run (and dropped after it); otherwise each app under test gets its own SQLite file.
 */
const adminUrl = process.env.E2E_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.E2E_DATABASE !== 'postgres') {
    delete process.env.DATABASE_URL;
    return undefined;
  }
  const database = `tasks_e2e_${Date.now()}_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`E2E_DATABASE=postgres but PostgreSQL is not reachable at ${adminUrl}: ${String(error)}`);
  }
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  // Inherited by the test workers, which start after this.
  process.env.DATABASE_URL = url.toString();

  return async () => {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await client.end();
  };
}
