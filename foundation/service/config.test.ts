import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { booleanSchema, flagName, maskSecrets, maskUrlPassword, parseSettings, portSchema, setting } from './config.js';

const spec = {
  httpPort: setting({ env: 'SVC_HTTP_PORT', doc: 'port', schema: portSchema, fallback: '4000' }),
  dbUrl: setting({ env: 'SVC_DB_URL', doc: 'db', schema: z.url(), fallback: 'postgres://u@h/db' }),
  apiKey: setting({ env: 'SVC_API_KEY', doc: 'key', schema: z.string().min(4), secret: true, fallback: 'abcd' }),
  migrate: setting({ env: 'SVC_MIGRATE', doc: 'migrate', schema: booleanSchema, fallback: 'true' }),
};

describe('parseSettings', () => {
  it('uses defaults when nothing is set', () => {
    const out = parseSettings(spec, [], {}, 'svc');
    assert.equal(out.kind, 'ok');
    assert.deepEqual(out.kind === 'ok' && out.values, {
      httpPort: 4000,
      dbUrl: 'postgres://u@h/db',
      apiKey: 'abcd',
      migrate: true,
    });
  });

  it('lets a variable beat the default and a flag beat the variable', () => {
    const env = { SVC_HTTP_PORT: '5000' };
    const fromEnv = parseSettings(spec, [], env, 'svc');
    assert.equal(fromEnv.kind === 'ok' && fromEnv.values.httpPort, 5000);
    const fromFlag = parseSettings(spec, ['--http-port=6000'], env, 'svc');
    assert.equal(fromFlag.kind === 'ok' && fromFlag.values.httpPort, 6000);
    const spaced = parseSettings(spec, ['--http-port', '7000', '--migrate'], env, 'svc');
    assert.equal(spaced.kind === 'ok' && spaced.values.httpPort, 7000);
  });

  it('names every bad setting at once', () => {
    const out = parseSettings(
      spec,
      ['--nope=1'],
      { SVC_HTTP_PORT: 'eighty', SVC_DB_URL: 'not a url', SVC_API_KEY: 'x', SVC_MIGRATE: 'maybe' },
      'svc',
    );
    assert.equal(out.kind, 'invalid');
    const problems = out.kind === 'invalid' ? out.problems.join('\n') : '';
    for (const name of ['--nope', 'SVC_HTTP_PORT', 'SVC_DB_URL', 'SVC_API_KEY', 'SVC_MIGRATE'])
      assert.match(problems, new RegExp(name));
    assert.doesNotMatch(problems, /"x"/, 'a secret value is never echoed');
  });

  it('prints help with every setting and its default', () => {
    const out = parseSettings(spec, ['--help'], {}, 'svc');
    assert.equal(out.kind, 'help');
    const text = out.kind === 'help' ? out.text : '';
    for (const key of Object.keys(spec)) assert.ok(text.includes(flagName(key)), key);
    assert.match(text, /SVC_HTTP_PORT[\s\S]*default: "4000"/);
    assert.doesNotMatch(text, /abcd/, 'secret defaults are not shown');
  });
});

describe('masking', () => {
  it('hides secrets and URL passwords', () => {
    const masked = maskSecrets(spec, {
      httpPort: 1,
      dbUrl: 'postgres://fixup:hunter2@db:5432/x',
      apiKey: 'topsecret',
      migrate: true,
    });
    assert.equal(masked.apiKey, '****');
    assert.equal(masked.dbUrl, 'postgres://fixup:****@db:5432/x');
    assert.equal(maskUrlPassword('http://localhost:4000/graphql'), 'http://localhost:4000/graphql');
  });
});
