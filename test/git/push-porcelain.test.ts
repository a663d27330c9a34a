import { describe, expect, it } from 'vitest';
import { branchMoved, parsePushPorcelain } from '../../src/git/push-porcelain.js';

// What git 2.39 prints (simple-git hands stdout and stderr together in the error's message).
const out = (line: string) =>
  `To ../remote.git\n${line}\nDone\nerror: failed to push some refs to '../remote.git'\nhint: …\n`;

describe('git push --porcelain', () => {
  it('parses each ref line, ignoring the rest', () => {
    expect(parsePushPorcelain(out('!\tHEAD:refs/heads/main\t[rejected] (fetch first)'))).toEqual([
      { flag: '!', from: 'HEAD', to: 'refs/heads/main', summary: '[rejected] (fetch first)' },
    ]);
    expect(parsePushPorcelain('*\tabc:refs/heads/x\t[new branch]\n')).toEqual([
      { flag: '*', from: 'abc', to: 'refs/heads/x', summary: '[new branch]' },
    ]);
  });

  it.each([
    ['a stale lease', '!\tabc:refs/heads/t\t[rejected] (stale info)', true],
    ['the remote moved on', '!\tabc:refs/heads/t\t[rejected] (fetch first)', true],
    ['not a fast-forward', '!\tabc:refs/heads/t\t[rejected] (non-fast-forward)', true],
    [
      'a protected branch',
      '!\tabc:refs/heads/main\t[remote rejected] (protected branch hook declined)',
      false,
    ],
    ['a hook said no', '!\tabc:refs/heads/t\t[remote rejected] (pre-receive hook declined)', false],
    [
      'no ref line at all (auth, network, bad refspec)',
      'error: src refspec nonexist does not match any',
      false,
    ],
    ['a pushed ref', ' \tabc:refs/heads/t\tdef..abc', false],
  ])('%s → branch moved: %s', (_name, line, moved) => {
    expect(branchMoved(parsePushPorcelain(out(line)))).toBe(moved);
  });
});
