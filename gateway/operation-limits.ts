import {
  GraphQLError,
  Kind,
  getNamedType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  parse,
  specifiedRules,
  validate,
  NoSchemaIntrospectionCustomRule,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * OperationLimits bound every document a client sends, checked before any
 * subgraph is asked anything.
 */
export interface OperationLimits {
  /** maxTokens stops the lexer: a longer document is never fully parsed. */
  maxTokens: number;
  /** maxDepth is the deepest nesting of fields, fragments expanded. */
  maxDepth: number;
  /** maxAliases is the number of aliased fields in an operation, fragments expanded. */
  maxAliases: number;
  /** maxDirectives is the number of directives written in the document. */
  maxDirectives: number;
  /** maxRootFields is the number of distinct root fields of an operation. */
  maxRootFields: number;
  /** maxCost is the most objects an operation may ask for, lists multiplied by their page size. */
  maxCost: number;
  /** defaultListSize is what a list without `first`/`last` counts for: the contract's default page size. */
  defaultListSize: number;
  /**
   * maxListSize is the largest `first`/`last` the contract accepts; larger values are refused by the subgraph, and
   * count as this.
   */
  maxListSize: number;
  /** maxErrors caps the validation errors returned for one document. */
  maxErrors: number;
}

/** LimitName names one limit, as `extensions.limit` of OPERATION_TOO_COMPLEX says it. */
export type LimitName = 'tokens' | 'depth' | 'aliases' | 'directives' | 'rootFields' | 'cost';

/** OperationMeasures are the figures of one document that the limits bound. */
export interface OperationMeasures {
  depth: number;
  aliases: number;
  directives: number;
  rootFields: number;
  cost: number;
}

/** operationTooComplex is the one error a document over a limit gets: it names the limit and its value. */
export function operationTooComplex(limit: LimitName, max: number, found?: number): GraphQLError {
  const what = found === undefined ? '' : ` (this one has ${found})`;
  return new GraphQLError(`Operation too complex: over the ${limit} limit of ${max}${what}`, {
    extensions: { code: 'OPERATION_TOO_COMPLEX', limit, max },
  });
}

/** NAME_OR_NUMBER are the characters of names and numbers (and `...`), each run of which is at least one token. */
const NAME_OR_NUMBER = new Uint8Array(128);
for (const c of '_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-')
  NAME_OR_NUMBER[c.charCodeAt(0)] = 1;
/** PUNCTUATORS are GraphQL's one-character punctuators. */
const PUNCTUATORS = new Uint8Array(128);
for (const c of '!$&():=@[]{}|') PUNCTUATORS[c.charCodeAt(0)] = 1;

/**
 * surelyOverTokens tells, without allocating, whether a document has more
 * than max tokens, so that a long hostile document is refused before
 * graphql's parser builds (and drops) thousands of tokens and nodes for it.
 * It never counts more tokens than there are (a run of name or number
 * characters counts once, a string once), so graphql's own `maxTokens` stays
 * the exact limit for what it lets through.
 */
export function surelyOverTokens(text: string, max: number): boolean {
  let count = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x23) {
      // A comment runs to the end of the line.
      while (i < n && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22) {
      count++;
      if (text.startsWith('"""', i)) {
        const end = text.indexOf('"""', i + 3);
        i = end < 0 ? n : end + 3;
        // An escaped \""" inside a block string ends nothing: it undercounts at worst.
        continue;
      }
      i++;
      while (i < n && text.charCodeAt(i) !== 0x22 && text.charCodeAt(i) !== 0x0a)
        i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      i++;
      continue;
    } else if (c < 128 && NAME_OR_NUMBER[c]) {
      count++;
      while (i < n && text.charCodeAt(i) < 128 && NAME_OR_NUMBER[text.charCodeAt(i)]) i++;
      if (count > max) return true;
      continue;
    } else if (c < 128 && PUNCTUATORS[c]) {
      count++;
    }
    if (count > max) return true;
    i++;
  }
  return count > max;
}

/** isTokenLimitError recognises graphql's error for a document over `maxTokens`. */
export function isTokenLimitError(error: { message: string }): boolean {
  return /Document contains more th(?:at|an) \d+ tokens/.test(error.message);
}

const SUGGESTION = /\s*Did you mean .*\?$/s;

