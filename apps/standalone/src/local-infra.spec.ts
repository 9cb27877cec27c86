import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedToOthers } from './local-infra';

describe('closedToOthers (can the postgres user reach the project as root)', () => {
  const base = mkdtempSync(join(tmpdir(), 'gw-closed-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('names the directory above the project that others cannot enter', () => {
    const home = join(base, 'home');
    mkdirSync(join(home, 'project', '.data'), { recursive: true });
    chmodSync(base, 0o755);
    chmodSync(home, 0o700);
    expect(closedToOthers(join(home, 'project', '.data'))).toBe(home);
  });

  it('finds nothing when every directory lets others through', () => {
    const open = join(base, 'open', 'project');
    mkdirSync(join(open, '.data'), { recursive: true });
    chmodSync(base, 0o755);
    chmodSync(join(base, 'open'), 0o755);
    // Nothing below the temp directory is closed: the answer is the temp directory's own.
    expect(closedToOthers(join(open, '.data'))).toBe(closedToOthers(tmpdir()));
  });
});
