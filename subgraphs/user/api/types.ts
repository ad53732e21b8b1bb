import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../../foundation/graphql-connection.js';

/** RoleEnum is the GraphQL `Role`. */
export enum RoleEnum {
  CUSTOMER = 'CUSTOMER',
  PROVIDER = 'PROVIDER',
  ADMIN = 'ADMIN',
}
registerEnumType(RoleEnum, { name: 'Role', description: 'What a user may act as.' });

/** OWN_ACCOUNT marks a user object handed to the person it belongs to (after sign-up or sign-in), who may read its private fields. */
export const OWN_ACCOUNT = Symbol('ownAccount');

/** UserType is the GraphQL `User` entity, owned by the user subgraph. */
@ObjectType('User', { description: 'A person with an account: a customer, a provider or an admin.' })
@Directive('@key(fields: "id")')
export class UserType {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true, description: 'Visible to the user and to admins; for anyone else an error and null.' })
  email!: string | null;

  @Field()
  displayName!: string;

  @Field(() => [RoleEnum])
  roles!: RoleEnum[];

  @Field()
  emailVerified!: boolean;

  @Field(() => String, { nullable: true })
  avatarUrl!: string | null;

  @Field()
  createdAt!: Date;
}

/** AuthPayloadType is what sign-up, sign-in and refresh return. */
@ObjectType('AuthPayload')
export class AuthPayloadType {
  @Field({ description: 'A JWT to send as `Authorization: Bearer <accessToken>`.' })
  accessToken!: string;

  @Field({ description: 'Opaque and single use: trade it for a new pair with refreshSession.' })
  refreshToken!: string;

  @Field()
  accessTokenExpiresAt!: Date;

  @Field(() => UserType)
  user!: UserType;
}

/** RegisterInputType is the contract's `RegisterInput`. */
@InputType('RegisterInput')
export class RegisterInputType {
  @Field()
  email!: string;

  @Field({ description: '10 to 256 characters.' })
  password!: string;

  @Field()
  displayName!: string;

  @Field(() => RoleEnum, { description: 'CUSTOMER or PROVIDER; ADMIN is refused.' })
  role!: RoleEnum;
}

/** UpdateProfileInputType is the contract's `UpdateProfileInput`. */
@InputType('UpdateProfileInput')
export class UpdateProfileInputType {
  @Field(() => String, { nullable: true })
  displayName?: string | null;

  @Field(() => String, { nullable: true, description: 'An http(s) URL; an empty string clears it.' })
  avatarUrl?: string | null;
}

/** UserConnection is the Relay connection of users. */
export const { Connection: UserConnection } = connectionTypes('User', UserType);
