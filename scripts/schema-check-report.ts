// The schema check itself, modelled on `rover subgraph check`: compose the
// proposed subgraphs, diff the API schema against a base, and find the
// registered operations each breaking change would break. It reads nothing
// from disk or git: scripts/schema-check.ts gathers its inputs.
import { Supergraph } from '@apollo/federation-internals';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isScalarType,
  Kind,
  parse,
  Source,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import type { RegisteredOperation } from './operations.js';
import { compose, type ComposableSubgraph, type CompositionMessage, type SdlLocation } from './supergraph.js';

/** CheckSubgraph is one subgraph's SDL as the check sees it: its name, routing URL and file. */
export interface CheckSubgraph {
  name: string;
  url?: string;
  sdl: string;
  /** file names the SDL in reported locations, relative to the repository's root. */
  file: string;
}

/** CheckBase is what the proposed schema is compared with: subgraphs to compose, or a composed supergraph. */
export type CheckBase =
  | { kind: 'subgraphs'; description: string; subgraphs: CheckSubgraph[] }
  | { kind: 'supergraph'; description: string; file: string; sdl: string };

/** CheckInput is everything one check needs. */
export interface CheckInput {
  /** description says where the proposed schemas come from, for the report. */
  description: string;
  proposed: CheckSubgraph[];
  base: CheckBase;
  operations: RegisteredOperation[];
  /** strict fails on breaking changes that no registered operation uses, and on composition hints. */
  strict: boolean;
  /** notes are remarks about the inputs (a stale SDL file, a fallback base) carried into the report. */
  notes?: string[];
}

/** OperationUse is one place where a registered operation uses a schema coordinate. */
export interface OperationUse {
  operation: string;
  file: string;
  line: number;
  /** coordinate is the schema coordinate used there, such as `User.email` or `Query.users.first`. */
  coordinate: string;
}

/** ChangeLevel is how a change affects existing clients. */
export type ChangeLevel = 'breaking' | 'dangerous' | 'safe';

/** ReportedChange is one change of the API schema, where it is in the SDL and which operations it affects. */
export interface ReportedChange {
  level: ChangeLevel;
  /** type is @graphql-inspector/core's change type, such as FIELD_REMOVED. */
  type: string;
  message: string;
  /** path is the schema coordinate changed, such as `User.email`. */
  path?: string;
  /** locations are where the coordinate is defined in the proposed subgraphs, or was in the base when removed. */
  locations: SdlLocation[];
  /** locationsIn says whether `locations` are in the proposed subgraphs or, for what was removed, in the base. */
  locationsIn: 'proposed' | 'base';
  /** usedBy lists the registered operations that use what changed (for breaking and dangerous changes). */
  usedBy: OperationUse[];
  /** fails is true when this change makes the check fail. */
  fails: boolean;
}

/** BrokenOperation is a registered operation that does not validate against the proposed API schema. */
export interface BrokenOperation {
  operation: string;
  file: string;
  line: number;
  column: number;
  /** coordinate is the schema coordinate the failing part used in the base schema, when there is one. */
  coordinate?: string;
  message: string;
}

/** CheckReport is the outcome of one check, as printed by `--json`. */
export interface CheckReport {
  passed: boolean;
  strict: boolean;
  proposed: string;
  base: string;
  notes: string[];
  composition: { errors: CompositionMessage[]; hints: CompositionMessage[] };
  changes: ReportedChange[];
  operations: { checked: number; broken: BrokenOperation[] };
  /** failures says, one line each, why the check failed. */
  failures: string[];
}

/** apiSchemaOf builds the API schema (what clients see) from a supergraph SDL. */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/** composable names each subgraph's SDL by its file so that composition reports SDL places. */
function composable(subgraphs: CheckSubgraph[]): ComposableSubgraph[] {
  return subgraphs.map((s) => ({ name: s.name, url: s.url, sdl: s.sdl, file: s.file }));
}

/**
 * indexDefinitions maps each schema coordinate defined in an SDL to its places (the line of its name, not of its
 * description).
 */