/** withoutSuggestions drops graphql's "Did you mean …?" hints, which tell a stranger the schema's names. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

/** countDirectives counts every directive written in a document. */
function countDirectives(document: DocumentNode): number {
  let count = 0;
  const visitNode = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visitNode(child);
      return;
    }
    const record = node as Record<string, unknown>;
    if (record.kind === Kind.DIRECTIVE) count++;
    for (const key of ['definitions', 'selectionSet', 'selections', 'directives', 'variableDefinitions']) {
      if (key in record) visitNode(record[key]);
    }
  };
  visitNode(document);
  return count;
}

/** isList tells whether a field's type is a list. */
function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/**
 * measureOperation computes an operation's depth, aliases, root fields and
 * cost in one pass, each fragment measured once (memoised by name), so a
 * document that spreads fragments into fragments costs linear time to
 * measure however much it would expand to.
 *
 * Cost counts the objects an operation may return, the way GitHub's node
 * limit does: an object field is 1 plus its children; a list field multiplies
 * 1 plus its children by its `first` or `last` argument or, without one, by the
 * default page size; the lists inside a connection (`edges`) count once,
 * since the connection's own `first` already multiplied them. Scalars are free.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: Pick<OperationLimits, 'defaultListSize' | 'maxListSize'>,
): Omit<OperationMeasures, 'directives'> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, { depth: number; aliases: number; cost: number }>();
  const inProgress = new Set<string>();

  const multiplier = (field: GraphQLField<unknown, unknown>, node: FieldNode, parent: GraphQLCompositeType): number => {
    for (const name of ['first', 'last']) {
      const argNode = node.arguments?.find((a) => a.name.value === name);
      const def = field.args.find((a) => a.name === name);
      if (!def) continue;
      let value: unknown = argNode ? valueFromAST(argNode.value, def.type, variables) : undefined;
      if (value === undefined || value === null) value = def.defaultValue;
      if (typeof value === 'number' && Number.isFinite(value)) return Math.min(Math.max(value, 0), limits.maxListSize);
    }
    if (parent.name.endsWith('Connection')) return 1;
    if (parent.name.startsWith('__')) return INTROSPECTION_LIST_SIZE;
    const named = getNamedType(field.type);
    if (isList(field.type) || named.name.endsWith('Connection')) return limits.defaultListSize;
    return 1;
  };

  const walk = (
    set: SelectionSetNode,
    parent: GraphQLCompositeType,
  ): { depth: number; aliases: number; cost: number } => {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) aliases++;
        const name = selection.name.value;
        const fields = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields() : {};
        const field: GraphQLField<unknown, unknown> | undefined = fields[name];
        if (!selection.selectionSet) {
          depth = Math.max(depth, 1);
          continue;
        }
        // Introspection and unknown fields are measured against the types they name when known; validation refuses
        // unknown ones.
        const childType = field ? getNamedType(field.type) : introspectionType(schema, name);
        const child =
          childType && !isLeafType(childType)
            ? walk(selection.selectionSet, childType as GraphQLCompositeType)
            : walk(selection.selectionSet, parent);
        // A type reference's ofType chain is as long as its wrappers (a few); counting it would make every
        // introspection look deep.
        depth = Math.max(depth, (name === 'ofType' ? 0 : 1) + child.depth);
        aliases += child.aliases;
        const listy = field
          ? isList(field.type) || getNamedType(field.type).name.endsWith('Connection')
          : isIntrospectionList(name);
        const times = !listy ? 1 : field ? multiplier(field, selection, parent) : INTROSPECTION_LIST_SIZE;
        cost += times * (1 + child.cost);
        continue;
      }
      let inner: { depth: number; aliases: number; cost: number };
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typed = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        inner = walk(selection.selectionSet, (typed && !isLeafType(typed) ? typed : parent) as GraphQLCompositeType);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || inProgress.has(name)) continue; // validation refuses unknown and cyclic fragments
        let found = memo.get(name);
        if (!found) {
          inProgress.add(name);
          const typed = schema.getType(fragment.typeCondition.name.value);
          found = walk(fragment.selectionSet, (typed && !isLeafType(typed) ? typed : parent) as GraphQLCompositeType);
          inProgress.delete(name);
          memo.set(name, found);
        }
        inner = found;
      }
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
      cost += inner.cost;
    }
    return { depth, aliases, cost };
  };

  const rootType =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  const root = rootType ? walk(operation.selectionSet, rootType) : { depth: 0, aliases: 0, cost: 0 };
  return { ...root, rootFields: rootFieldCount(operation.selectionSet, fragments) };
}

/**
 * INTROSPECTION_LIST_SIZE is what an introspection list (types, fields, args…) counts for: about the size of the
 * schema's lists.
 */
