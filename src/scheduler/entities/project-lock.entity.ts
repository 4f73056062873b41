import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TIMESTAMP_COLUMN_TYPE } from '../../database/dialect';

/** Held by the one container-changing run of a project; a lock past its expiry may be taken over. */
@Entity('project_locks')
export class ProjectLock {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  projectId: string;

  @Column({ type: 'varchar', length: 40 })
  executionId: string;

  @Column({ type: 'varchar', length: 100 })
  replicaId: string;

  @Column({ type: TIMESTAMP_COLUMN_TYPE })
  expiresAt: Date;
}
