import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Reviewed from `typeorm migration:generate`. */
export class Backups1795920000000 implements MigrationInterface {
  name = 'Backups1795920000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "backups" ("id" varchar(40) PRIMARY KEY NOT NULL, "projectId" varchar(63) NOT NULL, "taskId" varchar(40), "executionId" varchar(40), "createdAt" datetime NOT NULL, "type" varchar(16) NOT NULL, "destination" varchar(8) NOT NULL, "location" varchar(1000) NOT NULL, "storageKey" varchar(1000) NOT NULL, "size" bigint NOT NULL, "sha256" varchar(64) NOT NULL, "encrypted" boolean NOT NULL, "volumes" text NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_backups_project_createdAt" ON "backups" ("projectId", "createdAt")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_backups_project_createdAt"`);
    await queryRunner.query(`DROP TABLE "backups"`);
  }
}
