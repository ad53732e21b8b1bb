import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { SignedInCaller } from '../../../contracts/caller.js';
import { SignedIn } from '../../../foundation/graphql/permissions.js';
import { InvalidInputError } from '../../../foundation/core/errors.js';
import { toConnection, type ConnectionShape } from '../../../foundation/graphql/connection.js';
import { parseId } from '../../../foundation/core/ids.js';
import { decodeTimeCursor, encodeTimeCursor, pageSize } from '../../../foundation/core/pagination.js';
import type { AccountService, LiveSession, SessionTokens } from '../business/accounts.js';
import type { Role, User } from '../business/users.js';
import type { UserContext } from './context.js';
import {
  AuthPayloadType,
  OWN_ACCOUNT,
  RegisterInputType,
  RoleEnum,
  SessionType,
  UpdateProfileInputType,
  UserConnection,
  UserType,
} from './types.js';

/** MAX_TOKEN_LENGTH bounds opaque tokens before they are hashed. */
const MAX_TOKEN_LENGTH = 512;

function checkToken(value: string, field: string): string {
  if (value.length === 0 || value.length > MAX_TOKEN_LENGTH)
    throw new InvalidInputError(field, `${field} is not a valid token`);
  return value;
}

function ownAccount(tokens: SessionTokens): SessionTokens {
  return { ...tokens, user: { ...tokens.user, [OWN_ACCOUNT]: true } as User };
}

/** AuthResolver serves sign-up, sign-in, sessions and passwords. */
@Resolver()
export class AuthResolver {
  constructor(private readonly accounts: AccountService) {}

  // Nullable, so that each of several aliased credential fields runs and counts toward the rate limits.
  @Mutation(() => AuthPayloadType, {
    nullable: true,
    description: 'Creates a customer or provider account and signs it in.',
  })
  async register(
    @Arg('input', () => RegisterInputType) input: RegisterInputType,
    @Ctx() ctx: UserContext,
  ): Promise<SessionTokens> {
    return ownAccount(await this.accounts.register({ ...input, role: input.role as Role }, ctx.caller));
  }

  @Mutation(() => AuthPayloadType, { nullable: true, description: 'Signs in with email and password.' })
  async login(
    @Arg('email') email: string,
    @Arg('password') password: string,
    @Ctx() ctx: UserContext,
  ): Promise<SessionTokens> {
    return ownAccount(await this.accounts.login(email, password, ctx.caller));
  }

  @Mutation(() => AuthPayloadType, {
    nullable: true,
    description: 'Trades a refresh token (once) for a new access and refresh token.',
  })
  async refreshSession(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: UserContext): Promise<SessionTokens> {
    return ownAccount(await this.accounts.refresh(checkToken(refreshToken, 'refreshToken'), ctx.caller));
  }

  @Mutation(() => Boolean, { description: 'Ends the session that the refresh token belongs to.' })
  logout(@Arg('refreshToken') refreshToken: string, @SignedIn() caller: SignedInCaller): Promise<boolean> {
    return this.accounts.logout(checkToken(refreshToken, 'refreshToken'), caller.viewer, caller);
  }

  @Mutation(() => UserType, { description: 'Marks the email address as verified with the token sent to it.' })
  verifyEmail(@Arg('token') token: string, @Ctx() ctx: UserContext): Promise<User> {
    return this.accounts.verifyEmail(checkToken(token, 'token'), ctx.caller);
  }

  @Mutation(() => Boolean, {
    description: 'Mails a reset link if the address has an account; answers true either way.',
  })
  requestPasswordReset(@Arg('email') email: string, @Ctx() ctx: UserContext): Promise<boolean> {
    return this.accounts.requestPasswordReset(email, ctx.caller);
  }

  @Mutation(() => Boolean, { description: 'Sets a new password with a mailed token; every session of the user ends.' })
  resetPassword(
    @Arg('token') token: string,
    @Arg('newPassword') newPassword: string,
    @Ctx() ctx: UserContext,
  ): Promise<boolean> {
    return this.accounts.resetPassword(checkToken(token, 'token'), newPassword, ctx.caller);
  }

