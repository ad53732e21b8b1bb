import { Column, Entity, PrimaryColumn } from 'typeorm';

/** AuditEventRow is a row of the append-only `audit_events`. */
@Entity({ name: 'audit_events' })
export class AuditEventRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  action!: string;

  @Column({ type: 'timestamptz', name: 'occurred_at', precision: 3 })
  occurredAt!: Date;

  @Column('text')
  subgraph!: string;

  @Column('uuid', { name: 'actor_id', nullable: true })
  actorId!: string | null;

  @Column('text', { name: 'target_type', nullable: true })
  targetType!: string | null;

  @Column('text', { name: 'target_id', nullable: true })
  targetId!: string | null;

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column('text', { name: 'trace_id', nullable: true })
  traceId!: string | null;

  @Column('jsonb')
  metadata!: Record<string, unknown>;

  @Column('bigint', { name: 'chain_seq' })
  chainSeq!: string;

  @Column('text', { name: 'prev_hash' })
  prevHash!: string;

  @Column('text')
  hash!: string;
}
