import { renameSync, writeFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { EXIT, UsageError, type Command } from './command.js';

/** CLOCK_SKEW_SECONDS is added to a retiring key's life, as verifiers accept tokens a little past their expiry. */
const CLOCK_SKEW_SECONDS = 60;

type Member = Record<string, unknown>;

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/**
 * keyCommands is `keys rotate`: a new key is published at once and signs from
 * `--activate-in-seconds` on (by then every service has reloaded the file and
 * every verifier can fetch it); the key it replaces stays published until the
 * last token it signed has expired; keys retired earlier and past that time
 * are dropped.
 */
export const keyCommands: Command[] = [
  {
    group: 'keys',
    name: 'rotate',
    summary:
      'add a new signing key, keep the old one for verification until its tokens expired, and print what changed',
    flags: [
      {
        name: 'for',
        value: 'user-tokens|gateway-internal',
        doc: "which key set: the user subgraph's access tokens, or the gateway's token to subgraphs",
        required: true,
      },
      {
        name: 'activate-in-seconds',
        value: 'n',
        doc: 'how long the new key is published before it signs (default 60: longer than the services reload the file)',
      },
    ],
    async run(ctx, flags) {
      const target = flags.for;
      if (target !== 'user-tokens' && target !== 'gateway-internal')
        throw new UsageError('--for must be user-tokens or gateway-internal');
      const delay = flags['activate-in-seconds'] === undefined ? 60 : Number(flags['activate-in-seconds']);
      if (!Number.isInteger(delay) || delay < 0)
        throw new UsageError('--activate-in-seconds must be a whole number of seconds');
      const [{ generatePrivateJwk, KEY_ACTIVE_FROM, KEY_RETIRE_AT, loadKeySet, signingJwk }, { userSettingsOf }] =
        await Promise.all([import('../foundation/auth/tokens.js'), import('./settings.js')]);
      const user = userSettingsOf(ctx.settings, ctx.root);
      const [json, file, ttl, variable] =
        target === 'user-tokens'
          ? [user.jwtKeys, user.jwtKeysFile, user.jwtAccessTtlSeconds, 'USER_JWT_KEYS']
          : [
              ctx.settings.gatewayInternalKeys as string | undefined,
              ctx.settings.gatewayInternalKeysFile as string,
              ctx.settings.gatewayInternalTokenTtlSeconds as number,
              'GATEWAY_INTERNAL_KEYS',
            ];
      if (json) {
        ctx.err(`the keys come from ${variable}, not from a file: rotate them where ${variable} is set`);
        return EXIT.usage;
      }
      let set;
      try {
        set = await loadKeySet({ file, createIfMissing: false });
      } catch (err) {
        ctx.err((err as Error).message);
        return EXIT.failed;
      }
      const now = Math.floor(Date.now() / 1000);
      const activeFrom = now + delay;
      const retireAt = activeFrom + ttl + CLOCK_SKEW_SECONDS;
      const signing = signingJwk(set, now);
      const dropped: JWK[] = [];
      const kept: JWK[] = [];
      for (const key of set.keys) {
        const retire = (key as Member)[KEY_RETIRE_AT];
        if (typeof retire === 'number' && retire <= now) dropped.push(key);
        else kept.push(typeof retire === 'number' ? key : ({ ...key, [KEY_RETIRE_AT]: retireAt } as JWK));
      }
      const fresh = { ...(await generatePrivateJwk()), [KEY_ACTIVE_FROM]: activeFrom } as JWK;
      const next = { keys: [fresh, ...kept] };
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
      renameSync(temporary, file);
      ctx.out(`rotated ${target} keys in ${file}`);
      ctx.out(`  new key       ${fresh.kid}: published now, signs from ${iso(activeFrom)}`);
      ctx.out(
        `  replaced key  ${signing.kid}: signs until then, verifies until ${iso(((kept.find((k) => k.kid === signing.kid) as Member | undefined)?.[KEY_RETIRE_AT] as number) ?? retireAt)}`,
      );
      for (const key of kept) {
        if (key.kid !== signing.kid)
          ctx.out(`  kept key      ${key.kid}: verifies until ${iso((key as Member)[KEY_RETIRE_AT] as number)}`);
      }
      for (const key of dropped)
        ctx.out(
          `  dropped key   ${key.kid}: its last tokens expired at ${iso((key as Member)[KEY_RETIRE_AT] as number)}`,
        );
      ctx.out('The services reload the file within their *_KEYS_RELOAD_SECONDS; nothing needs a restart.');
      return EXIT.ok;
    },
  },
];
