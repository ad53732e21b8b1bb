import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execute, parse } from 'graphql';
import { Field, ObjectType, Query, Resolver, UseMiddleware, type MiddlewareFn } from 'type-graphql';
import { buildFederatedSchema } from './subgraph-schema.js';

// buildFederatedSchema lets graphql's default resolver read plain `@Field` properties (type-graphql's `simple`); a
// field guarded by a middleware of its own, or of its class, must keep it: the guard is what a rule would be.
const shout: MiddlewareFn = async (_, next) => String(await next()).toUpperCase();
let guardRuns = 0;
const counted: MiddlewareFn = async (_, next) => {
  guardRuns++;
  return next();
};

@ObjectType()
class Mixed {
  @Field()
  plain!: string;

  @Field()
  @UseMiddleware(shout)
  loud!: string;
}

@ObjectType()
@UseMiddleware(counted)
class Watched {
  @Field()
  text!: string;
}

@Resolver()
class Root {
  @Query(() => Mixed)
  mixed(): Mixed {
    return { plain: 'quiet', loud: 'loud' };
  }

  @Query(() => Watched)
  watched(): Watched {
    return { text: 'seen' };
  }
}

describe('plain fields read as properties (buildFederatedSchema)', () => {
  it("keeps a field's own middleware and its class's, and reads the others plainly", async () => {
    const schema = await buildFederatedSchema({ resolvers: [Root], instances: new Map([[Root, new Root()]]) });
    const result = await execute({
      schema,
      document: parse('{ mixed { plain loud } watched { text } }'),
      contextValue: {},
    });
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    assert.deepEqual(JSON.parse(JSON.stringify(result.data)), {
      mixed: { plain: 'quiet', loud: 'LOUD' },
      watched: { text: 'seen' },
    });
    assert.ok(guardRuns >= 1, "the class's middleware ran for its field");
  });
});
