import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import './flat-exports.js';

const require = createRequire(import.meta.url);

describe('flat exports of @apollo/federation-internals', () => {
  it('gives every module that requires it plain values, the same ones its getters gave', () => {
    const internals = require('@apollo/federation-internals') as Record<string, unknown>;
    const descriptor = Object.getOwnPropertyDescriptor(internals, 'isNonNullType');
    assert.equal(descriptor?.get, undefined, 'a data property, not a getter');
    assert.equal(typeof descriptor?.value, 'function');
    // The package's own module still holds the function the copy names.
    const definitions = require(require.resolve('@apollo/federation-internals/dist/definitions.js')) as Record<
      string,
      unknown
    >;
    assert.equal(internals.isNonNullType, definitions.isNonNullType);
    assert.ok(Object.keys(internals).length > 300, 'every name is kept');
  });

  it('is what every later require of the package gets', () => {
    const path = require.resolve('@apollo/federation-internals');
    assert.equal(require.cache[path]?.exports, require('@apollo/federation-internals'));
    const shaping = require('@apollo/gateway/dist/resultShaping.js') as { computeResponse: unknown };
    assert.equal(typeof shaping.computeResponse, 'function', '@apollo/gateway loads with it');
  });
});
