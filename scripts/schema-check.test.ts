// test tier: integration (it runs the check as a process on copies of the repository)
// npm run schema:check run as a schema owner runs it, on a temporary git
// repository holding a copy of rover.yaml, the subgraph SDLs and the
// registered operations: the committed schemas are never edited.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CheckReport } from './schema-check-report.js';
import { runSchemaCheck } from './schema-check-run.js';
import { ROOT } from './supergraph.js';

const run = promisify(execFile);
const CHECK = fileURLToPath(new URL('./schema-check.js', import.meta.url));

/** Outcome is one run of the check: its exit status and what it printed. */
interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** command runs the compiled `schema:check` command in a process of its own. */
async function command(args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CHECK, ...args], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** check runs the check in this process, as the command does (the command itself is run by one test). */
const check = (args: string[]): Promise<Outcome> => runSchemaCheck(args);

/** report runs the check with --json and parses the report. */
async function report(args: string[]): Promise<{ code: number; report: CheckReport; stderr: string }> {
  const outcome = await check([...args, '--json']);
  return { code: outcome.code, report: JSON.parse(outcome.stdout) as CheckReport, stderr: outcome.stderr };
}

/** git runs git in a folder, as a named committer. */
async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', [
    '-C',
    dir,
    '-c',
    'user.name=Fixup test',
    '-c',
    'user.email=test@fixup.invalid',
    ...args,
  ]);
  return stdout;
}

/** edit rewrites a file of the copy, failing when the text to replace is not there. */
function edit(dir: string, file: string, from: string | RegExp, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const changed = text.replace(from, to);
  assert.notEqual(changed, text, `${file}: ${from} not found`);
  writeFileSync(path, changed);
}

/** fieldLine matches one field of an SDL file with its one-line description, to remove it. */
function fieldLine(name: string): RegExp {
  return new RegExp(`\\n(  """[^\\n]*"""\\n)?  ${name}(\\([^)]*\\))?: [^\\n]*\\n`);
}

