/** PROMQL_WORDS are PromQL's keywords and aggregation modifiers, which look like names but are not series. */
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'le',
  'inf',
  'nan',
]);

/**
 * metricNamesOf lists the series names a PromQL expression reads: what is left
 * once strings, label matchers, ranges, grouping clauses and function calls
 * are taken out. It reads the expressions Fixup's dashboards and alerts use,
 * not every corner of PromQL.
 */
export function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w:.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const calls = /^\s*\(/.test(bare.slice(match.index + name.length));
    if (!calls && !PROMQL_WORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}
