/** Running the real ovs-ofctl in tests: whether it is installed, and the FLOW_MOD lines it parses flows into. */
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** True when ovs-ofctl can be run. */
export function hasOvsOfctl(): boolean {
  try {
    execFileSync('ovs-ofctl', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** Has `ovs-ofctl -O OpenFlow15 parse-flows` read `flows` (one per line); returns its OFPT_FLOW_MOD lines. */
export function parseFlowsWithOfctl(flows: readonly string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
  try {
    const file = path.join(dir, 'flows.txt')
    fs.writeFileSync(file, flows.join('\n') + '\n')
    const out = execFileSync('ovs-ofctl', ['-O', 'OpenFlow15', 'parse-flows', file], {encoding: 'utf8'})
    return out.split('\n').filter((l) => l.startsWith('OFPT_FLOW_MOD'))
  } finally {
    fs.rmSync(dir, {recursive: true, force: true})
  }
}
