import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import type { RouteHandler } from '../foundation/http/server.js';

const require = createRequire(import.meta.url);

/** IDE_ASSETS are GraphiQL and React, served from node_modules so the IDE works without internet. */
const IDE_ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
  'graphql-ws.js': { pkg: 'graphql-ws', file: 'umd/graphql-ws.min.js', type: 'text/javascript' },
};

/** assetPath finds a file inside an installed package (these bundles are not in the packages' exports). */
function assetPath(pkg: string, file: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), file);
}

/**
 * START_SCRIPT starts GraphiQL with a fetcher that sends queries and mutations
 * over HTTP and subscriptions over a graphql-ws socket to the same /graphql,
 * authorised with the Authorization header of GraphiQL's headers editor (the
 * signed-in user's token); the socket is opened again when that header changes.
 */
const START_SCRIPT = `
const http = GraphiQL.createFetcher({ url: location.pathname });
const wsUrl = location.origin.replace(/^http/, 'ws') + location.pathname;
let socket;
let socketAuthorization;
function operationKind(query, operationName) {
  const text = query.replace(/#[^\\n]*/g, '');
  const operations = [...text.matchAll(/(^|[}\\s])(query|mutation|subscription)\\b\\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
  const chosen = operations.find((m) => operationName && m[3] === operationName) || operations[0];
  return chosen ? chosen[2] : 'query';
}
function fetcher(params, options) {
  if (operationKind(params.query, params.operationName) !== 'subscription') return http(params, options);
  const headers = (options && options.headers) || {};
  const authorization = headers.Authorization || headers.authorization || '';
  if (!socket || authorization !== socketAuthorization) {
    if (socket) socket.dispose();
    socketAuthorization = authorization;
    socket = graphqlWs.createClient({ url: wsUrl, connectionParams: authorization ? { authorization } : {} });
  }
  return socket.iterate({ query: params.query, variables: params.variables, operationName: params.operationName || undefined });
}
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true, shouldPersistHeaders: true }),
);
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fixup GraphiQL</title>
<link rel="stylesheet" href="/ide/graphiql.css">
<style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/ide/react.js"></script>
<script src="/ide/react-dom.js"></script>
<script src="/ide/graphiql.js"></script>
<script src="/ide/graphql-ws.js"></script>
<script src="/ide/start.js"></script>
</body>
</html>
`;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
  'x-content-type-options': 'nosniff',
};

/** wantsIde tells whether a GET /graphql comes from a browser that wants the IDE rather than a query result. */
export function wantsIde(req: IncomingMessage): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  return req.method === 'GET' && !url.searchParams.has('query') && (req.headers.accept ?? '').includes('text/html');
}

/** idePage answers GET /graphql from a browser with the GraphiQL page. */
export function idePage(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
  res.end(PAGE);
}

/** ideRoutes are the IDE's static assets. */
export function ideRoutes(): Record<string, RouteHandler> {
  const routes: Record<string, RouteHandler> = {
    'GET /ide/start.js': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS });
      res.end(START_SCRIPT);
    },
  };
  for (const [file, asset] of Object.entries(IDE_ASSETS)) {
    let body: Promise<Buffer> | undefined;
    routes[`GET /ide/${file}`] = async (_req, res) => {
      body ??= readFile(assetPath(asset.pkg, asset.file));
      res.writeHead(200, {
        'content-type': `${asset.type}; charset=utf-8`,
        'cache-control': 'public, max-age=86400',
        ...SECURITY_HEADERS,
      });
      res.end(await body);
    };
  }
  return routes;
}
