import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

  it("is the gateway's first import, so that @apollo/gateway and the query planner load after it", () => {
    const main = readFileSync(new URL('./main.js', import.meta.url), 'utf8');
    const imports = [...main.matchAll(/^import .*?from '([^']+)';$|^import '([^']+)';$/gm)].map((m) => m[1] ?? m[2]);
    assert.equal(imports[0], './flat-exports.js');
    assert.ok(imports.includes('@apollo/federation-internals'), 'main imports the package after it');
  });
});
