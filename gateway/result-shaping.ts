import {
  ERRORS,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  Variable,
  type CompositeType,
  type NamedType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';

/**
 * A shaper builds a client's answer out of the data a query plan gathered, exactly as @apollo/gateway's
 * computeResponse does (its selections in order, aliases, `__typename`, @skip/@include, null bubbling and its
 * post-processing errors), but from a form of the operation made once per planned operation rather than from the
 * operation's federation-internals objects on every request. The stock walk asks those objects, per selection and per
 * object of the answer, for their directives (two new arrays each time), their response name, their type's kind and
 * the leaf's validity, and returns a fresh object per value; on the heavy benchmark query it was a fifth of the
 * gateway's busy time and much of its garbage. Here each selection is a plain record read in a loop, and answers are
 * written into plain objects (fast to fill and to serialize) rather than prototype-less dictionaries: a response name
 * that Object.prototype or Array.prototype knows is read as an own property only, and an operation that answers
 * `__proto__` is not shaped here (shaperFor says which).
 */

/** Skip is a selection's @skip/@include, read against the request's variables. */
type Skip = (variables: Record<string, unknown>) => boolean;

/** Leaf is how a scalar or enum value is checked, as federation-internals' isValidLeafValue checks it. */
type Leaf = 'custom' | 'boolean' | 'int' | 'id' | 'float' | 'string' | Set<string>;

/** Shape is an output type, unwrapped once. */
type Shape =
  | { kind: 'nonNull'; of: Shape; text: string }
  | { kind: 'list'; of: Shape; text: string }
  | { kind: 'composite'; type: CompositeType; text: string }
  | { kind: 'leaf'; leaf: Leaf; text: string };

interface FieldStep {
  kind: 'field';
  skip?: Skip;
  responseName: string;
  /**
   * own: the response name is also a property of Object.prototype or Array.prototype (a subgraph may send a list where
   * an object belongs), so it is read only as an object's own.
   */
  own: boolean;
  typename: boolean;
  shape: Shape;
  selections?: Step[];
}

interface FragmentStep {
  kind: 'fragment';
  skip?: Skip;
  typeCondition?: CompositeType;
  /** applies remembers, per runtime type name (or parent type, when there is none), whether the condition holds. */
  applies: Map<string | CompositeType, boolean>;
  selections: Step[];
}

type Step = FieldStep | FragmentStep;

/** Shaper is one operation's shaping, made once. */
export interface Shaper {
  /** shape builds the answer from the gathered data; errors are the post-processing errors (valueCompletion). */
  shape(
    input: Record<string, unknown>,
    variables: Record<string, unknown> | undefined,
  ): {
    data: Record<string, unknown> | null;
    errors: GraphQLError[];
  };
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/** Run is one request's shaping: its schema, variables and errors. */
interface Run {
  schema: Schema;
  variables: Record<string, unknown>;
  errors: GraphQLError[];
  path: (string | number)[];
}

/**
 * shaperFor makes the shaper of an operation, or says why this operation is left to @apollo/gateway's own shaping
 * (introspection fields, which the stock executor answers from the schema, or a response name `__proto__`).
 */
export function shaperFor(operation: Operation): Shaper | { unsupported: string } {
  const schema = operation.schema();
  const compiled = new Map<SelectionSet, Step[]>();
  let unsupported: string | undefined;

  const leafOf = (type: NamedType): Leaf => {
    if (isCustomScalarType(type)) return 'custom';
    if (isEnumType(type)) return new Set(type.values.map((v) => v.name));
    if (type === schema.booleanType()) return 'boolean';
    if (type === schema.intType()) return 'int';
    if (type === schema.idType()) return 'id';
    if (type === schema.floatType()) return 'float';
    return 'string';
  };

  const shapeOf = (type: Type): Shape => {
    const text = type.toString();
    if (isNonNullType(type)) return { kind: 'nonNull', of: shapeOf(type.ofType), text };
    if (isListType(type)) return { kind: 'list', of: shapeOf(type.ofType), text };
    if (isCompositeType(type)) return { kind: 'composite', type, text };
    return { kind: 'leaf', leaf: leafOf(type), text };
  };

  type Applied = { arguments(): Record<string, unknown>; toString(): string };
  const skipOf = (element: { appliedDirectivesOf(d: unknown): readonly Applied[] }): Skip | undefined => {
    const skip = element.appliedDirectivesOf(schema.skipDirective())[0];
    const include = element.appliedDirectivesOf(schema.includeDirective())[0];
    if (skip === undefined && include === undefined) return undefined;
    const valueOf = (directive: Applied) => {
      const arg = directive.arguments().if;
      return arg instanceof Variable
        ? (variables: Record<string, unknown>) => {
            const value = variables[arg.name];
            if (typeof value !== 'boolean')
              throw new Error(`Unexpected value ${String(value)} for variable ${arg} of ${directive}`);
            return value;
          }
        : () => arg === true;
    };
    const skipIf = skip === undefined ? undefined : valueOf(skip);
    const includeIf = include === undefined ? undefined : valueOf(include);
    return (variables) =>
      (skipIf !== undefined && skipIf(variables)) || (includeIf !== undefined && !includeIf(variables));
  };

  const compile = (set: SelectionSet): Step[] => {
    let steps = compiled.get(set);
    if (steps) return steps;
    steps = [];
    compiled.set(set, steps);
    for (const selection of set.selections()) {
      if (selection.kind === 'FieldSelection') {
        const field = selection.element;
        if (field.definition.isSchemaIntrospectionField()) unsupported ??= `introspection field ${field.name}`;
        const responseName = field.responseName();
        if (responseName === '__proto__') unsupported ??= 'a response name __proto__';
        const sub = selection.selectionSet;
        steps.push({
          kind: 'field',
          skip: skipOf(field),
          responseName,
          own: responseName in Object.prototype || responseName in Array.prototype,
          typename: field.name === '__typename',
          shape: shapeOf(field.definition.type!),
          selections: sub ? compile(sub) : undefined,
        });
      } else {
        const fragment = selection.element;
        steps.push({
          kind: 'fragment',
          skip: skipOf(fragment),
          typeCondition: fragment.typeCondition,
          applies: new Map(),
          selections: compile(selection.selectionSet),
        });
      }
    }
    return steps;
  };

  const root = compile(operation.selectionSet);
  if (unsupported) return { unsupported };
  const rootType = schema.schemaDefinition.rootType(operation.rootKind)!;
  const defaulted = operation.collectDefaultedVariableValues();

  return {
    shape(input, variables) {
      const run: Run = {
        schema,
        variables: Object.assign(Object.create(null) as Record<string, unknown>, defaulted, variables),
        errors: [],
        path: [],
      };
      const data: Record<string, unknown> = {};
      const bubbled = applySteps(run, input, root, data, rootType);
      return { data: bubbled ? null : data, errors: run.errors };
    },
  };
}

function ownValue(input: Record<string, unknown>, step: FieldStep): unknown {
  const value = step.own
    ? Object.hasOwn(input, step.responseName)
      ? input[step.responseName]
      : undefined
    : input[step.responseName];
  return value ?? null;
}

/** applySteps writes the selections' values into output; true when a null must bubble up past this object. */
function applySteps(
  run: Run,
  input: Record<string, unknown>,
  steps: Step[],
  output: Record<string, unknown>,
  parentType: CompositeType,
): boolean {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.skip !== undefined && step.skip(run.variables)) continue;
    if (step.kind === 'field') {
      const name = step.responseName;
      const outputValue = step.own ? (Object.hasOwn(output, name) ? output[name] : undefined) : output[name];
      let inputValue = ownValue(input, step);
      if (step.typename) {
        if (outputValue === undefined) {
          if (inputValue === null && name !== '__typename') inputValue = input.__typename ?? null;
          const type = typeof inputValue === 'string' ? (run.schema.type(inputValue) ?? parentType) : parentType;
          if (!isObjectType(type)) return true;
          output[name] = type.name;
        }
        continue;
      }
      run.path.push(name);
      const updated = updateValue(run, outputValue, step.shape, inputValue, step.selections, parentType);
      run.path.pop();
      if (updated === INVALID) {
        output[name] = null;
        return true;
      }
      output[name] = updated === ERRORED ? null : updated;
    } else {
      const typename = input.__typename;
      if (typename && typeof typename !== 'string')
        throw new Error(`Got unexpected value for __typename: ${String(typename)}`);
      if (fragmentApplies(run.schema, step, (typename as string) || undefined, parentType)) {
        if (applySteps(run, input, step.selections, output, step.typeCondition ?? parentType)) return true;
      }
    }
  }
  return false;
}

