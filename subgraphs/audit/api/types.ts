import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import { connectionTypes } from '../../../foundation/graphql/connection.js';
import { JSONObjectScalar } from '../../../foundation/graphql/scalars.js';

/** UserRef is the `User` entity as audit knows it: by key only, resolved by the user subgraph. */
@ObjectType('User', { description: 'A person with an account: a customer, a provider or an admin.' })
@Directive('@key(fields: "id", resolvable: false)')
export class UserRef {
  @Field(() => ID, { description: "The user's unique id." })
  id!: string;
}

/** AuditEventType is the GraphQL `AuditEvent` entity, owned by audit. */
@ObjectType('AuditEvent', { description: 'One security-relevant action: who did what, to what, when, and from where.' })
@Directive('@key(fields: "id")')
export class AuditEventType {
  @Field(() => ID, { description: "The event's unique id." })
  id!: string;

  @Field({ description: 'What happened, such as auth.login_succeeded.' })
  action!: string;

  @Field({ description: 'When it happened.' })
  occurredAt!: Date;

  @Field({ description: 'The subgraph where the action happened.' })
  subgraph!: string;

  @Field(() => String, { nullable: true, description: 'The kind of object acted on, such as Order.' })
  targetType!: string | null;

  @Field(() => ID, { nullable: true, description: 'The id of the object acted on.' })
  targetId!: string | null;

  @Field(() => String, { nullable: true, description: "The caller's address." })
  ip!: string | null;

  @Field(() => String, { nullable: true, description: "The caller's User-Agent." })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: 'The trace of the request, to find it in the logs.' })
  traceId!: string | null;

  @Field(() => JSONObjectScalar, { description: 'Details of the action, as a JSON object.' })
  metadata!: Record<string, unknown>;
}

/** AuditEventFilterInput is the contract's `AuditEventFilter`. */
@InputType('AuditEventFilter', { description: 'Which audit events to list; every field given must match.' })
export class AuditEventFilterInput {
  @Field(() => ID, { nullable: true, description: 'Events by this user.' })
  actorId?: string | null;

  @Field(() => String, { nullable: true, description: 'Events with this action, such as auth.login_failed.' })
  action?: string | null;

  @Field(() => String, { nullable: true, description: 'Events on this kind of object.' })
  targetType?: string | null;

  @Field(() => ID, { nullable: true, description: 'Events on this object.' })
  targetId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Events at or after this instant.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Events before this instant.' })
  to?: Date | null;
}

/** AuditEventConnection is the Relay connection of audit events. */
export const { Connection: AuditEventConnection, Edge: AuditEventEdge } = connectionTypes('AuditEvent', AuditEventType);