const INTROSPECTION_LIST_SIZE = 10;

/** introspectionType is the type an introspection field returns. */
function introspectionType(schema: GraphQLSchema, field: string): GraphQLCompositeType | undefined {
  const name = {
    __schema: '__Schema',
    __type: '__Type',
    types: '__Type',
    fields: '__Field',
    args: '__InputValue',
    type: '__Type',
    ofType: '__Type',
  }[field];
  const type = name ? schema.getType(name) : undefined;
  return type && !isLeafType(type) ? (type as GraphQLCompositeType) : undefined;
}

function isIntrospectionList(field: string): boolean {
  return ['types', 'fields', 'args', 'inputFields', 'interfaces', 'possibleTypes', 'enumValues', 'directives'].includes(
    field,
  );
}

/** rootFieldCount counts the distinct response keys at the top of an operation, fragments expanded once each. */
function rootFieldCount(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): number {
  const keys = new Set<string>();
  const seen = new Set<string>();
  const collect = (s: SelectionSetNode): void => {
    for (const selection of s.selections) {
      if (selection.kind === Kind.FIELD) keys.add((selection.alias ?? selection.name).value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(set);
  return keys.size;
}

/** measureDocument measures every operation of a document and gives the largest figure of each. */
export function measureDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  limits: Pick<OperationLimits, 'defaultListSize' | 'maxListSize'>,
): OperationMeasures {
  const out: OperationMeasures = {
    depth: 0,
    aliases: 0,
    directives: countDirectives(document),
    rootFields: 0,
    cost: 0,
  };
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    const m = measureOperation(schema, document, d, variables, limits);
    out.depth = Math.max(out.depth, m.depth);
    out.aliases = Math.max(out.aliases, m.aliases);
    out.rootFields = Math.max(out.rootFields, m.rootFields);
    out.cost = Math.max(out.cost, m.cost);
  }
  return out;
}

/** CheckedDocument is a document that passed: parsed, within the limits, and valid against the schema. */
export interface CheckedDocument {
  document: DocumentNode;
  measures: OperationMeasures;
}

/**
 * DocumentRefusal is why a document will not run: one error over a limit, or a capped list of parse or validation
 * errors.
 */
export interface DocumentRefusal {
  errors: GraphQLError[];
}

/**
 * DocumentChecker parses, limits and validates client documents, the same
 * way for HTTP and the socket: parse stops at the token limit; one
 * OPERATION_TOO_COMPLEX error names the first limit passed; validation runs
 * only on documents within the limits and returns at most maxErrors errors,
 * each with its code and, in production, without suggestions. Documents that
 * passed are remembered by their text, so a frontend's repeated operation is
 * checked once.
 */
export class DocumentChecker {
  private readonly passed = new Map<string, PassedDocument>();
  private readonly rules;

  constructor(
    private readonly schema: GraphQLSchema,
    readonly limits: OperationLimits,
    private readonly options: { introspection: boolean; suggestions: boolean; cacheSize?: number },
  ) {
    this.rules = options.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  }

  /** check gives the parsed document or why it is refused. Variables size the lists whose `first` is a variable. */
  check(text: string, variables: Record<string, unknown> = {}): CheckedDocument | DocumentRefusal {
    const known = this.passed.get(text);
    if (known) {
      // A document that passed is measured again only for list sizes it has not been measured with.
      const key = sizingKey(known.sizing, variables);
      let measures = key === undefined ? undefined : known.measures.get(key);
      if (!measures) {
        measures = measureDocument(this.schema, known.document, variables, this.limits);
        if (key !== undefined && known.measures.size < MEASURES_PER_DOCUMENT) known.measures.set(key, measures);
      }
      const over = this.overLimit(measures);
      if (over) return { errors: [over] };
      return { document: known.document, measures };
    }
    if (surelyOverTokens(text, this.limits.maxTokens))
      return { errors: [operationTooComplex('tokens', this.limits.maxTokens)] };
    let document: DocumentNode;
    try {
      document = parse(text, { maxTokens: this.limits.maxTokens, noLocation: false });
    } catch (err) {
      const error = err as GraphQLError;
      if (isTokenLimitError(error)) return { errors: [operationTooComplex('tokens', this.limits.maxTokens)] };
      return { errors: [this.coded(error, 'GRAPHQL_PARSE_FAILED')] };
    }
    const measures = measureDocument(this.schema, document, variables, this.limits);
    const over = this.overLimit(measures);
    if (over) return { errors: [over] };
    const errors = validate(this.schema, document, this.rules, { maxErrors: this.limits.maxErrors });
    if (errors.length > 0)
      return {
        errors: errors.slice(0, this.limits.maxErrors).map((e) => this.coded(e, 'GRAPHQL_VALIDATION_FAILED')),
      };
    if (this.passed.size >= (this.options.cacheSize ?? 1000)) this.passed.delete(this.passed.keys().next().value!);
    const sizing = sizingVariables(document);
    const key = sizingKey(sizing, variables);
    this.passed.set(text, { document, sizing, measures: new Map(key === undefined ? [] : [[key, measures]]) });
    return { document, measures };
  }

  /** overLimit names the first limit the measures pass, as the error to send. */
  overLimit(m: OperationMeasures): GraphQLError | undefined {
    const l = this.limits;
    if (m.depth > l.maxDepth) return operationTooComplex('depth', l.maxDepth, m.depth);
    if (m.aliases > l.maxAliases) return operationTooComplex('aliases', l.maxAliases, m.aliases);
    if (m.directives > l.maxDirectives) return operationTooComplex('directives', l.maxDirectives, m.directives);
    if (m.rootFields > l.maxRootFields) return operationTooComplex('rootFields', l.maxRootFields, m.rootFields);
    if (m.cost > l.maxCost) return operationTooComplex('cost', l.maxCost, m.cost);
    return undefined;
  }

  private coded(error: GraphQLError, code: string): GraphQLError {
    const message = this.options.suggestions ? error.message : withoutSuggestions(error.message);
    return new GraphQLError(message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      extensions: { code },
    });
  }
}