function indexDefinitions(index: Map<string, SdlLocation[]>, sdl: string, file: string, subgraph?: string): void {
  let document: DocumentNode;
  try {
    document = parse(new Source(sdl, file));
  } catch {
    return;
  }
  const add = (coordinate: string, node: ASTNode) => {
    if (!node.loc) return;
    const at = { subgraph, file, line: node.loc.startToken.line, column: node.loc.startToken.column };
    index.set(coordinate, [...(index.get(coordinate) ?? []), at]);
  };
  for (const definition of document.definitions as readonly DefinitionNode[]) {
    if (!('name' in definition) || !definition.name || definition.kind === Kind.DIRECTIVE_DEFINITION) continue;
    const type = definition.name.value;
    add(type, definition.name);
    if ('fields' in definition) {
      for (const field of definition.fields ?? []) {
        add(`${type}.${field.name.value}`, field.name);
        if ('arguments' in field)
          for (const arg of field.arguments ?? []) add(`${type}.${field.name.value}.${arg.name.value}`, arg.name);
      }
    }
    if ('values' in definition)
      for (const value of definition.values ?? []) add(`${type}.${value.name.value}`, value.name);
  }
}

/** levelOf names @graphql-inspector/core's criticality the way the report does. */
function levelOf(change: Change): ChangeLevel {
  if (change.criticality.level === CriticalityLevel.Breaking) return 'breaking';
  if (change.criticality.level === CriticalityLevel.Dangerous) return 'dangerous';
  return 'safe';
}

/** OperationUsage is what one registered operation uses of a schema. */
interface OperationUsage {
  operation: RegisteredOperation;
  /** coordinates maps each coordinate used to the first place it is used. */
  coordinates: Map<string, OperationUse>;
  /** wholeTypes are input, enum and scalar types whose every part the operation may send or receive. */
  wholeTypes: Map<string, OperationUse>;
  /** byPosition maps `line:column` of each field, argument and variable to the coordinate it uses. */
  byPosition: Map<string, string>;
}

/** operationDocument is the document a frontend sends for an operation, with locations in its file. */
function operationDocument(op: RegisteredOperation): DocumentNode {
  return { kind: Kind.DOCUMENT, definitions: [op.definition, ...op.fragments] };
}

/** usageOf lists the schema coordinates an operation uses, read against the schema it was written for. */
function usageOf(schema: GraphQLSchema, op: RegisteredOperation): OperationUsage {
  const usage: OperationUsage = { operation: op, coordinates: new Map(), wholeTypes: new Map(), byPosition: new Map() };
  const typeInfo = new TypeInfo(schema);
  const use = (coordinate: string, node: ASTNode) => {
    const line = node.loc?.startToken.line ?? op.line;
    const position = `${line}:${node.loc?.startToken.column ?? 0}`;
    if (!usage.byPosition.has(position)) usage.byPosition.set(position, coordinate);
    if (!usage.coordinates.has(coordinate))
      usage.coordinates.set(coordinate, { operation: op.name, file: op.file, line, coordinate });
  };
  // Values of input types come from the client at run time, and enum and scalar values are received whole, so any part
  // of them counts as used.
  const useWhole = (type: GraphQLNamedType | undefined, node: ASTNode) => {
    if (!type || usage.wholeTypes.has(type.name)) return;
    if (!isInputObjectType(type) && !isEnumType(type) && !isScalarType(type)) return;
    usage.wholeTypes.set(type.name, {
      operation: op.name,
      file: op.file,
      line: node.loc?.startToken.line ?? op.line,
      coordinate: type.name,
    });
    if (isInputObjectType(type))
      for (const field of Object.values(type.getFields())) useWhole(getNamedType(field.type), node);
  };
  visit(
    operationDocument(op),
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        const root = schema.getRootType(node.operation);
        if (root) use(root.name, node);
      },
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent || node.name.value.startsWith('__')) return;
        use(`${parent.name}.${node.name.value}`, node);
        const returned = typeInfo.getType();
        if (returned) {
          use(getNamedType(returned).name, node);
          useWhole(getNamedType(returned), node);
        }
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        const argument = typeInfo.getArgument();
        if (!parent || !field || !argument) return;
        use(`${parent.name}.${field.name}.${node.name.value}`, node);
        useWhole(getNamedType(argument.type), node);
      },
      VariableDefinition(node) {
        const type = typeInfo.getInputType();
        if (type) {
          use(getNamedType(type).name, node);
          useWhole(getNamedType(type), node);
        }
      },
      InlineFragment(node) {
        if (node.typeCondition) use(node.typeCondition.name.value, node);
      },
      FragmentDefinition(node) {
        use(node.typeCondition.name.value, node);
      },
    }),
  );
  return usage;
}

/**
 * ARGUMENT_CHANGES_FOR_EVERY_CALLER are argument changes that can break a caller that does not pass the argument (it
 * became required).
 */
