import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../../foundation/graphql/connection.js';
import { Role } from '../../../contracts/caller.js';

/** RoleEnum is the GraphQL `Role`: the values of contracts/caller.ts's Role. */
export const RoleEnum = Role.enum;
registerEnumType(RoleEnum, { name: 'Role', description: 'What a user may act as.' });

/**
 * OWN_ACCOUNT marks a user object handed to the person it belongs to (after sign-up or sign-in), who may read its
 * private fields.
 */
export const OWN_ACCOUNT = Symbol('ownAccount');

/** UserType is the GraphQL `User` entity, owned by the user subgraph. */
@ObjectType('User', { description: 'A person with an account: a customer, a provider or an admin.' })
@Directive('@key(fields: "id")')
export class UserType {
  @Field(() => ID, { description: "The user's unique id." })
  id!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Visible to the user and to admins; for anyone else an error and null.',
  })
  email!: string | null;

  @Field({ description: 'The name other users see.' })
  displayName!: string;

  @Field(() => [RoleEnum], { description: 'What the user may act as.' })
  roles!: Role[];

  @Field({ description: 'Whether the user proved they own the email address.' })
  emailVerified!: boolean;

  @Field(() => String, { nullable: true, description: "An http(s) URL of the user's picture, if they set one." })
  avatarUrl!: string | null;

  @Field({ description: 'When the account was made.' })
  createdAt!: Date;
}

/** SessionType is one of the signed-in user's live sessions. */
@ObjectType('Session', { description: 'A live session: one sign-in, refreshed or not.' })
export class SessionType {
  @Field(() => ID, { description: 'The session, as revokeSession names it.' })
  id!: string;

  @Field({ description: 'Whether the access token of this request belongs to this session.' })
  current!: boolean;

  @Field({ description: 'When the session began: the sign-in.' })
  createdAt!: Date;

  @Field({ description: 'When the session began or last refreshed its tokens.' })
  lastUsedAt!: Date;

  @Field(() => String, { nullable: true, description: 'The user agent the session was last used from.' })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: 'The address the session was last used from.' })
  ip!: string | null;
}

/** AuthPayloadType is what sign-up, sign-in and refresh return. */
@ObjectType('AuthPayload', {
  description: 'A signed-in session: an access token, the refresh token to renew it, and the user.',
})
export class AuthPayloadType {
  @Field({ description: 'A JWT to send as `Authorization: Bearer <accessToken>`.' })
  accessToken!: string;

  @Field({ description: 'Opaque and single use: trade it for a new pair with refreshSession.' })
  refreshToken!: string;

  @Field({ description: 'When the access token stops working: refresh before then.' })
  accessTokenExpiresAt!: Date;

  @Field(() => UserType, { description: 'The signed-in user.' })
  user!: UserType;
}

/** RegisterInputType is the contract's `RegisterInput`. */
@InputType('RegisterInput', { description: 'What a new account needs.' })
export class RegisterInputType {
  @Field({ description: 'The address to sign in with; it must not have an account yet.' })
  email!: string;

  @Field({ description: '10 to 256 characters.' })
  password!: string;

  @Field({ description: 'The name other users see.' })
  displayName!: string;

  @Field(() => RoleEnum, { description: 'CUSTOMER or PROVIDER; ADMIN is refused.' })
  role!: Role;
}

/** UpdateProfileInputType is the contract's `UpdateProfileInput`. */
@InputType('UpdateProfileInput', { description: 'The profile fields to change; a field left out stays as it is.' })
export class UpdateProfileInputType {
  @Field(() => String, { nullable: true, description: 'The name other users see.' })
  displayName?: string | null;

  @Field(() => String, { nullable: true, description: 'An http(s) URL; an empty string clears it.' })
  avatarUrl?: string | null;
}

/** UserConnection is the Relay connection of users. */
export const { Connection: UserConnection } = connectionTypes('User', UserType);
