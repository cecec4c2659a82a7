// The logs' second line of defence: a credential handed to a logger by
// mistake is written as "[redacted]", at the top of a line or one level down
// (a request body, an error's fields); the logger of flat lines (every
// request's) keeps the top-level names.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, flatLineLogger, REDACT } from '../src/logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger('info', sink) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const TOP_LEVEL = REDACT.filter((path) => !path.includes('.'));

describe('redaction in log lines', () => {
  it('hides every credential name at the top of a line and one level down', async () => {
    const { lines, log } = capture();
    const secrets = Object.fromEntries(TOP_LEVEL.map((name) => [name, `secret-${name}`]));
    log.info({ ...secrets, body: secrets, err: secrets }, 'handed over by mistake');
    await flush();
    const text = JSON.stringify(lines);
    for (const name of TOP_LEVEL) assert.ok(!text.includes(`secret-${name}`), `${name} is written nowhere`);
    assert.equal((lines[0]!.body as Record<string, unknown>).password, '[redacted]');
  });

  it('the logger of flat lines hides every credential name at the top of a line, at its parent level', async () => {
    const { lines, log } = capture();
    const flat = flatLineLogger(log);
    flat.info(Object.fromEntries(TOP_LEVEL.map((name) => [name, `secret-${name}`])), 'request');
    flat.debug({ path: '/token' }, 'below the level');
    await flush();
    assert.equal(lines.length, 1, "the parent's level holds");
    for (const name of TOP_LEVEL) assert.equal(lines[0]![name], '[redacted]', name);
    assert.equal(lines[0]!.service, 'latchkey', "the parent's fields are kept");
  });
});
