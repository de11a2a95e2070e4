import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {linkLocalOf, parsePortSecurity, portSecurityFlows} from '../../src/core/controller/port-security.js'
import type {Datapath, PortBinding} from '../../src/core/controller/sb-model.js'

/** What the real ovn-controller 23.03 installed in tables 73-75 for the ports the file's header lists. */
function readGolden(name: string): string[] {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden', name)
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'))
}
const golden = readGolden('port-security.txt')

const sw0: Datapath = {uuid: 'dp-sw0', key: 1, name: 'sw0', isRouter: false}
const sw1: Datapath = {uuid: 'dp-sw1', key: 2, name: 'sw1', isRouter: false}
const port = (name: string, dp: Datapath, key: number, portSecurity: string[]): [PortBinding, Datapath] => [
  {uuid: `0000000${key}-0000-0000-0000-000000000000`, name, datapath: dp.uuid, key, type: '', options: {}, mac: [], portSecurity},
  dp,
]
const ports = {
  macOnly: port('sw0-p1', sw0, 1, ['00:00:00:00:00:01']),
  macIpv4: port('sw0-p2', sw0, 2, ['00:00:00:00:00:02 10.0.0.12']),
  macIpv4Ipv6: port('sw0-p3', sw0, 3, ['00:00:00:00:00:03 10.0.0.13 fd00::13']),
  several: port('sw1-p1', sw1, 1, ['00:00:00:00:01:01 10.0.1.11/24', '00:00:00:00:01:11 10.0.1.21 fd01::21/64 fd01::22']),
  none: port('sw0-p4', sw0, 5, []),
  bad: port('sw0-p5', sw0, 6, ['00:00:00:00:00:05 10.0.0.15', '00:00:00:00:00:55 10.0.0.55 bogus', 'garbage 10.0.0.15']),
}

/** The edge cases of port-security-edge.txt. */
const edge = {
  ipv6Only: port('sw0-p1', sw0, 1, ['00:00:00:00:00:01 fd00::11']),
  oneMacTwice: port('sw0-p2', sw0, 2, ['00:00:00:00:00:02 10.0.0.12/24 10.0.0.22', '00:00:00:00:00:02 fd00::12']),
  upperCaseShortMac: port('sw0-p3', sw0, 3, ['0A:0:0:0:0:3 10.0.0.13']),
  netmask: port('sw1-p1', sw1, 1, ['00:00:00:00:01:01 10.0.1.11/255.255.255.0 10.0.1.12']),
  badPrefixLength: port('sw0-p4', sw0, 5, ['00:00:00:00:00:04 10.0.0.14/33 10.0.0.24']),
  ipv6FirstAndLinkLocal: port('sw0-p5', sw0, 6, ['00:00:00:00:00:05 fd00::15/64 fe80::1 10.0.0.15']),
}
const edgeGolden = readGolden('port-security-edge.txt')

/** Our flows of a port as ovs-ofctl prints them without cookies. */
function lines([p, dp]: [PortBinding, Datapath]): string[] {
  return portSecurityFlows(p, dp).flows.map((f) => `table=${f.table}, priority=${f.priority},${f.matchText} actions=${f.actions}`)
}

/** The golden lines of one port: its (reg14|reg15, metadata) pair. */
function goldenOf([p, dp]: [PortBinding, Datapath], from = golden): string[] {
  const at = new RegExp(`,reg1[45]=0x${p.key.toString(16)},metadata=0x${dp.key.toString(16)}(,| )`)
  return from.filter((l) => at.test(l))
}

describe('port security flows (tables 73-75)', () => {
  for (const [what, p] of Object.entries(ports)) {
    it(`generates the same flows as the real ovn-controller for a port with ${what} port security`, () => {
      assert.deepEqual(lines(p).sort(), goldenOf(p).sort())
    })
  }

  it('generates every flow of the golden dump and no other', () => {
    assert.deepEqual(Object.values(ports).flatMap(lines).sort(), [...golden].sort())
  })

  for (const [what, p] of Object.entries(edge)) {
    it(`generates the same flows as the real ovn-controller for the edge case ${what}`, () => {
      assert.ok(goldenOf(p, edgeGolden).length > 0)
      assert.deepEqual(lines(p).sort(), goldenOf(p, edgeGolden).sort())
    })
  }

  it('generates every flow of the edge case dump and no other', () => {
    assert.deepEqual(Object.values(edge).flatMap(lines).sort(), [...edgeGolden].sort())
  })

  it('installs nothing for a port without port security', () => {
    assert.deepEqual(portSecurityFlows(...ports.none).flows, [])
  })

  it('names the unusable part of each bad entry and keeps the rest', () => {
    const {entries, problems} = parsePortSecurity(ports.bad[0].portSecurity)
    assert.deepEqual(entries.map((e) => [e.mac, e.ipv4.map((a) => a.addr)]), [['00:00:00:00:00:05', ['10.0.0.15']], ['00:00:00:00:00:55', ['10.0.0.55']]])
    assert.deepEqual(problems, [
      'invalid syntax "00:00:00:00:00:55 10.0.0.55 bogus" in port security: "bogus" ignored',
      'invalid syntax "garbage 10.0.0.15" in port security: no MAC address found, entry ignored',
    ])
  })

  it('installs no flows when no entry has a MAC address, and says so', () => {
    const [p, dp] = port('sw0-p9', sw0, 9, ['10.0.0.9'])
    const r = portSecurityFlows(p, dp)
    assert.equal(r.flows.length, 0)
    assert.match(r.problems[0], /"10.0.0.9" in port security: no MAC address found/)
  })

  it('derives the link-local address from the MAC as modified EUI-64', () => {
    assert.equal(linkLocalOf('00:00:00:00:01:11'), 'fe80::200:ff:fe00:111')
    assert.equal(linkLocalOf('02:aa:bb:cc:dd:ee'), 'fe80::aa:bbff:fecc:ddee')
  })
})
