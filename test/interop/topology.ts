/** The OVN topology the interop tests build through the real ovn-nbctl. */
import {ok} from './lib.js'

/** Builds a small OVN topology with ovn-nbctl: switches, ports, a router, ACLs, a load balancer. */
export async function buildTopology(nb: string): Promise<void> {
  const nbctl = (...args: string[]) => ok('ovn-nbctl', [`--db=${nb}`, '--timeout=10', ...args])
  await nbctl('ls-add', 'sw0')
  await nbctl('ls-add', 'sw1')
  for (const [sw, port, mac, ip] of [
    ['sw0', 'sw0-p1', '00:00:00:00:00:01', '10.0.0.11'],
    ['sw0', 'sw0-p2', '00:00:00:00:00:02', '10.0.0.12'],
    ['sw0', 'sw0-p3', '00:00:00:00:00:03', '10.0.0.13'],
    ['sw1', 'sw1-p1', '00:00:00:00:01:01', '10.0.1.11'],
  ]) {
    await nbctl('lsp-add', sw, port)
    await nbctl('lsp-set-addresses', port, `${mac} ${ip}`)
  }
  await nbctl('lr-add', 'lr0')
  await nbctl('lrp-add', 'lr0', 'lr0-sw0', '00:00:00:00:ff:01', '10.0.0.1/24')
  await nbctl('lrp-add', 'lr0', 'lr0-sw1', '00:00:00:00:ff:02', '10.0.1.1/24')
  for (const [sw, rp] of [['sw0', 'lr0-sw0'], ['sw1', 'lr0-sw1']]) {
    await nbctl('lsp-add', sw, `${sw}-lr0`, '--', 'lsp-set-type', `${sw}-lr0`, 'router', '--', 'lsp-set-addresses', `${sw}-lr0`, 'router', '--', 'lsp-set-options', `${sw}-lr0`, `router-port=${rp}`)
  }
  await nbctl('acl-add', 'sw0', 'from-lport', '1002', 'ip4 && tcp && tcp.dst == 22', 'drop')
  await nbctl('acl-add', 'sw0', 'to-lport', '1001', 'ip4 && icmp4', 'allow-related')
  await nbctl('lb-add', 'lb0', '10.0.0.100:80', '10.0.0.11:8080,10.0.0.12:8080', 'tcp')
  await nbctl('ls-lb-add', 'sw0', 'lb0')
}
