import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  booleanSchema,
  environmentSchema,
  loadSettings,
  logLevelSchema,
  maskSecrets,
  optionalUrlSchema,
  portSchema,
  positiveIntSchema,
  setting,
} from '../foundation/config.js';
import { graphqlRoute } from '../foundation/graphql-http.js';
import { HttpService, type RouteHandler } from '../foundation/http-server.js';
import { Lifecycle } from '../foundation/lifecycle.js';
import { createLogger } from '../foundation/logger.js';
import { Metrics } from '../foundation/metrics.js';
import { startTelemetry } from '../foundation/telemetry.js';
import { createGateway, subgraphReadiness, subgraphsOf, type GatewayContext } from './gateway.js';
import { idePage, ideRoutes, wantsIde } from './ide.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** subgraphUrlsSchema parses `name=url,name=url` into a map. */
const subgraphUrlsSchema = z
  .string()
  .transform((text, ctx) => {
    const out: Record<string, string> = {};
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [name, url] = pair.split(/=(.*)/s);
      if (!name || !url || !URL.canParse(url)) {
        ctx.addIssue({ code: 'custom', message: `"${pair}" is not name=url` });
        continue;
      }
      out[name] = url;
    }
    return out;
  });

const spec = {
  environment: setting({ env: 'NODE_ENV', doc: 'development, test or production', schema: environmentSchema, fallback: 'development' }),
  httpHost: setting({ env: 'GATEWAY_HTTP_HOST', doc: 'interface to listen on', schema: z.string().min(1), fallback: '127.0.0.1' }),
  httpPort: setting({ env: 'GATEWAY_HTTP_PORT', doc: 'port to listen on', schema: portSchema, fallback: '4000' }),
  httpBodyLimitBytes: setting({ env: 'GATEWAY_HTTP_BODY_LIMIT_BYTES', doc: 'largest request body accepted', schema: positiveIntSchema, fallback: '1048576' }),
  supergraphPath: setting({
    env: 'GATEWAY_SUPERGRAPH_PATH',
    doc: 'the composed supergraph to serve (npm run schema writes it)',
    schema: z.string().min(1),
    fallback: join(root, 'schema', 'supergraph.graphql'),
  }),
  subgraphUrls: setting({
    env: 'GATEWAY_SUBGRAPH_URLS',
    doc: 'routing URLs that replace the supergraph\'s, as name=url pairs separated by commas (e.g. order=http://order:4003/graphql)',
    schema: subgraphUrlsSchema,
    fallback: '',
  }),
  subgraphTimeoutMs: setting({ env: 'GATEWAY_SUBGRAPH_TIMEOUT_MS', doc: 'longest one subgraph fetch may take', schema: positiveIntSchema, fallback: '10000' }),
  readinessTimeoutMs: setting({ env: 'GATEWAY_READINESS_TIMEOUT_MS', doc: 'longest a subgraph readiness check may take', schema: positiveIntSchema, fallback: '2000' }),
  ide: setting({
    env: 'GATEWAY_IDE',
    doc: 'serve GraphiQL at GET /graphql to browsers: auto means on in development and test, off in production',
    schema: z.enum(['auto', 'true', 'false']),
    fallback: 'auto',
  }),
  apolloTelemetry: setting({
    env: 'GATEWAY_APOLLO_TELEMETRY',
    doc: "let @apollo/gateway send its anonymous usage metrics to Apollo (it does unless told not to)",
    schema: booleanSchema,
    fallback: 'false',
  }),
  logLevel: setting({ env: 'LOG_LEVEL', doc: 'fatal, error, warn, info, debug, trace or silent', schema: logLevelSchema, fallback: 'info' }),
  otlpEndpoint: setting({ env: 'OTEL_EXPORTER_OTLP_ENDPOINT', doc: 'OpenTelemetry collector base URL for traces (OTLP over HTTP); none: spans are not exported', schema: optionalUrlSchema }),
  shutdownTimeoutMs: setting({ env: 'GATEWAY_SHUTDOWN_TIMEOUT_MS', doc: 'longest each shutdown step (such as draining requests) may take', schema: positiveIntSchema, fallback: '10000' }),
};

const settings = loadSettings(spec, process.argv.slice(2), process.env, 'Fixup gateway');
if (!settings.apolloTelemetry) process.env.APOLLO_TELEMETRY_DISABLED = 'true';

const telemetry = startTelemetry({ service: 'gateway', otlpEndpoint: settings.otlpEndpoint });
const logger = createLogger({ service: 'gateway', level: settings.logLevel });
const lifecycle = new Lifecycle(logger, settings.shutdownTimeoutMs);
lifecycle.listen();
lifecycle.onShutdown({ name: 'telemetry', stop: () => telemetry.shutdown() });
logger.info({ settings: maskSecrets(spec, settings) }, 'starting');

try {
  const supergraphSdl = readFileSync(settings.supergraphPath, 'utf8');
  const unknown = Object.keys(settings.subgraphUrls).filter((name) => !(name in subgraphsOf(supergraphSdl)));
  if (unknown.length > 0) throw new Error(`GATEWAY_SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}`);
  const { apollo, subgraphs } = createGateway({
    supergraphSdl,
    subgraphUrls: settings.subgraphUrls,
    subgraphTimeoutMs: settings.subgraphTimeoutMs,
  });
  await apollo.start();
  lifecycle.onShutdown({ name: 'graphql', stop: () => apollo.stop() });
  const ideOn = settings.ide === 'true' || (settings.ide === 'auto' && settings.environment !== 'production');
  const graphql = graphqlRoute<GatewayContext>(apollo, async (_req, scope) => ({ scope }), settings.httpBodyLimitBytes);
  const getGraphql: RouteHandler = (req, res, scope) => (ideOn && wantsIde(req) ? idePage(req, res) : graphql(req, res, scope));
  const http = new HttpService({
    service: 'gateway',
    logger,
    metrics: new Metrics('gateway'),
    host: settings.httpHost,
    port: settings.httpPort,
    readiness: () => subgraphReadiness(subgraphs, settings.readinessTimeoutMs),
    routes: { 'POST /graphql': graphql, 'GET /graphql': getGraphql, ...(ideOn ? ideRoutes() : {}) },
  });
  lifecycle.onShutdown({ name: 'http', stop: () => http.close(settings.shutdownTimeoutMs) });
  const port = await http.listen();
  logger.info({ url: `http://${settings.httpHost}:${port}/graphql`, subgraphs, ide: ideOn }, 'ready');
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  await lifecycle.shutdown('failed to start');
  process.exit(1);
}
