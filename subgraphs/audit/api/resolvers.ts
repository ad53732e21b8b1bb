import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { InvalidInputError } from '../../../foundation/core/errors.js';
import { toConnection, type ConnectionShape } from '../../../foundation/graphql/connection.js';
import { parseId } from '../../../foundation/core/ids.js';
import { decodeTimeCursor, encodeTimeCursor, pageSize } from '../../../foundation/core/pagination.js';
import type { AuditEvent, AuditFilter, AuditLog } from '../business/audit-log.js';
import type { AuditContext } from './context.js';
import { AuditEventConnection, AuditEventFilterInput, AuditEventType, UserRef } from './types.js';

const MAX_FILTER_TEXT = 100;

function filterText(value: string | null | undefined, field: string): string | undefined {
  if (value == null) return undefined;
  if (value.length === 0 || value.length > MAX_FILTER_TEXT) {
    throw new InvalidInputError(field, `${field} must be 1 to ${MAX_FILTER_TEXT} characters`);
  }
  return value;
}

/** toFilter validates the GraphQL filter and converts it to the business one. */
function toFilter(input: AuditEventFilterInput | null | undefined): AuditFilter {
  if (!input) return {};
  const filter: AuditFilter = {
    actorId: input.actorId == null ? undefined : parseId(input.actorId, 'filter.actorId'),
    action: filterText(input.action, 'filter.action'),
    targetType: filterText(input.targetType, 'filter.targetType'),
    targetId: filterText(input.targetId, 'filter.targetId'),
    from: input.from ?? undefined,
    to: input.to ?? undefined,
  };
  if (filter.from && filter.to && filter.from > filter.to)
    throw new InvalidInputError('filter.to', 'filter.to is before filter.from');
  return filter;
}

/** cursorOf is an event's opaque position in the log. */
function cursorOf(event: AuditEvent): string {
  return encodeTimeCursor(event.occurredAt, event.id);
}

/** AuditEventResolver serves the audit log. */
@Resolver(() => AuditEventType)
export class AuditEventResolver {
  constructor(private readonly log: AuditLog) {}

  @Query(() => AuditEventConnection, { description: 'The audit log, newest first.' })
  async auditEvents(
    @Arg('filter', () => AuditEventFilterInput, { nullable: true }) filter: AuditEventFilterInput | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ConnectionShape<AuditEvent>> {
    const position = decodeTimeCursor(after, 'after');
    const page = await this.log.events(
      toFilter(filter),
      pageSize(first, 'first'),
      position && { occurredAt: position.at, id: position.id },
    );
    return toConnection(page, cursorOf);
  }

  @FieldResolver(() => UserRef, { nullable: true, description: 'Who acted; null for an anonymous caller.' })
  actor(@Root() event: AuditEvent, @Ctx() _ctx: AuditContext): UserRef | null {
    return event.actorId ? { id: event.actorId } : null;
  }
}
