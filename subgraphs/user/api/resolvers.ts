import { Resolver } from 'type-graphql';
import { UserType } from './types.js';

/** UserResolver serves the `User` entity; its fields are read from the loaded user. */
@Resolver(() => UserType)
export class UserResolver {}