const ARGUMENT_CHANGES_FOR_EVERY_CALLER: ReadonlySet<string> = new Set([
  'FIELD_ARGUMENT_ADDED',
  'FIELD_ARGUMENT_TYPE_CHANGED',
]);

/** usesOf lists the operations that use what a change changed. */
function usesOf(change: Change, usages: OperationUsage[]): OperationUse[] {
  const path = change.path;
  if (!path) return [];
  const parts = path.split('.');
  const everyCaller = parts.length === 3 && ARGUMENT_CHANGES_FOR_EVERY_CALLER.has(change.type);
  const found: OperationUse[] = [];
  for (const usage of usages) {
    const use =
      usage.coordinates.get(path) ??
      usage.wholeTypes.get(parts[0]!) ??
      (everyCaller ? usage.coordinates.get(`${parts[0]}.${parts[1]}`) : undefined);
    if (use) found.push(use);
  }
  return found;
}

/** coordinateOf names the schema coordinate an error is about: a field or argument over a bare type name. */
function coordinateOf(
  locations: readonly { line: number; column: number }[],
  byPosition: Map<string, string>,
): string | undefined {
  const coordinates = locations.flatMap((l) => byPosition.get(`${l.line}:${l.column}`) ?? []);
  return coordinates.find((c) => c.includes('.')) ?? coordinates[0];
}

/** checkSchemas runs the check: composition, the classified change set, and the registered operations. */
export async function checkSchemas(input: CheckInput): Promise<CheckReport> {
  const report: CheckReport = {
    passed: false,
    strict: input.strict,
    proposed: input.description,
    base: input.base.description,
    notes: [...(input.notes ?? [])],
    composition: { errors: [], hints: [] },
    changes: [],
    operations: { checked: input.operations.length, broken: [] },
    failures: [],
  };
  const proposed = compose(composable(input.proposed));
  report.composition = { errors: proposed.errors, hints: proposed.hints };
  if (proposed.errors.length > 0 || !proposed.supergraphSdl) {
    report.failures.push(
      `the proposed subgraphs do not compose (${proposed.errors.length} error${proposed.errors.length === 1 ? '' : 's'})`,
    );
    return report;
  }
  if (input.strict && proposed.hints.length > 0) {
    report.failures.push(
      `${proposed.hints.length} composition hint${proposed.hints.length === 1 ? '' : 's'} (--strict)`,
    );
  }

  let baseSupergraph: string;
  if (input.base.kind === 'supergraph') {
    baseSupergraph = input.base.sdl;
  } else {
    const base = compose(composable(input.base.subgraphs));
    if (!base.supergraphSdl) {
      throw new Error(
        `the base (${input.base.description}) does not compose: ${base.errors[0]?.message ?? 'no supergraph'}`,
      );
    }
    baseSupergraph = base.supergraphSdl;
  }
  const baseSchema = apiSchemaOf(baseSupergraph);
  const proposedSchema = apiSchemaOf(proposed.supergraphSdl);

  const proposedIndex = new Map<string, SdlLocation[]>();
  for (const s of input.proposed) indexDefinitions(proposedIndex, s.sdl, s.file, s.name);
  const baseIndex = new Map<string, SdlLocation[]>();
  if (input.base.kind === 'supergraph') indexDefinitions(baseIndex, input.base.sdl, input.base.file);
  else for (const s of input.base.subgraphs) indexDefinitions(baseIndex, s.sdl, s.file, s.name);

  const usages = input.operations.map((op) => usageOf(baseSchema, op));
  let unusedBreaking = 0;
  let usedBreaking = 0;
  for (const change of await diff(baseSchema, proposedSchema)) {
    const level = levelOf(change);
    const usedBy = level === 'safe' ? [] : usesOf(change, usages);
    const fails = level === 'breaking' && (usedBy.length > 0 || input.strict);
    if (level === 'breaking') {
      if (usedBy.length > 0) usedBreaking++;
      else unusedBreaking++;
    }
    const proposedAt = change.path ? proposedIndex.get(change.path) : undefined;
    const locations = proposedAt ?? (change.path ? baseIndex.get(change.path) : undefined) ?? [];
    report.changes.push({
      level,
      type: change.type,
      message: change.message,
      path: change.path,
      locations,
      locationsIn: proposedAt ? 'proposed' : 'base',
      usedBy,
      fails,
    });
  }
  const order: Record<ChangeLevel, number> = { breaking: 0, dangerous: 1, safe: 2 };
  report.changes.sort((a, b) => order[a.level] - order[b.level]);
  if (usedBreaking > 0) {
    report.failures.push(
      `${usedBreaking} breaking change${usedBreaking === 1 ? '' : 's'} used by registered operations`,
    );
  }
  if (input.strict && unusedBreaking > 0) {
    report.failures.push(
      `${unusedBreaking} breaking change${unusedBreaking === 1 ? '' : 's'} not used by any registered operation (--strict)`,
    );
  }

  for (const usage of usages) {
    const op = usage.operation;
    for (const error of validate(proposedSchema, operationDocument(op))) {
      const at = error.locations?.[0] ?? { line: op.line, column: 1 };
      report.operations.broken.push({
        operation: op.name,
        file: op.file,
        line: at.line,
        column: at.column,
        coordinate: coordinateOf(error.locations ?? [], usage.byPosition),
        message: error.message,
      });
    }
  }
  const brokenOperations = new Set(report.operations.broken.map((b) => b.operation)).size;
  if (brokenOperations > 0) {
    report.failures.push(
      `${brokenOperations} registered operation${brokenOperations === 1 ? '' : 's'} do${brokenOperations === 1 ? 'es' : ''} not validate against the proposed schema`,
    );
  }
  report.passed = report.failures.length === 0;
  return report;
}

