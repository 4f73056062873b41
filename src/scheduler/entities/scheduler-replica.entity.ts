import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TIMESTAMP_COLUMN_TYPE } from '../../database/dialect';

/** One running (or once running) instance of the service, with its scheduler's heartbeat. */
@Entity('scheduler_replicas')
export class SchedulerReplica {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  hostname: string;

  @Column({ type: 'integer' })
  pid: number;

  @Column({ type: TIMESTAMP_COLUMN_TYPE })
  startedAt: Date;

  @Column({ type: TIMESTAMP_COLUMN_TYPE })
  heartbeatAt: Date;

  @Column({ type: TIMESTAMP_COLUMN_TYPE, nullable: true })
  stoppedAt: Date | null;
}
