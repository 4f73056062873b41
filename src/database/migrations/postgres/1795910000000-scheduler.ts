import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Reviewed from `typeorm migration:generate`; `scheduledFrom` takes each task's creation time. */
export class Scheduler1795910000000 implements MigrationInterface {
  name = 'Scheduler1795910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "project_locks" ("projectId" character varying(63) NOT NULL, "executionId" character varying(40) NOT NULL, "replicaId" character varying(100) NOT NULL, "expiresAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_4c8ff6d94d417bf92685c895cc1" PRIMARY KEY ("projectId"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "scheduler_replicas" ("id" character varying(100) NOT NULL, "hostname" character varying(255) NOT NULL, "pid" integer NOT NULL, "startedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "heartbeatAt" TIMESTAMP WITH TIME ZONE NOT NULL, "stoppedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_353b0b395f094c83d0458cc781d" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`ALTER TABLE "tasks" ADD "scheduledFrom" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`UPDATE "tasks" SET "scheduledFrom" = "createdAt"`);
    await queryRunner.query(`ALTER TABLE "tasks" ALTER COLUMN "scheduledFrom" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD "revision" integer NOT NULL DEFAULT '1'`);
    await queryRunner.query(`ALTER TABLE "executions" ADD "output" text`);
    await queryRunner.query(`ALTER TABLE "executions" ADD "replicaId" character varying(100)`);
    await queryRunner.query(`ALTER TABLE "executions" ADD "leaseExpiresAt" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "executions" ADD "cancelRequested" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "executions" ADD "touchedContainers" text`);
    await queryRunner.query(`CREATE INDEX "IDX_executions_status_lease" ON "executions" ("status", "leaseExpiresAt")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_executions_task_running" ON "executions" ("taskId") WHERE "status" = 'running'`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_executions_task_slot" ON "executions" ("taskId", "scheduledFor")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."UQ_executions_task_slot"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_executions_task_running"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_executions_status_lease"`);
    for (const column of ['touchedContainers', 'cancelRequested', 'leaseExpiresAt', 'replicaId', 'output']) {
      await queryRunner.query(`ALTER TABLE "executions" DROP COLUMN "${column}"`);
    }
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "revision"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "scheduledFrom"`);
    await queryRunner.query(`DROP TABLE "scheduler_replicas"`);
    await queryRunner.query(`DROP TABLE "project_locks"`);
  }
}
