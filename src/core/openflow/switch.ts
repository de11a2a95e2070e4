/**
 * The switch as ovnctl drives it: through `ovs-ofctl` with OpenFlow 1.5 (ovs-ofctl(8)). Reading the tables
 * (`dump-flows`, `dump-groups`), applying a bundle of flow and group mods atomically (`bundle`), and the Geneve
 * option mapping OVN needs (`add-tlv-map`: class 0x0102, type 0x80, 4 bytes → tun_metadata0,
 * ovn-architecture(7) "Tunnel Encapsulations"). Each call is one ovs-ofctl process, bounded in time.
 */
import {execFile} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseInstalledFlows, type InstalledFlow} from './bundle.js'

/** How long one ovs-ofctl run may take. */
export const ofctlTimeoutMs = 60_000
/** The largest output accepted from one ovs-ofctl run. */
export const ofctlOutputBytesMax = 1 << 30

/** The Geneve option OVN uses for logical ports, and the field it is mapped to. */
export const ovnGeneveOption = '{class=0x102,type=0x80,len=4}->tun_metadata0'

/** A failed ovs-ofctl run, with what it printed. */
export class SwitchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SwitchError'
  }
}

/** An OpenFlow switch reached by ovs-ofctl: a bridge name, or `unix:MGMT-SOCKET`. */
export class OfctlSwitch {
  constructor(
    readonly target: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private run(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile('ovs-ofctl', ['-O', 'OpenFlow15', ...args], {timeout: ofctlTimeoutMs, maxBuffer: ofctlOutputBytesMax, env: this.env}, (err, stdout, stderr) => {
        if (err) reject(new SwitchError(`ovs-ofctl ${args[0]} "${this.target}" failed: ${(stderr || err.message).trim()}`))
        else resolve(stdout)
      })
      if (input !== undefined) child.stdin!.end(input)
    })
  }

  /** Every flow of every table. */
  async dumpFlows(): Promise<InstalledFlow[]> {
    return parseInstalledFlows(await this.run(['dump-flows', '--no-names', '--no-stats', this.target]))
  }

  /** Every group, by id, in the text `dump-groups` prints (`group_id=N,type=...`). */
  async dumpGroups(): Promise<Map<number, string>> {
    const out = new Map<number, string>()
    for (const line of (await this.run(['dump-groups', '--no-names', this.target])).split('\n')) {
      const m = /^\s*(group_id=(\d+),.*)$/.exec(line)
      if (m) out.set(Number(m[2]), m[1].trim())
    }
    return out
  }

  /** Applies the lines of a bundle file as one atomic transaction (nothing to do for none). */
  async applyBundle(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return
    // ovs-ofctl reads the bundle from a file (its stdin may be a socket, which it cannot open by name).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bundle-'))
    try {
      const file = path.join(dir, 'bundle.txt')
      fs.writeFileSync(file, lines.join('\n') + '\n')
      await this.run(['bundle', this.target, file])
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  }

  /** Maps OVN's Geneve option to tun_metadata0 unless the switch already has that mapping. */
  async ensureGeneveOption(): Promise<void> {
    const current = await this.run(['dump-tlv-map', this.target])
    if (/0x102\s+0x80\s+4\s+tun_metadata0\b/.test(current)) return
    await this.run(['add-tlv-map', this.target, ovnGeneveOption])
  }
}
