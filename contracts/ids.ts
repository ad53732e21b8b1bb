import { z } from 'zod';

/**
 * idSchema is a Fixup id: a UUID (versions 1 to 8, RFC 4122 variant), as foundation/core/ids.ts makes and checks them.
 */
export const idSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i);
