import { AppError } from '../foundation/core/errors.js';
import type { TokenSigner } from '../foundation/auth/tokens.js';
import type { AccountService } from '../subgraphs/user/business/accounts.js';
import { ROLES, type Role, type User } from '../subgraphs/user/business/users.js';
import { EXIT, UsageError, type CliContext, type Command, type Flags } from './command.js';

/**
 * accounts opens the user database and builds the user subgraph's own
 * AccountService on it, so that the command line applies the same rules and
 * records the same audit events as the API. Session changes reach the gateways
 * through the session feed's NOTIFY trigger on commit, which every running
 * user instance listens to; there is nothing more to publish from here.
 */
async function accounts(ctx: CliContext): Promise<AccountService> {
  const [
    { loadKeySet, TokenSigner },
    { userMigrations },
    { createAccountService },
    { EmailTokenRow, RefreshTokenRow, SessionEventRow, SessionRow, UserRow },
    { userSettingsOf },
  ] = await Promise.all([
    import('../foundation/auth/tokens.js'),
    import('../migrations/user/index.js'),
    import('../subgraphs/user/settings.js'),
    import('../subgraphs/user/store/entities.js'),
    import('./settings.js'),
  ]);
  const settings = userSettingsOf(ctx.settings, ctx.root);
  const dataSource = await ctx.database(
    'user',
    [UserRow, SessionRow, RefreshTokenRow, EmailTokenRow, SessionEventRow],
    userMigrations,
  );
  const keys = await loadKeySet({ json: settings.jwtKeys, file: settings.jwtKeysFile, createIfMissing: false }).catch(
    () => null,
  );
  const signer = keys ? await TokenSigner.create(keys) : null;
  const refusingSigner = {
    sign: () => Promise.reject(new Error('no signing keys: the command line issues no tokens')),
  } as unknown as TokenSigner;
  return createAccountService(settings, dataSource, signer ?? refusingSigner, { publish: async () => {} }, (err) =>
    ctx.err(`mail not sent: ${(err as Error).message}`),
  );
}

function describeUser(user: User): string[] {
  return [
    `id              ${user.id}`,
    `email           ${user.email}${user.emailVerified ? ' (verified)' : ' (not verified)'}`,
    `display name    ${user.displayName}`,
    `roles           ${user.roles.join(', ') || '(none)'}`,
    `created         ${user.createdAt.toISOString()}`,
  ];
}

async function userOrFail(service: AccountService, email: string, ctx: CliContext): Promise<User | null> {
  const user = await service.userByEmail(email);
  if (!user) ctx.err(`no account has the email address ${email}`);
  return user;
}

/**
 * businessRefusal turns a rule the business layer enforced into the command's answer (exit 1), and lets anything else
 * through.
 */
function businessRefusal(err: unknown, ctx: CliContext): number {
  if (err instanceof AppError) {
    ctx.err(`refused: ${err.message}`);
    return EXIT.failed;
  }
  throw err;
}

function email(flags: Flags): string {
  return flags.email as string;
}

/** accountCommands are `admin create` and `users find | set-role | revoke-sessions`. */
export const accountCommands: Command[] = [
  {
    group: 'admin',
    name: 'create',
    summary: 'create an admin account (the password is prompted for, or read from stdin)',
    flags: [
      { name: 'email', value: 'address', doc: 'email address of the new admin', required: true },
      { name: 'name', value: 'text', doc: 'display name (default: Admin)' },
    ],
    async run(ctx, flags) {
      const password = await ctx.readSecret('Password (10 to 256 characters): ');
      const service = await accounts(ctx);
      try {
        const user = await service.createAdmin(
          email(flags),
          password,
          typeof flags.name === 'string' ? flags.name : 'Admin',
          ctx.caller,
        );
        ctx.out(`admin created`);
        for (const line of describeUser(user)) ctx.out(line);
        return EXIT.ok;
      } catch (err) {
        return businessRefusal(err, ctx);
      }
    },
  },
  {
    group: 'users',
    name: 'find',
    summary: 'show an account and its live sessions',
    flags: [{ name: 'email', value: 'address', doc: 'email address (any case)', required: true }],
    async run(ctx, flags) {
      const service = await accounts(ctx);
      const user = await userOrFail(service, email(flags), ctx);
      if (!user) return EXIT.failed;
      for (const line of describeUser(user)) ctx.out(line);
      const sessions = await service.sessions(user.id, { id: user.id, roles: user.roles, sessionId: null });
      ctx.out(`live sessions   ${sessions.length}`);
      for (const s of sessions)
        ctx.out(
          `  ${s.id}  began ${s.createdAt.toISOString()}  last used ${s.lastUsedAt.toISOString()}  ${s.ip ?? '-'}  ${s.userAgent ?? '-'}`,
        );
      return EXIT.ok;
    },
  },
  {
    group: 'users',
    name: 'set-role',
    summary: "give an account a role (or take it away with --revoke); the user's older tokens become stale at once",
    flags: [
      { name: 'email', value: 'address', doc: 'email address of the account', required: true },
      { name: 'role', value: ROLES.join('|'), doc: 'the role', required: true },
      { name: 'revoke', doc: 'take the role away instead (the last admin keeps ADMIN)' },
    ],
    async run(ctx, flags) {
      const role = String(flags.role).toUpperCase();
      if (!(ROLES as readonly string[]).includes(role))
        throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const service = await accounts(ctx);
      const user = await userOrFail(service, email(flags), ctx);
      if (!user) return EXIT.failed;
      try {
        const updated = await service.setRoleAsOperator(
          user.id,
          role as Role,
          flags.revoke ? 'revoke' : 'assign',
          ctx.caller,
        );
        ctx.out(`${updated.email}: roles are now ${updated.roles.join(', ') || '(none)'}`);
        return EXIT.ok;
      } catch (err) {
        return businessRefusal(err, ctx);
      }
    },
  },
  {
    group: 'users',
    name: 'revoke-sessions',
    summary: 'end every live session of an account at once (its tokens are refused by every gateway)',
    flags: [{ name: 'email', value: 'address', doc: 'email address of the account', required: true }],
    async run(ctx, flags) {
      const service = await accounts(ctx);
      const user = await userOrFail(service, email(flags), ctx);
      if (!user) return EXIT.failed;
      const ended = await service.revokeAllSessions(user.id, ctx.caller);
      ctx.out(`${user.email}: ${ended} session${ended === 1 ? '' : 's'} ended`);
      return EXIT.ok;
    },
  },
];
