import { randomUUID } from 'node:crypto';
import { InvalidInputError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** isId tells whether a value has the shape of a Fixup id (a UUID). */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** parseId checks a client-supplied id and names the input field when it is malformed. */
export function parseId(value: string, field: string): string {
  if (!isId(value)) throw new InvalidInputError(field, `${field} is not a valid id`);
  return value.toLowerCase();
}

/** newId makes a fresh id. */
export function newId(): string {
  return randomUUID();
}
