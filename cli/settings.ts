import { join } from 'node:path';
import { z } from 'zod';
import { positiveIntSchema, setting, type Setting, type SettingsSpec } from '../foundation/service/config.js';
import { subgraphSettings } from '../foundation/service/subgraph-service.js';
import { userSettingsSpec, type UserSettings } from '../subgraphs/user/settings.js';
import { SUBGRAPH_NAMES, type SubgraphName } from './names.js';

/** PER_SUBGRAPH are the shared subgraph settings the command line needs from each subgraph. */
const PER_SUBGRAPH = [
  'dbUrl',
  'dbPasswordFile',
  'dbMigrateUrl',
  'dbMigratePasswordFile',
  'dbStatementTimeoutMs',
  'auditUrl',
  'outboxBatchSize',
] as const;

function prefixed(name: string, key: string): string {
  return name + key[0]!.toUpperCase() + key.slice(1);
}

/**
 * cliSettingsSpec is the command line's configuration: the services' own
 * settings, under the same variables and defaults (each subgraph's database
 * and audit URL, the user subgraph's whole configuration, the gateway's
 * internal keys), so a command run beside a service reaches what it reaches.
 * Flags carry the subgraph's name: `--user-db-url`, `--audit-db-url`.
 */
export function cliSettingsSpec(root: string): SettingsSpec {
  const spec: Record<string, Setting> = {};
  for (const name of SUBGRAPH_NAMES) {
    const shared = name === 'user' ? userSettingsSpec(root) : subgraphSettings(name, root);
    for (const [key, value] of Object.entries(shared)) {
      const own =
        value.env.startsWith(`${name.toUpperCase()}_`) ||
        value.env === 'SMTP_URL' ||
        value.env === 'MAIL_DIR' ||
        value.env.startsWith('ADMIN_');
      if (own && (name === 'user' || (PER_SUBGRAPH as readonly string[]).includes(key)))
        spec[prefixed(name, key)] = value;
      else if (!own && !(key in spec)) spec[key] = value;
    }
  }
  spec.gatewayInternalKeys = setting({
    env: 'GATEWAY_INTERNAL_KEYS',
    doc: "the gateway's private JWK set as JSON; when set, its keys are rotated where it is set, not by this tool",
    schema: z
      .string()
      .optional()
      .transform((v) => (v ? v : undefined)),
    secret: true,
  });
  spec.gatewayInternalKeysFile = setting({
    env: 'GATEWAY_INTERNAL_KEYS_FILE',
    doc: "file holding the gateway's private JWK set",
    schema: z.string().min(1),
    fallback: join(root, '.data', 'keys', 'gateway-internal.jwks.json'),
  });
  spec.gatewayInternalTokenTtlSeconds = setting({
    env: 'GATEWAY_INTERNAL_TOKEN_TTL_SECONDS',
    doc: 'lifetime of the gateway token to subgraphs (how long a rotated-out gateway key must stay published)',
    schema: positiveIntSchema,
    fallback: '60',
  });
  return spec;
}

/** subgraphValue reads one of a subgraph's own settings from the parsed command-line settings. */
export function subgraphValue<T>(
  values: Record<string, unknown>,
  name: SubgraphName,
  key: (typeof PER_SUBGRAPH)[number],
): T {
  return values[prefixed(name, key)] as T;
}

/** userSettingsOf rebuilds the user subgraph's settings from the parsed command-line settings. */
export function userSettingsOf(values: Record<string, unknown>, root: string): UserSettings {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(userSettingsSpec(root))) {
    const k = prefixed('user', key);
    out[key] = k in values ? values[k] : values[key];
  }
  return out as UserSettings;
}
