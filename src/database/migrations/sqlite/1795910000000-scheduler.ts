import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reviewed from `typeorm migration:generate`, which rebuilt `tasks` and `executions` through
 * temporary tables: dropping `tasks` with foreign keys on would cascade into `executions`, so
 * columns are added in place instead. `scheduledFrom` takes each task's creation time.
 */
export class Scheduler1795910000000 implements MigrationInterface {
  name = 'Scheduler1795910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "project_locks" ("projectId" varchar(63) PRIMARY KEY NOT NULL, "executionId" varchar(40) NOT NULL, "replicaId" varchar(100) NOT NULL, "expiresAt" datetime NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE TABLE "scheduler_replicas" ("id" varchar(100) PRIMARY KEY NOT NULL, "hostname" varchar(255) NOT NULL, "pid" integer NOT NULL, "startedAt" datetime NOT NULL, "heartbeatAt" datetime NOT NULL, "stoppedAt" datetime)`,
    );
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "scheduledFrom" datetime NOT NULL DEFAULT ('1970-01-01 00:00:00.000')`);
    await queryRunner.query(`UPDATE "tasks" SET "scheduledFrom" = "createdAt"`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "revision" integer NOT NULL DEFAULT (1)`);
    await queryRunner.query(`ALTER TABLE "executions" ADD COLUMN "output" text`);
    await queryRunner.query(`ALTER TABLE "executions" ADD COLUMN "replicaId" varchar(100)`);
    await queryRunner.query(`ALTER TABLE "executions" ADD COLUMN "leaseExpiresAt" datetime`);
    await queryRunner.query(`ALTER TABLE "executions" ADD COLUMN "cancelRequested" boolean NOT NULL DEFAULT (0)`);
    await queryRunner.query(`ALTER TABLE "executions" ADD COLUMN "touchedContainers" text`);
    await queryRunner.query(`CREATE INDEX "IDX_executions_status_lease" ON "executions" ("status", "leaseExpiresAt")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_executions_task_running" ON "executions" ("taskId") WHERE "status" = 'running'`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_executions_task_slot" ON "executions" ("taskId", "scheduledFor")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "UQ_executions_task_slot"`);
    await queryRunner.query(`DROP INDEX "UQ_executions_task_running"`);
    await queryRunner.query(`DROP INDEX "IDX_executions_status_lease"`);
    for (const column of ['touchedContainers', 'cancelRequested', 'leaseExpiresAt', 'replicaId', 'output']) {
      await queryRunner.query(`ALTER TABLE "executions" DROP COLUMN "${column}"`);
    }
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "revision"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "scheduledFrom"`);
    await queryRunner.query(`DROP TABLE "scheduler_replicas"`);
    await queryRunner.query(`DROP TABLE "project_locks"`);
  }
}