function fragmentApplies(schema: Schema, step: FragmentStep, typename: string | undefined, parentType: CompositeType) {
  const condition = step.typeCondition;
  if (!condition) return true;
  const key = typename ?? parentType;
  let applies = step.applies.get(key);
  if (applies === undefined) {
    const type = typename ? schema.type(typename) : parentType;
    // Only the schema's own types are remembered: a type name a subgraph made up is not kept.
    if (!type) return false;
    applies = isSubtype(condition, type);
    step.applies.set(key, applies);
  }
  return applies;
}

/** INVALID: a null in a non-null position (bubbles up); ERRORED: null with an error already recorded below. */
const INVALID = Symbol('invalid');
const ERRORED = Symbol('errored');

function lastElement(run: Run, shape: Shape, parentType: CompositeType): string {
  const element = run.path[run.path.length - 1];
  return typeof element === 'string'
    ? `field ${parentType.name}.${element}`
    : `array element of type ${shape.text} at index ${element}`;
}

/**
 * updateValue is @apollo/gateway's updateOutputValue: the value for one position, given what an earlier selection of
 * the same response name already wrote there. It returns the value, INVALID (null where null is not allowed: the
 * parent becomes null) or ERRORED (null, with an error recorded: a non-null parent need not record another).
 */
function updateValue(
  run: Run,
  outputValue: unknown,
  shape: Shape,
  inputValue: unknown,
  selections: Step[] | undefined,
  parentType: CompositeType,
): unknown {
  if (outputValue === null || (outputValue !== undefined && !selections)) return outputValue;
  switch (shape.kind) {
    case 'nonNull': {
      const updated = updateValue(run, outputValue, shape.of, inputValue, selections, parentType);
      if (updated === null || updated === INVALID || updated === ERRORED) {
        if (updated === null)
          run.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Cannot return null for non-nullable ${lastElement(run, shape.of, parentType)}.`,
              {
                path: Array.from(run.path),
              },
            ),
          );
        return INVALID;
      }
      return updated;
    }
    case 'list': {
      if (inputValue === null) return null;
      if (!Array.isArray(inputValue))
        throw new Error(
          `Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${shape.text}`,
        );
      if (outputValue !== undefined && (!Array.isArray(outputValue) || outputValue.length !== inputValue.length))
        throw new Error(`Invalid list value returned by subgraph for list type ${shape.text}`);
      // An earlier selection of the same name already wrote this list: its elements are completed in place.
      const earlier = outputValue as unknown[] | undefined;
      const list = earlier ?? [];
      let nullify = false;
      for (let i = 0; i < inputValue.length; i++) {
        run.path.push(i);
        const element = updateValue(run, earlier?.[i], shape.of, inputValue[i], selections, parentType);
        run.path.pop();
        if (element === INVALID) nullify = true;
        const value = element === INVALID || element === ERRORED ? null : element;
        if (earlier) earlier[i] = value;
        else list.push(value);
      }
      // A null that may not stand in an element makes the whole list null (its error is recorded).
      return nullify ? ERRORED : list;
    }
    case 'composite': {
      if (inputValue === null) return null;
      if (!selections) throw new Error(`Invalid empty selection set for composite type ${shape.text}`);
      if (typeof inputValue !== 'object')
        throw new Error(
          `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${shape.text}`,
        );
      const input = inputValue as Record<string, unknown>;
      const inputTypename = input.__typename;
      let objectType = shape.type;
      if (inputTypename !== undefined && typeof inputTypename !== 'string')
        throw new Error(`Invalid non-string value ${String(inputTypename)} for __typename at ${run.path.join(',')}`);
      if (inputTypename) {
        const type = run.schema.type(inputTypename);
        if (!type || !isCompositeType(type)) {
          run.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Invalid __typename found for object at ${lastElement(run, shape, parentType)}.`,
              {
                path: Array.from(run.path),
              },
            ),
          );
          return ERRORED;
        }
        objectType = type;
      }
      const output = (outputValue as Record<string, unknown> | undefined) ?? {};
      return applySteps(run, input, selections, output, objectType) ? ERRORED : output;
    }
    case 'leaf': {
      if (inputValue === null) return null;
      if (validLeaf(shape.leaf, inputValue)) return inputValue;
      run.errors.push(
        ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${lastElement(run, shape, parentType)}.`, {
          path: Array.from(run.path),
        }),
      );
      return ERRORED;
    }
  }
}

/** validLeaf is federation-internals' isValidLeafValue for a leaf type read once. */
function validLeaf(leaf: Leaf, value: unknown): boolean {
  if (leaf === 'custom') return true;
  switch (typeof value) {
    case 'boolean':
      return leaf === 'boolean';
    case 'number':
      if (!Number.isFinite(value)) return false;
      return leaf === 'int' || leaf === 'id' ? INTEGER.test(String(value)) : leaf === 'float';
    case 'string':
      return leaf instanceof Set ? leaf.has(value) : leaf === 'string' || leaf === 'id';
    default:
      return false;
  }
}
