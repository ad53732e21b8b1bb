import { InvalidInputError } from './errors.js';

/** MAX_PAGE_SIZE is the most items one page of a connection may hold. */
export const MAX_PAGE_SIZE = 100;

/** DEFAULT_PAGE_SIZE is the page size when the client gives none. */
export const DEFAULT_PAGE_SIZE = 20;

/** pageSize checks a `first` or `last` argument: 0 to MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent. */
export function pageSize(value: number | null | undefined, field: string): number {
  if (value == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new InvalidInputError(field, `${field} must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/**
 * encodeCursor makes an opaque cursor from a row's sort key (for example its
 * creation time and id). A keyset cursor stays valid while rows are inserted.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** decodeCursor reads a cursor made by encodeCursor with the given shape, naming the argument when it is not one. */
export function decodeCursor(
  cursor: string,
  field: string,
  shape: readonly ('string' | 'number')[],
): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidInputError(field, `${field} is not a valid cursor`);
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((v, i) => typeof v !== shape[i])) {
    throw new InvalidInputError(field, `${field} is not a valid cursor`);
  }
  return key as (string | number)[];
}

/** Page is one page of a keyset-paginated list, in the order the client asked for. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** TimePosition is a place in a list sorted by (time, id), newest first. */
export interface TimePosition {
  at: Date;
  id: string;
}

/** encodeTimeCursor is the opaque cursor of an item in a list sorted by (time, id). */
export function encodeTimeCursor(at: Date, id: string): string {
  return encodeCursor([at.toISOString(), id]);
}

/** decodeTimeCursor reads a cursor made by encodeTimeCursor, naming the argument when it is not one. */
export function decodeTimeCursor(cursor: string | null | undefined, field: string): TimePosition | undefined {
  if (cursor == null) return undefined;
  const [iso, id] = decodeCursor(cursor, field, ['string', 'string']) as [string, string];
  const at = new Date(iso);
  if (Number.isNaN(at.getTime()) || !UUID_SHAPE.test(id))
    throw new InvalidInputError(field, `${field} is not a valid cursor`);
  return { at, id: id.toLowerCase() };
}

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
