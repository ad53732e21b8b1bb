// Lint rules that hold the architecture in place: imports go down only.
//   gateway/, subgraphs/*  ->  foundation/      (never the other way)
//   a subgraph             -/-> another subgraph or the gateway
//   business/              -/-> GraphQL, TypeORM, its api/ or store/ layer
//   store/                 -/-> GraphQL or its api/ layer
import tseslint from 'typescript-eslint';

const SUBGRAPHS = ['user', 'catalog', 'order', 'chat', 'audit'];
const GRAPHQL_PACKAGES = ['graphql', 'graphql/*', 'type-graphql', '@apollo/*', 'graphql-*', '@graphql-tools/*', 'dataloader'];

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['foundation/**/*.ts'],
    rules: restrict([{ regex: '(^|/)(subgraphs|gateway|scripts)(/|$)', message: 'foundation/ imports no subgraph, gateway or script.' }]),
  },
  {
    files: ['gateway/**/*.ts'],
    rules: restrict([{ regex: '(^|/)(subgraphs|scripts|migrations)(/|$)', message: 'The gateway meets subgraphs only through the supergraph.' }]),
  },
  // ESLint replaces a rule's options per matching block, so each layer's block repeats its subgraph's boundaries.
  ...SUBGRAPHS.flatMap((name) => {
    const boundaries = [
      {
        regex: `(^|/)(gateway|scripts|${SUBGRAPHS.filter((s) => s !== name).join('|')})/`,
        message: `The ${name} subgraph imports no other subgraph and no gateway code: they meet through federation.`,
      },
      { regex: `(^|/)migrations/(?!${name}/)`, message: `The ${name} subgraph runs only its own migrations.` },
    ];
    return [
      { files: [`subgraphs/${name}/**/*.ts`], rules: restrict(boundaries) },
      {
        files: [`subgraphs/${name}/business/**/*.ts`],
        // A test wires the layers (a real store under the business code); the subgraph's boundaries still hold.
        ignores: ['**/*.test.ts'],
        rules: restrict([
          ...boundaries,
          { group: [...GRAPHQL_PACKAGES, 'typeorm', 'pg'], message: 'Business code knows no GraphQL and no TypeORM.' },
          { regex: '(^|/)(api|store)/', message: 'Business code declares the storage it needs; it imports neither api/ nor store/.' },
          { regex: 'foundation/(subgraph|graphql-|postgres|loaders)', message: 'Business code uses no GraphQL or database infrastructure.' },
        ]),
      },
      {
        files: [`subgraphs/${name}/store/**/*.ts`],
        ignores: ['**/*.test.ts'],
        rules: restrict([
          ...boundaries,
          { group: GRAPHQL_PACKAGES, message: 'The store layer knows no GraphQL.' },
          { regex: '(^|/)api/', message: 'The store layer does not import the GraphQL layer.' },
        ]),
      },
    ];
  }),
  {
    // The operator's command line changes data only through a subgraph's business layer (its rules and audit events apply).
    files: ['cli/**/*.ts'],
    rules: restrict([
      { regex: '(^|/)(gateway|scripts)/', message: 'The command line reaches services through their settings and databases, not the gateway or scripts.' },
      { regex: '(^|/)subgraphs/[^/]+/api/', message: 'The command line uses a subgraph\'s business layer, never its GraphQL layer.' },
    ]),
  },
  {
    files: ['migrations/**/*.ts'],
    rules: restrict([{ regex: '(^|/)(subgraphs|gateway)/', message: 'Migrations stand alone: plain SQL.' }]),
  },
);