/** at prints an SDL place as `file:line (subgraph)`. */
function at(location: SdlLocation): string {
  return `${location.file}:${location.line}${location.subgraph ? ` (${location.subgraph})` : ''}`;
}

/** SHOWN_USES is how many operations the text report lists under one change. */
const SHOWN_USES = 5;

/** formatReport prints a report as readable text, in the order a schema owner acts on it. */
export function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  lines.push(`Schema check of ${report.proposed}`, `against ${report.base}${report.strict ? ' (--strict)' : ''}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push('');

  const { errors, hints } = report.composition;
  if (errors.length > 0) {
    lines.push(
      `error: encountered ${errors.length} build error${errors.length === 1 ? '' : 's'} while trying to build a supergraph.`,
      '',
      'Caused by:',
    );
  } else {
    lines.push(`Composition: ok${hints.length > 0 ? `, ${hints.length} hint${hints.length === 1 ? '' : 's'}` : ''}`);
  }
  for (const e of errors) {
    lines.push(`    ${e.code}: ${e.message}`);
    for (const l of e.locations) lines.push(`        at ${at(l)}`);
  }
  for (const h of hints) {
    lines.push(`    HINT ${h.code}: ${h.message}`);
    for (const l of h.locations) lines.push(`        at ${at(l)}`);
  }

  if (errors.length === 0) {
    const count = (level: ChangeLevel) => report.changes.filter((c) => c.level === level).length;
    lines.push(
      '',
      `Changes to the API schema: ${count('breaking')} breaking, ${count('dangerous')} dangerous, ${count('safe')} safe`,
    );
    for (const change of report.changes) {
      let label: string = change.level.toUpperCase();
      if (change.level === 'breaking' && change.usedBy.length === 0)
        label = 'BREAKING, not used by any registered operation';
      const where = change.locations.map(at).join(', ');
      if (change.level === 'safe') {
        lines.push(`  ✓ SAFE: ${change.message}${where ? `  ${where}` : ''}`);
        continue;
      }
      lines.push(`  ${change.fails ? '✗' : '!'} ${label}: ${change.message}`);
      const was = change.locationsIn === 'base' && where ? 'was at ' : '';
      if (change.path || where) lines.push(`      ${change.path ?? ''}${where ? `  ${was}${where}` : ''}`);
      for (const use of change.usedBy.slice(0, SHOWN_USES))
        lines.push(`      used by ${use.operation} (${use.file}:${use.line}, ${use.coordinate})`);
      if (change.usedBy.length > SHOWN_USES)
        lines.push(`      and ${change.usedBy.length - SHOWN_USES} more registered operations (--json lists them all)`);
    }
    const broken = report.operations.broken;
    lines.push(
      '',
      `Registered operations: ${report.operations.checked} checked, ${new Set(broken.map((b) => b.operation)).size} broken`,
    );
    for (const b of broken) {
      lines.push(
        `  ✗ ${b.operation}  ${b.file}:${b.line}:${b.column}${b.coordinate ? `  ${b.coordinate}` : ''}`,
        `      ${b.message}`,
      );
    }
  }
  lines.push('');
  if (report.passed) lines.push('PASS');
  else for (const failure of report.failures) lines.push(`FAIL: ${failure}`);
  return lines.join('\n') + '\n';
}
