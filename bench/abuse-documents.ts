// The over-limit documents npm run bench:abuse sends (and bench/abuse-memory.ts, one kind at a time).

/**
 * HOSTILE are documents over each limit, the kinds the issue found running: 1,500 aliases and 3,000
 * directives (both past the token limit first), depth, cost, and a 100 KB document;
 * bench/abuse-documents.test.ts checks which limit refuses each.
 */
export const HOSTILE = [
  `{ ${Array.from({ length: 1500 }, (_, i) => `a${i}: categories { name }`).join(' ')} }`,
  `{ categories { name ${'@include(if: true) '.repeat(3000)} } }`,
  `{ ${'services { category { '.repeat(7)}name${' }'.repeat(14)} }`,
  `{ services { providers(first: 100) { skills { providers(first: 100) { skills { name } } } } } }`,
  `{ categories { ${'name '.repeat(20000)}} }`,
];
export const HOSTILE_SUBSCRIPTION = `subscription { messageAdded(conversationId: "x") { ${Array.from({ length: 500 }, (_, i) => `a${i}: id`).join(' ')} } }`;
