// npm run keys: writes every secret docker compose needs into the ignored .env (keeps those already there).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrivateJwk } from '../foundation/auth/tokens.js';
import { COMPOSE_SECRETS } from './compose.js';
import { ROOT } from './supergraph.js';

const file = join(ROOT, '.env');
const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
const present = new Set([...text.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
const lines: string[] = [];
for (const name of COMPOSE_SECRETS) {
  if (present.has(name)) continue;
  // Key sets are single-quoted JSON: compose reads single-quoted values as they are.
  const value = name.endsWith('_KEYS')
    ? `'${JSON.stringify({ keys: [await generatePrivateJwk()] })}'`
    : randomBytes(24).toString('base64url');
  lines.push(`${name}=${value}`);
}
if (lines.length > 0) {
  const header = text ? '' : '# Secrets for docker compose, made by `npm run keys`. Never commit this file.\n';
  writeFileSync(file, `${text}${text && !text.endsWith('\n') ? '\n' : ''}${header}${lines.join('\n')}\n`, {
    mode: 0o600,
  });
}
process.stdout.write(
  lines.length > 0
    ? `wrote ${lines.map((l) => l.split('=')[0]).join(', ')} to .env\n`
    : '.env already has every secret\n',
);
