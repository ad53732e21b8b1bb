import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { DocumentChecker, isRefusal } from '../gateway/operation-limits.js';
import { gatewaySettingsSpec } from '../gateway/settings.js';
import { HOSTILE, HOSTILE_SUBSCRIPTION } from './abuse-documents.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const schema = Supergraph.build(readFileSync(`${root}schema/supergraph.graphql`, 'utf8'))
  .apiSchema()
  .toGraphQLJSSchema();
const limit = (name: keyof typeof gatewaySettingsSpec) => Number(gatewaySettingsSpec[name].fallback);

describe('the abuse benchmarks’ hostile documents', () => {
  it('are each refused for the limit they are meant to pass, under the gateway’s default limits', () => {
    const checker = new DocumentChecker(
      schema,
      {
        maxTokens: limit('limitTokens'),
        maxDepth: limit('limitDepth'),
        maxAliases: limit('limitAliases'),
        maxDirectives: limit('limitDirectives'),
        maxRootFields: limit('limitRootFields'),
        maxCost: limit('limitCost'),
        maxErrors: limit('limitErrors'),
        defaultListSize: 20,
        maxListSize: 100,
      },
      { introspection: false, suggestions: false },
    );
    const refusedFor = (text: string) => {
      const result = checker.check(text);
      assert.ok(isRefusal(result), `not refused: ${text.slice(0, 80)}`);
      const [error] = result.errors;
      assert.equal(error!.extensions.code, 'OPERATION_TOO_COMPLEX', error!.message);
      return error!.extensions.limit;
    };
    // The 1,500 aliases and the 3,000 directives are past the token limit before their own.
    assert.deepEqual(HOSTILE.map(refusedFor), ['tokens', 'tokens', 'depth', 'cost', 'tokens']);
    assert.equal(refusedFor(HOSTILE_SUBSCRIPTION), 'tokens');
  });
});
