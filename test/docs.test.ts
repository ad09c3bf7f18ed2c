/**
 * The API reference (`npm run docs`: TypeDoc over src/index.ts, warnings as errors) builds from the
 * doc comments, so a broken link or a doc comment TypeDoc cannot read fails CI instead of rotting.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from './cli-helper.ts';

const out = mkdtempSync(join(tmpdir(), 'ionsweep-api-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('npm run docs builds the API reference, with the public functions and their doc comments', () => {
  const typedoc = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
  execFileSync('node', [typedoc, '--out', out], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
  for (const fn of ['simulate', 'buildNeuron', 'buildNetwork', 'pyloric', 'runFit', 'compile']) {
    expect(existsSync(join(out, 'functions', `${fn}.html`)), fn).toBe(true);
  }
  // a doc comment reaches its page (buildNetwork's says how a synapse enters the membranes)
  expect(readFileSync(join(out, 'functions', 'buildNetwork.html'), 'utf8')).toMatch(/Assembles cells and synapses into one Model/);
}, 300_000);
