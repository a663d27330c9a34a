/** Unified diffs of file changes, `a/` and `b/` paths, as `git diff` prints them. */
import { createTwoFilesPatch } from 'diff';
import type { FileChange } from '../domain/types.js';

export function formatUnifiedDiff(
  changes: readonly Pick<FileChange, 'file' | 'oldText' | 'newText'>[],
): string {
  return changes
    .map((c) =>
      createTwoFilesPatch(`a/${c.file}`, `b/${c.file}`, c.oldText, c.newText, '', '', { context: 3 })
        .replace(/^=+\n/, '')
        .replace(/^(---|\+\+\+) (\S+)\t\n/gm, '$1 $2\n'),
    )
    .join('');
}
