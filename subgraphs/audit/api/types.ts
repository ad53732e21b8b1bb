import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import { connectionTypes } from '../../../foundation/graphql-connection.js';
import { JSONObjectScalar } from '../../../foundation/scalars.js';

/** UserRef is the `User` entity as audit knows it: by key only, resolved by the user subgraph. */
@ObjectType('User')
@Directive('@key(fields: "id", resolvable: false)')
export class UserRef {
  @Field(() => ID)
  id!: string;
}

/** AuditEventType is the GraphQL `AuditEvent` entity, owned by audit. */
@ObjectType('AuditEvent', { description: 'One security-relevant action: who did what, to what, when, and from where.' })
@Directive('@key(fields: "id")')
export class AuditEventType {
  @Field(() => ID)
  id!: string;

  @Field()
  action!: string;

  @Field()
  occurredAt!: Date;

  @Field({ description: 'The subgraph where the action happened.' })
  subgraph!: string;

  @Field(() => String, { nullable: true })
  targetType!: string | null;

  @Field(() => ID, { nullable: true })
  targetId!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  traceId!: string | null;

  @Field(() => JSONObjectScalar)
  metadata!: Record<string, unknown>;
}

/** AuditEventFilterInput is the contract's `AuditEventFilter`. */
@InputType('AuditEventFilter')
export class AuditEventFilterInput {
  @Field(() => ID, { nullable: true })
  actorId?: string | null;

  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => String, { nullable: true })
  targetType?: string | null;

  @Field(() => ID, { nullable: true })
  targetId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Events at or after this instant.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Events before this instant.' })
  to?: Date | null;
}

/** AuditEventConnection is the Relay connection of audit events. */
export const { Connection: AuditEventConnection, Edge: AuditEventEdge } = connectionTypes('AuditEvent', AuditEventType);
