import { z } from 'zod';

/** Setting describes one configuration value: where it comes from, its default, and how it is checked. */
export interface Setting<T extends z.ZodType = z.ZodType> {
  /** env is the environment variable that sets it. */
  env: string;
  /** doc is one line for `--help`. */
  doc: string;
  /** schema parses and checks the raw string (zod, usually with coercion). */
  schema: T;
  /** fallback is the raw default, used when neither a flag nor the variable is given. */
  fallback?: string;
  /** secret masks the value when settings are logged or printed. */
  secret?: boolean;
}

/** SettingsSpec is a service's whole configuration: one Setting per key. */
export type SettingsSpec = Record<string, Setting>;

/** Settings is the parsed, typed configuration of a SettingsSpec. */
export type Settings<S extends SettingsSpec> = { [K in keyof S]: z.output<S[K]['schema']> };

/** ConfigOutcome is what parseSettings found: the values, a help text, or every problem at once. */
export type ConfigOutcome<S extends SettingsSpec> =
  { kind: 'ok'; values: Settings<S> } | { kind: 'help'; text: string } | { kind: 'invalid'; problems: string[] };

/** setting builds a Setting with type inference for its schema. */
export function setting<T extends z.ZodType>(s: Setting<T>): Setting<T> {
  return s;
}

/** flagName turns a settings key such as `httpPort` into its flag, `--http-port`. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** booleanSchema parses the usual spellings of a boolean setting. */
export const booleanSchema = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** portSchema parses a TCP port (0 picks a free one). */
export const portSchema = z.coerce.number().int().min(0).max(65535);

/** positiveIntSchema parses a whole number above zero. */
export const positiveIntSchema = z.coerce.number().int().positive();

/** nonNegativeIntSchema parses a whole number, 0 or more. */
export const nonNegativeIntSchema = z.coerce.number().int().min(0);

/** optionalUrlSchema parses an absent or empty value as undefined and anything else as a URL. */
export const optionalUrlSchema = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v))
  .pipe(z.url().optional());

/** logLevelSchema accepts pino's level names. */
export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** environmentSchema is the deployment kind: development turns on conveniences that production forbids. */
export const environmentSchema = z.enum(['development', 'production', 'test']);

/** environmentSetting is every process's NODE_ENV setting: development unless told. */
export function environmentSetting() {
  return setting({
    env: 'NODE_ENV',
    doc: 'development, test or production',
    schema: environmentSchema,
    fallback: 'development',
  });
}

/**
 * parseSettings reads every setting of spec from argv flags and env, a flag
 * winning over the variable and the variable over the default. It reports every
 * bad or unknown setting at once rather than stopping at the first.
 */
export function parseSettings<S extends SettingsSpec>(
  spec: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  title: string,
): ConfigOutcome<S> {
  const byFlag = new Map(Object.keys(spec).map((k) => [flagName(k), k]));
  const fromFlags = new Map<string, string>();
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help', text: helpText(spec, title) };
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const key = byFlag.get(name);
    if (!key) {
      problems.push(`${arg}: unknown flag (see --help)`);
      continue;
    }
    if (eq >= 0) fromFlags.set(key, arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) fromFlags.set(key, argv[++i]!);
    else if (isBooleanSetting(spec[key]!)) fromFlags.set(key, 'true');
    else problems.push(`${name}: needs a value`);
  }
  const values: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const raw = fromFlags.get(key) ?? env[s.env] ?? s.fallback;
    const parsed = s.schema.safeParse(raw);
    if (parsed.success) values[key] = parsed.data;
    else {
      const shown = raw === undefined ? 'not set' : s.secret ? 'the given value' : JSON.stringify(raw);
      const why = parsed.error.issues.map((issue) => issue.message).join('; ');
      problems.push(`${s.env} (${flagName(key)}): ${shown} is invalid: ${why}`);
    }
  }
  if (problems.length > 0) return { kind: 'invalid', problems };
  return { kind: 'ok', values: values as Settings<S> };
}

function isBooleanSetting(s: Setting): boolean {
  return s.schema === booleanSchema || s.fallback === 'true' || s.fallback === 'false';
}

/** helpText lists every setting with its flag, variable, default and meaning. */
export function helpText(spec: SettingsSpec, title: string): string {
  const lines = [title, '', 'Settings (a flag wins over its environment variable):', ''];
  for (const [key, s] of Object.entries(spec)) {
    const fallback = s.fallback === undefined ? '(none)' : s.secret ? '(generated or set)' : JSON.stringify(s.fallback);
    lines.push(`  ${flagName(key)}  ${s.env}`);
    lines.push(`      ${s.doc}`);
    lines.push(`      default: ${fallback}`);
  }
  return lines.join('\n');
}

/** maskSecrets returns the settings as printable values, with secrets and URL passwords hidden. */
export function maskSecrets(spec: SettingsSpec, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(spec)) {
    const v = values[key];
    if (spec[key]!.secret) out[key] = v === undefined || v === '' ? v : '****';
    else if (typeof v === 'string') out[key] = maskUrlPassword(v);
    else out[key] = v;
  }
  return out;
}

/** maskUrlPassword hides the password part of a URL such as postgres://u:p@h/db. */
export function maskUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@/\s]*@/i, '$1:****@');
}

/**
 * loadSettings is parseSettings for a service's main: it prints help and exits 0,
 * or prints every problem and exits 2, or returns the values.
 */
export function loadSettings<S extends SettingsSpec>(
  spec: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  title: string,
): Settings<S> {
  const outcome = parseSettings(spec, argv, env, title);
  if (outcome.kind === 'help') {
    process.stdout.write(outcome.text + '\n');
    process.exit(0);
  }
  if (outcome.kind === 'invalid') {
    process.stderr.write(`${title}: invalid settings\n${outcome.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(2);
  }
  return outcome.values;
}
