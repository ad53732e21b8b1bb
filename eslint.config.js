// Lint rules that hold the architecture in place: imports go down only, and no import cycles (import-x/no-cycle).
//   gateway/, subgraphs/*  ->  foundation/  ->  contracts/      (never the other way)
//   contracts/             -/-> anything but zod
//   foundation/core/       -/-> the rest of foundation/
//   foundation/ (not tests)-/-> foundation/testkit/
//   a subgraph             -/-> another subgraph or the gateway
//   business/              -/-> GraphQL, TypeORM, its api/ or store/ layer
//   store/                 -/-> GraphQL or its api/ layer
//
// Schema lint (@graphql-eslint) on every subgraph's generated SDL, schema/<name>.graphql:
// descriptions on every type, field and input field, naming conventions, no
// unreachable types, and a reason on every deprecation.
import graphql from '@graphql-eslint/eslint-plugin';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const SUBGRAPHS = ['user', 'catalog', 'order', 'chat', 'audit'];
const GRAPHQL_PACKAGES = [
  'graphql',
  'graphql/*',
  'type-graphql',
  '@apollo/*',
  'graphql-*',
  '@graphql-tools/*',
  'dataloader',
];

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    // Sources import each other as `./x.js`; the resolver finds the `.ts` file.
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'import-x/no-cycle': 'error',
      // Prettier (npm run format) wraps code at 120 columns; this keeps comments within them too. A string or a URL
      // may run longer: breaking it would make it harder to find.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
    },
  },
  {
    // What two processes agree on: zod schemas and the types inferred from them, nothing else.
    files: ['contracts/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([{ regex: '^(?!zod$|\\./)', message: 'contracts/ imports only zod and other contracts.' }]),
  },
  {
    files: ['foundation/**/*.ts'],
    ignores: ['foundation/core/**', 'foundation/testkit/**', '**/*.test.ts'],
    rules: restrict([
      {
        regex: '(^|/)(subgraphs|gateway|scripts)(/|$)',
        message: 'foundation/ imports no subgraph, gateway or script.',
      },
      { regex: '(^|/)testkit/', message: 'Only tests import the test kit.' },
    ]),
  },
  {
    files: ['foundation/**/*.test.ts', 'foundation/testkit/**/*.ts'],
    rules: restrict([
      {
        regex: '(^|/)(subgraphs|gateway|scripts)(/|$)',
        message: 'foundation/ imports no subgraph, gateway or script.',
      },
    ]),
  },
  {
    files: ['foundation/core/**/*.ts'],
    rules: restrict([
      {
        regex: '(^|/)(subgraphs|gateway|scripts)(/|$)',
        message: 'foundation/ imports no subgraph, gateway or script.',
      },
      {
        regex: '^\\.\\./(?!\\.\\./contracts/)',
        message: 'foundation/core/ (what business code may use) depends on no other foundation folder.',
      },
    ]),
  },
  {
    files: ['gateway/**/*.ts'],
    rules: restrict([
      {
        regex: '(^|/)(subgraphs|scripts|migrations)(/|$)',
        message: 'The gateway meets subgraphs only through the supergraph.',
      },
    ]),
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
          {
            regex: '(^|/)(api|store)/',
            message: 'Business code declares the storage it needs; it imports neither api/ nor store/.',
          },
          {
            regex: 'foundation/(?!core/|events/audit-)',
            message:
              'Business code uses foundation/core/ (errors, ids, paging) and the audit entry and chain of foundation/events/, no other infrastructure.',
          },
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
    files: SUBGRAPHS.map((name) => `schema/${name}.graphql`),
    languageOptions: {
      parser: graphql.parser,
      // graphql-eslint keeps the first config it loads, so every subgraph is a project of one config; a file's project
      // is the one whose schema it is.
      parserOptions: {
        graphQLConfig: {
          projects: Object.fromEntries(SUBGRAPHS.map((name) => [name, { schema: `schema/${name}.graphql` }])),
        },
      },
    },
    plugins: { '@graphql-eslint': graphql },
    rules: {
      '@graphql-eslint/require-description': [
        'error',
        {
          types: true,
          FieldDefinition: true,
          InputValueDefinition: true,
          ignoredSelectors: [
            'FieldDefinition > InputValueDefinition',
            // type-graphql generates the root types; their fields carry the descriptions.
            '[type=ObjectTypeDefinition][name.value=/^(Query|Mutation|Subscription)$/]',
          ],
        },
      ],
      '@graphql-eslint/naming-convention': [
        'error',
        {
          types: 'PascalCase',
          FieldDefinition: 'camelCase',
          InputValueDefinition: 'camelCase',
          EnumValueDefinition: 'UPPER_CASE',
          allowLeadingUnderscore: false,
          allowTrailingUnderscore: false,
        },
      ],
      '@graphql-eslint/no-unreachable-types': 'error',
      '@graphql-eslint/require-deprecation-reason': 'error',
      '@graphql-eslint/no-hashtag-description': 'error',
    },
  },
  {
    // The operator's command line changes data only through a subgraph's business layer (its rules and audit events
    // apply).
    files: ['cli/**/*.ts'],
    rules: restrict([
      {
        regex: '(^|/)(gateway|scripts)/',
        message: 'The command line reaches services through their settings and databases, not the gateway or scripts.',
      },
      {
        regex: '(^|/)subgraphs/[^/]+/api/',
        message: "The command line uses a subgraph's business layer, never its GraphQL layer.",
      },
    ]),
  },
  {
    files: ['migrations/**/*.ts'],
    rules: restrict([{ regex: '(^|/)(subgraphs|gateway)/', message: 'Migrations stand alone: plain SQL.' }]),
  },
);
