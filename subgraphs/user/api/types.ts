import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** UserType is the GraphQL `User` entity, owned by the user subgraph. */
@ObjectType('User', { description: 'A person with an account: a customer, a provider or an admin.' })
@Directive('@key(fields: "id")')
export class UserType {
  @Field(() => ID)
  id!: string;

  @Field()
  displayName!: string;

  @Field(() => String, { nullable: true })
  avatarUrl!: string | null;

  @Field()
  createdAt!: Date;
}
