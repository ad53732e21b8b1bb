import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

/** DateTimeScalar is the contract's `DateTime`: an ISO 8601 string in UTC, a Date in resolvers. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant as an ISO 8601 string in UTC, such as 2026-11-22T10:00:00.000Z.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    return parseDateTime(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO 8601 string', { nodes: ast });
    return parseDateTime(ast.value);
  },
});

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_8601.test(value)) {
    throw new GraphQLError('DateTime must be an ISO 8601 string with a time zone, such as 2026-11-22T10:00:00Z');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime is not a valid instant');
  return date;
}

/** JSONObjectScalar is a JSON object (never an array or a bare value), such as an audit event's metadata. */
export const JSONObjectScalar = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  description: 'A JSON object.',
  serialize(value) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new GraphQLError('JSONObject cannot represent a non-object value');
    }
    return value as Record<string, unknown>;
  },
  parseValue(value) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new GraphQLError('JSONObject must be an object');
    }
    return value as Record<string, unknown>;
  },
  parseLiteral(ast, variables) {
    if (ast.kind !== Kind.OBJECT) throw new GraphQLError('JSONObject must be an object', { nodes: ast });
    return literalValue(ast, variables) as Record<string, unknown>;
  },
});

function literalValue(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalValue(f.value, variables)]));
    case Kind.LIST:
      return ast.values.map((v) => literalValue(v, variables));
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.NULL:
      return null;
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}
