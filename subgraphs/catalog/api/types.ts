import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';

/** CategoryType is the GraphQL `Category` entity, owned by catalog. */
@ObjectType('Category', { description: 'A group of services, such as Plumbing.' })
@Directive('@key(fields: "id")')
export class CategoryType {
  @Field(() => ID, { description: "The category's unique id." })
  id!: string;

  @Field({ description: "The category's name, unique in the catalog." })
  name!: string;
}

/** ServiceType is the GraphQL `Service` entity, owned by catalog. */
@ObjectType('Service', { description: 'A kind of work that providers offer and customers order.' })
@Directive('@key(fields: "id")')
export class ServiceType {
  @Field(() => ID, { description: "The service's unique id." })
  id!: string;

  @Field({ description: "The service's name." })
  name!: string;

  @Field({ description: 'What the service covers.' })
  description!: string;

  categoryId!: string;
}

/** UserType is the `User` entity as catalog extends it with a provider's skills. */
@ObjectType('User', { description: 'A person with an account: a customer, a provider or an admin.' })
@Directive('@key(fields: "id")')
export class UserType {
  @Field(() => ID, { description: "The user's unique id." })
  id!: string;
}

/** CreateServiceInputType is the contract's `CreateServiceInput`. */
@InputType('CreateServiceInput', { description: 'What a new service needs.' })
export class CreateServiceInputType {
  @Field(() => ID, { description: 'The category the service belongs to.' })
  categoryId!: string;

  @Field({ description: "The service's name." })
  name!: string;

  @Field({ description: 'What the service covers.' })
  description!: string;
}
