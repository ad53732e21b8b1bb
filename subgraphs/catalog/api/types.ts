import { Directive, Field, ID, ObjectType } from 'type-graphql';

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
