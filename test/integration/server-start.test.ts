// Threat: an instance silently runs with the development switch that lets sellers point the gateway at private networks.
import { afterEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { memoryLogger } from '../../src/shared/logger.ts';
import { freePort } from '../support/binary.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts the real server on a fresh folder with `env`, returns its log lines, and stops it. */
async function startAndStop(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-start-'));
  dirs.push(dir);
  const logger = memoryLogger('info');
  const server = startServer(loadConfig({ env: { CROCHET_DATA_DIR: dir, CROCHET_HOST: '127.0.0.1', CROCHET_PORT: String(freePort()), ...env } }), logger);
  try {
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
  } finally {
    await server.stop();
  }
  return logger.lines.map((l) => JSON.parse(l) as { level: string; msg: string });
}

const warning = (lines: { level: string; msg: string }[]) => lines.filter((l) => l.msg.includes('CROCHET_ALLOW_PRIVATE_UPSTREAMS'));

test('off by default: no private upstreams, nothing announced', async () => {
  const lines = await startAndStop({});
  expect(lines.map((l) => l.msg)).toContain('listening');
  expect(warning(lines)).toEqual([]);
});

test('when on, the start announces it as a warning before listening', async () => {
  const lines = await startAndStop({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  const [announced] = warning(lines);
  expect(announced).toMatchObject({ level: 'warn', msg: expect.stringContaining('never in production') });
  expect(lines.indexOf(announced!)).toBeLessThan(lines.findIndex((l) => l.msg === 'listening'));
});
