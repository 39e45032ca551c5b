import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainConfigSchema } from '../src/index.js';
import { commandLineOf, helpText, parseCommandLine } from '../src/node/cli-args.js';

test('flags map to config keys with types; --no-X negates booleans', () => {
  const parsed = parseCommandLine(
    ['--depth', '56', '--survival-rule', 'uniform', '--no-flip', '--resume', '--name', 'x'],
    trainConfigSchema,
  );
  assert.deepEqual(parsed, { depth: 56, survivalRule: 'uniform', flip: false, resume: true, name: 'x' });
});

test('a JSON config file is read and flags override it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-args-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ depth: 32, epochs: 4 }));
  assert.deepEqual(parseCommandLine(['--config', file, '--epochs', '2'], trainConfigSchema), { depth: 32, epochs: 2 });
  assert.throws(
    () => parseCommandLine(['--config', join(dir, 'missing.json')], trainConfigSchema),
    /--config .*missing.json: expected a readable JSON file/,
  );
});

test('bad flags are named', () => {
  assert.throws(() => parseCommandLine(['--depht', '20'], trainConfigSchema), /depht.*--help/s);
  assert.throws(
    () => parseCommandLine(['--depth', 'twenty'], trainConfigSchema),
    /--depth: expected a number, received "twenty"/,
  );
  assert.equal(parseCommandLine(['--help'], trainConfigSchema), 'help');
});

test('--help lists every option with its default', () => {
  const help = helpText('pnpm train', 'summary', trainConfigSchema);
  for (const key of Object.keys(trainConfigSchema.shape)) {
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    assert.ok(help.includes(flag), `${flag} missing from help`);
  }
  assert.match(help, /--arch STRING +network: resnet8, resnet14, resnet20,.* \(default: "resnet20"\)/);
  assert.match(help, /--survival-rule linear\|uniform\|none/);
});

test('commandLineOf gives the flags that parse back to the same config, defaults left out', () => {
  const config = trainConfigSchema.parse({
    name: 'fm',
    epochs: 12,
    survivalRule: 'none',
    flip: false,
    validation: 5000,
    resume: true,
  });
  const flags = commandLineOf(trainConfigSchema, config, ['resume']);
  assert.deepEqual(flags, [
    '--name',
    'fm',
    '--validation',
    '5000',
    '--survival-rule',
    'none',
    '--epochs',
    '12',
    '--no-flip',
  ]);
  const parsed = parseCommandLine(flags, trainConfigSchema);
  assert.deepEqual(trainConfigSchema.parse(parsed), { ...config, resume: false });
});