/** PassedDocument is a document that parsed and validated, with its measures per list size asked. */
interface PassedDocument {
  document: DocumentNode;
  /** sizing names the variables that give a `first` or `last` argument: the only inputs of its measures. */
  sizing: readonly string[];
  /** measures by the sizing variables' values (sizingKey); at most MEASURES_PER_DOCUMENT of them. */
  measures: Map<string, OperationMeasures>;
}

/** MEASURES_PER_DOCUMENT bounds the page sizes kept per document: past it, each request is measured again. */
const MEASURES_PER_DOCUMENT = 16;

/**
 * sizingVariables lists the variables a document passes to `first` or `last`, in fragments too: measureOperation
 * reads no other variable, so equal values of these give equal measures.
 */
export function sizingVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const visitSet = (set: SelectionSetNode | undefined): void => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD)
        for (const arg of selection.arguments ?? [])
          if ((arg.name.value === 'first' || arg.name.value === 'last') && arg.value.kind === Kind.VARIABLE)
            names.add(arg.value.name.value);
      if (selection.kind !== Kind.FRAGMENT_SPREAD) visitSet(selection.selectionSet);
    }
  };
  for (const d of document.definitions)
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) visitSet(d.selectionSet);
  return [...names];
}

/**
 * sizingKey names the values of the sizing variables, or is undefined when one is neither a number, null nor absent
 * (such a request is measured every time; validation or the subgraph refuses it).
 */
function sizingKey(sizing: readonly string[], variables: Record<string, unknown>): string | undefined {
  let key = '';
  for (const name of sizing) {
    const value = variables[name];
    if (value !== undefined && value !== null && typeof value !== 'number') return undefined;
    key += `${String(value)},`;
  }
  return key;
}

/** isRefusal tells a refusal from a checked document. */
export function isRefusal(result: CheckedDocument | DocumentRefusal): result is DocumentRefusal {
  return 'errors' in result;
}
