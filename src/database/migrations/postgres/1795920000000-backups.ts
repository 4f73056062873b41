import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Reviewed from `typeorm migration:generate`. */
export class Backups1795920000000 implements MigrationInterface {
  name = 'Backups1795920000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "backups" ("id" character varying(40) NOT NULL, "projectId" character varying(63) NOT NULL, "taskId" character varying(40), "executionId" character varying(40), "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "type" character varying(16) NOT NULL, "destination" character varying(8) NOT NULL, "location" character varying(1000) NOT NULL, "storageKey" character varying(1000) NOT NULL, "size" bigint NOT NULL, "sha256" character varying(64) NOT NULL, "encrypted" boolean NOT NULL, "volumes" text NOT NULL, CONSTRAINT "PK_backups_id" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_backups_project_createdAt" ON "backups" ("projectId", "createdAt")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_backups_project_createdAt"`);
    await queryRunner.query(`DROP TABLE "backups"`);
  }
}
