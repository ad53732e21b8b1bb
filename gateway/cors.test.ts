import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { applyCors, corsOriginAllowed, preflight, type CorsPolicy } from './cors.js';

const policy: CorsPolicy = { origins: ['https://app.example.com', 'http://localhost:*'], maxAgeSeconds: 600 };

/** answer records the headers and status an answer gets. */
function answer() {
  const headers = new Map<string, string>();
  let status = 0;
  const res = {
    appendHeader: (name: string, value: string) =>
      headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value),
    setHeader: (name: string, value: string) => headers.set(name, value),
    hasHeader: (name: string) => headers.has(name),
    writeHead: (code: number) => (status = code),
    end: () => {},
  } as unknown as ServerResponse;
  return { res, headers, status: () => status };
}

const from = (origin?: string) => ({ headers: origin ? { origin } : {} }) as IncomingMessage;

describe('CORS', () => {
  it('allows exact origins and a port or host-label wildcard, nothing else', () => {
    assert.equal(corsOriginAllowed('https://app.example.com', policy), true);
    assert.equal(corsOriginAllowed('http://localhost:5173', policy), true);
    assert.equal(corsOriginAllowed('https://app.example.com.evil.test', policy), false);
    assert.equal(corsOriginAllowed('http://localhost:5173/x', policy), false);
    assert.equal(corsOriginAllowed('https://anything.test', { origins: ['*'], maxAgeSeconds: 1 }), true);
  });

  it('answers an allowed origin with its own origin, and varies by Origin always', () => {
    const allowed = answer();
    applyCors(from('http://localhost:3000'), allowed.res, policy);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    assert.equal(allowed.headers.get('vary'), 'Origin');
    const refused = answer();
    applyCors(from('https://evil.test'), refused.res, policy);
    assert.equal(refused.headers.has('access-control-allow-origin'), false);
    assert.equal(refused.headers.get('vary'), 'Origin');
  });

  it('answers a preflight 204, with the methods, headers and max-age only for an allowed origin', () => {
    const allowed = answer();
    preflight(from('https://app.example.com'), allowed.res, policy);
    assert.equal(allowed.status(), 204);
    assert.equal(allowed.headers.get('access-control-max-age'), '600');
    assert.match(allowed.headers.get('access-control-allow-headers')!, /authorization/);
    const refused = answer();
    preflight(from('https://evil.test'), refused.res, policy);
    assert.equal(refused.status(), 204);
    assert.equal(refused.headers.has('access-control-allow-methods'), false);
  });
});