describe('npm run schema:check', { concurrency: 4 }, () => {
  const made: string[] = [];

  /** copyRepository makes a git repository on main holding a copy of the schemas and operations. */
  async function copyRepository(): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'fixup-schema-check-'));
    made.push(dir);
    cpSync(join(ROOT, 'rover.yaml'), join(dir, 'rover.yaml'));
    mkdirSync(join(dir, 'schema'));
    cpSync(join(ROOT, 'schema'), join(dir, 'schema'), { recursive: true });
    await git(dir, 'init', '-q', '-b', 'main');
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', 'schemas');
    return dir;
  }

  let pristine: string;
  before(async () => {
    pristine = await copyRepository();
  });
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it('passes on unchanged schemas, and says so in text', async () => {
    const outcome = await check(['--dir', pristine, '--files']);
    assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
    assert.match(outcome.stdout, /against the merge base with main/);
    assert.match(outcome.stdout, /0 breaking, 0 dangerous, 0 safe/);
    assert.match(outcome.stdout, /\nPASS\n$/);
  });

  it('fails when a field a registered operation uses is removed, naming the operation, its file and line, and the field', async () => {
    const dir = await copyRepository();
    edit(dir, 'schema/user.graphql', fieldLine('email'), '\n');
    const { code, report: r } = await report(['--dir', dir, '--files']);
    assert.equal(code, 1);
    assert.equal(r.passed, false);
    const removed = r.changes.find((c) => c.path === 'User.email');
    assert.equal(removed?.level, 'breaking');
    assert.equal(removed?.type, 'FIELD_REMOVED');
    assert.equal(removed?.fails, true);
    assert.deepEqual(
      removed?.locations.map((l) => [l.subgraph, l.file]),
      [['user', 'schema/user.graphql']],
    );
    const me = removed?.usedBy.find((u) => u.operation === 'Me');
    assert.equal(me?.file, 'schema/operations/auth.graphql');
    const meLine = readFileSync(join(dir, 'schema/operations/auth.graphql'), 'utf8').split('\n')[me!.line - 1];
    assert.match(meLine!, /\bemail\b/);
    const broken = r.operations.broken.find((b) => b.operation === 'Me');
    assert.equal(broken?.coordinate, 'User.email');
    assert.equal(broken?.file, 'schema/operations/auth.graphql');
    assert.match(broken!.message, /Cannot query field "email" on type "User"/);

    const text = await check(['--dir', dir, '--files']);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /✗ Me {2}schema\/operations\/auth\.graphql:\d+:\d+ {2}User\.email/);
    assert.match(text.stdout, /FAIL: \d+ breaking changes? used by registered operations/);
  });

  it('reports a removed field no registered operation uses as "breaking, not used", passing unless --strict', async () => {
    const dir = await copyRepository();
    // The base needs a field no operation uses: add one on main, then remove it on a branch.
    edit(dir, 'schema/user.graphql', '  avatarUrl: String\n', '  avatarUrl: String\n  nickname: String\n');
    await git(dir, 'commit', '-q', '-am', 'a nickname');
    await git(dir, 'checkout', '-q', '-b', 'drop-nickname');
    edit(dir, 'schema/user.graphql', '  nickname: String\n', '');

    const { code, report: r } = await report(['--dir', dir, '--files']);
    assert.equal(code, 0, JSON.stringify(r.failures));
    const removed = r.changes.find((c) => c.path === 'User.nickname');
    assert.equal(removed?.level, 'breaking');
    assert.deepEqual(removed?.usedBy, []);
    assert.equal(removed?.fails, false);

    const text = await check(['--dir', dir, '--files']);
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /BREAKING, not used by any registered operation: Field 'nickname' was removed from object type 'User'/,
    );

    const strict = await report(['--dir', dir, '--files', '--strict']);
    assert.equal(strict.code, 1);
    assert.deepEqual(strict.report.failures, ['1 breaking change not used by any registered operation (--strict)']);
  });

  it('compares with the merge base with main, so committed branch changes count', async () => {
    const dir = await copyRepository();
    await git(dir, 'checkout', '-q', '-b', 'feature');
    edit(dir, 'schema/user.graphql', fieldLine('email'), '\n');
    await git(dir, 'commit', '-q', '-am', 'no email');
    const { code, report: r } = await report(['--dir', dir, '--files']);
    assert.equal(code, 1);
    assert.match(r.base, /^the merge base with main/);
    assert.ok(r.changes.some((c) => c.path === 'User.email' && c.fails));

    // Against HEAD nothing changed, but the registered operations are still checked.
    const againstHead = await report(['--dir', dir, '--files', '--base', 'HEAD']);
    assert.equal(againstHead.code, 1);
    assert.deepEqual(againstHead.report.changes, []);
    assert.ok(againstHead.report.operations.broken.some((b) => b.operation === 'Me' && b.coordinate === 'User.email'));
  });

  it('passes when a field and a type are added, listing them as safe', async () => {
    const dir = await copyRepository();
    edit(
      dir,
      'schema/user.graphql',
      '  avatarUrl: String\n',
      '  avatarUrl: String\n  """A short line about the user."""\n  bio: String\n',
    );
    writeFileSync(
      join(dir, 'schema/user.graphql'),
      readFileSync(join(dir, 'schema/user.graphql'), 'utf8') +
        '\n"""A badge a user earned."""\ntype Badge {\n  name: String!\n}\n\nextend type Query {\n  badges: [Badge!]!\n}\n',
    );
    const { code, report: r } = await report(['--dir', dir, '--files']);
    assert.equal(code, 0, JSON.stringify(r.failures));
    const added = r.changes
      .filter((c) => c.type === 'FIELD_ADDED' || c.type === 'TYPE_ADDED')
      .map((c) => [c.path, c.level]);
    assert.deepEqual(added.sort(), [
      ['Badge', 'safe'],
      ['Badge.name', 'safe'],
      ['Query.badges', 'safe'],
      ['User.bio', 'safe'],
    ]);
    assert.ok(r.changes.every((c) => c.level === 'safe'));
    const bio = r.changes.find((c) => c.path === 'User.bio');
    assert.equal(bio?.locations[0]?.file, 'schema/user.graphql');
    assert.match(
      readFileSync(join(dir, 'schema/user.graphql'), 'utf8').split('\n')[bio!.locations[0]!.line - 1]!,
      /bio: String/,
    );
  });

  it('classifies an argument made required as breaking, and fails the operations that omit it', async () => {
    const dir = await copyRepository();
    edit(dir, 'schema/user.graphql', 'users(after: String, first: Int)', 'users(after: String!, first: Int)');
    const { code, report: r } = await report(['--dir', dir, '--files']);
    assert.equal(code, 1);
    const changed = r.changes.find((c) => c.path === 'Query.users.after');
    assert.equal(changed?.level, 'breaking');
    assert.equal(changed?.type, 'FIELD_ARGUMENT_TYPE_CHANGED');
    assert.ok(changed?.usedBy.some((u) => u.operation === 'Users'));
    assert.ok(r.operations.broken.some((b) => b.operation === 'Users'));
  });

  it("fails with composition's own message when the subgraphs do not compose", async () => {
    const dir = await copyRepository();
    // user's `users` is not shareable (`me` is, and order has it).
    edit(dir, 'schema/order.graphql', 'type Query {\n', 'type Query {\n  users: Int\n');
    const { code, report: r } = await report(['--dir', dir, '--files']);
    assert.equal(code, 1);
    const mismatch = r.composition.errors.find((e) => e.code === 'FIELD_TYPE_MISMATCH');
    assert.match(mismatch!.message, /Type of field "Query.users" is incompatible across subgraphs/);
    assert.deepEqual(mismatch!.locations.map((l) => l.subgraph).sort(), ['order', 'user']);
    assert.deepEqual(r.changes, []);

    const text = await check(['--dir', dir, '--files']);
    assert.match(text.stdout, /Caused by:\n {4}FIELD_TYPE_MISMATCH: Type of field "Query.users"/);
    assert.match(text.stdout, /at schema\/order\.graphql:\d+ \(order\)/);
    assert.match(text.stdout, /FAIL: the proposed subgraphs do not compose/);
  });

  it('checks one proposed subgraph file against the committed schemas (--subgraph --schema)', async () => {
    const proposed = join(mkdtempSync(join(tmpdir(), 'fixup-proposed-')), 'user.graphql');
    made.push(join(proposed, '..'));
    writeFileSync(
      proposed,
      readFileSync(join(pristine, 'schema/user.graphql'), 'utf8').replace(fieldLine('avatarUrl'), '\n'),
    );
    const { code, report: r } = await report(['--dir', pristine, '--subgraph', 'user', '--schema', proposed]);
    assert.equal(code, 1);
    assert.equal(r.base, 'the committed schemas');
    const removed = r.changes.find((c) => c.path === 'User.avatarUrl');
    assert.equal(removed?.level, 'breaking');
    assert.ok(removed?.usedBy.some((u) => u.operation === 'Me'));

    const unchanged = await report([
      '--dir',
      pristine,
      '--subgraph',
      'user',
      '--schema',
      join(pristine, 'schema/user.graphql'),
    ]);
    assert.equal(unchanged.code, 0);
  });

  it('accepts a new subgraph name, as a team proposing a subgraph does', async () => {
    const proposed = join(mkdtempSync(join(tmpdir(), 'fixup-proposed-')), 'review.graphql');
    made.push(join(proposed, '..'));
    writeFileSync(
      proposed,
      [
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])',
        '"""A customer\'s review of a completed order."""',
        'type Review { id: ID! stars: Int! }',
        'type Query { """Reviews, newest first.""" reviews: [Review!]! }',
        '',
      ].join('\n'),
    );
    const { code, report: r } = await report(['--dir', pristine, '--subgraph', 'review', '--schema', proposed]);
    assert.equal(code, 0, JSON.stringify(r.failures));
    assert.match(r.proposed, /the new subgraph review/);
    assert.deepEqual(
      r.changes.filter((c) => c.type === 'TYPE_ADDED').map((c) => c.path),
      ['Review'],
    );
  });

  it('compares with a composed supergraph file (--base-supergraph)', async () => {
    const dir = await copyRepository();
    edit(dir, 'schema/user.graphql', fieldLine('avatarUrl'), '\n');
    const { code, report: r } = await report([
      '--dir',
      dir,
      '--files',
      '--base-supergraph',
      join(pristine, 'schema/supergraph.graphql'),
    ]);
    assert.equal(code, 1);
    assert.ok(r.changes.some((c) => c.path === 'User.avatarUrl' && c.level === 'breaking' && c.fails));
  });

  it('exits 2 with a one-line reason when it cannot run', async () => {
    for (const args of [
      ['--dir', pristine, '--files', '--base', 'no-such-ref'],
      ['--dir', pristine, '--subgraph', 'user', '--schema', join(pristine, 'missing.graphql')],
      ['--dir', pristine, '--files', '--base-supergraph', join(pristine, 'schema/user.graphql')],
      ['--no-such-option'],
    ]) {
      const outcome = await check(args);
      assert.equal(outcome.code, 2, args.join(' '));
      assert.match(outcome.stderr, /^schema:check could not run: [^\n]+\n$/, args.join(' '));
    }
    const json = await check(['--dir', pristine, '--files', '--base', 'no-such-ref', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), { passed: false, error: 'unknown git ref no-such-ref' });
  });

  it('the command exits 0 when the check passes, 1 when it fails, 2 when it cannot run', async () => {
    const dir = await copyRepository();
    edit(dir, 'schema/user.graphql', fieldLine('avatarUrl'), '\n');
    const [passes, fails, cannot] = await Promise.all([
      command(['--dir', pristine, '--files']),
      command(['--dir', dir, '--files']),
      command(['--dir', pristine, '--files', '--base', 'no-such-ref']),
    ]);
    assert.equal(passes.code, 0, passes.stderr);
    assert.match(passes.stdout, /\nPASS\n$/);
    assert.equal(fails.code, 1, fails.stderr);
    assert.match(fails.stdout, /used by Me \(schema\/operations\/auth\.graphql:\d+, User\.avatarUrl\)/);
    assert.equal(cannot.code, 2);
    assert.equal(cannot.stderr, 'schema:check could not run: unknown git ref no-such-ref\n');
  });
});
