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

/**
 * newId makes a fresh id (a random UUID) as one flat string. crypto.randomUUID joins 30-odd pieces into a string V8
 * keeps as a tree of them, about 480 bytes of heap for as long as the id lives (a socket's or a subscription's ids live
 * as long as they do); copied out through a buffer it is 57 bytes.
 */
export function newId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}
