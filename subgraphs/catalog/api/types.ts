import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';

/** CategoryType is the GraphQL `Category` entity, owned by catalog. */
@ObjectType('Category', { description: 'A group of services, such as Plumbing.' })
@Directive('@key(fields: "id")')
export class CategoryType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;
}

/** ServiceType is the GraphQL `Service` entity, owned by catalog. */
@ObjectType('Service', { description: 'A kind of work that providers offer and customers order.' })
@Directive('@key(fields: "id")')
export class ServiceType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  description!: string;

  categoryId!: string;
}

/** UserType is the `User` entity as catalog extends it with a provider's skills. */
@ObjectType('User')
@Directive('@key(fields: "id")')
export class UserType {
  @Field(() => ID)
  id!: string;
}

/** CreateServiceInputType is the contract's `CreateServiceInput`. */
@InputType('CreateServiceInput')
export class CreateServiceInputType {
  @Field(() => ID)
  categoryId!: string;

  @Field()
  name!: string;

  @Field()
  description!: string;
}