  @Mutation(() => Boolean, {
    description:
      'Mails a single-use sign-in link if the address has an account (voiding older ones); answers true either way.',
  })
  requestSignInLink(@Arg('email') email: string, @Ctx() ctx: UserContext): Promise<boolean> {
    return this.accounts.requestSignInLink(email, ctx.caller);
  }

  @Mutation(() => AuthPayloadType, {
    nullable: true,
    description: 'Signs in with a mailed link (once, within 15 minutes) and verifies the address.',
  })
  async signInWithLink(@Arg('token') token: string, @Ctx() ctx: UserContext): Promise<SessionTokens> {
    return ownAccount(await this.accounts.signInWithLink(checkToken(token, 'token'), ctx.caller));
  }

  @Mutation(() => Boolean, {
    description:
      "Ends one of the caller's sessions at once: its refresh token fails and its access tokens are refused.",
  })
  revokeSession(@Arg('sessionId', () => ID) sessionId: string, @SignedIn() caller: SignedInCaller): Promise<boolean> {
    return this.accounts.revokeSession(parseId(sessionId, 'sessionId'), caller.viewer, caller);
  }

  @Mutation(() => Boolean, { description: "Changes the caller's password; their other sessions end." })
  changePassword(
    @Arg('currentPassword') currentPassword: string,
    @Arg('newPassword') newPassword: string,
    @SignedIn() caller: SignedInCaller,
  ): Promise<boolean> {
    return this.accounts.changePassword(currentPassword, newPassword, caller.viewer, caller);
  }
}

/** cursorOf is a user's opaque position in the list of users. */
function cursorOf(user: User): string {
  return encodeTimeCursor(user.createdAt, user.id);
}

/** UserResolver serves the signed-in user, the admin's list of users, profiles and roles. */
@Resolver(() => UserType)
export class UserResolver {
  constructor(private readonly accounts: AccountService) {}

  // Shareable: the order subgraph answers `me` too, so the planner starts there when only its fields are asked.
  @Query(() => UserType, { nullable: true, description: 'The signed-in user.' })
  @Directive('@shareable')
  me(@SignedIn() caller: SignedInCaller): Promise<User> {
    return this.accounts.me(caller.viewer);
  }

  @FieldResolver(() => [SessionType], {
    nullable: true,
    description: 'The live sessions of this user, most recently used first; only for the user.',
  })
  sessions(@Root() user: User, @SignedIn() caller: SignedInCaller): Promise<LiveSession[]> {
    return this.accounts.sessions(user.id, caller.viewer);
  }

  @Query(() => UserConnection, { description: 'Every account, newest first (admins).' })
  async users(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ConnectionShape<User>> {
    const position = decodeTimeCursor(after, 'after');
    return toConnection(
      await this.accounts.users(pageSize(first, 'first'), position && { createdAt: position.at, id: position.id }),
      cursorOf,
    );
  }

  @Mutation(() => UserType, { description: "Changes the signed-in user's display name or avatar." })
  updateProfile(
    @Arg('input', () => UpdateProfileInputType) input: UpdateProfileInputType,
    @SignedIn() caller: SignedInCaller,
  ): Promise<User> {
    return this.accounts.updateProfile(
      {
        displayName: input.displayName ?? undefined,
        avatarUrl: input.avatarUrl === undefined ? undefined : input.avatarUrl,
      },
      caller.viewer,
      caller,
    );
  }

  @Mutation(() => UserType, { description: 'Gives a user a role; their older access tokens get SESSION_STALE.' })
  assignRole(
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => RoleEnum) role: Role,
    @SignedIn() caller: SignedInCaller,
  ): Promise<User> {
    return this.accounts.assignRole(parseId(userId, 'userId'), role, caller.viewer, caller);
  }

  @Mutation(() => UserType, { description: 'Takes a role away; their older access tokens get SESSION_STALE.' })
  revokeRole(
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => RoleEnum) role: Role,
    @SignedIn() caller: SignedInCaller,
  ): Promise<User> {
    return this.accounts.revokeRole(parseId(userId, 'userId'), role, caller.viewer, caller);
  }
}
