// The rule interpreter: each supported match, chain traversal, and refusal
// of anything outside the subset (so the renderer cannot emit what the
// simulator would misjudge).
import { describe, expect, it } from 'vitest';
import { evaluatePacket, tokenize, type DesiredFirewall, type Packet } from '../../../src/core/firewall/index.js';

/** A firewall with one chain ROMANA-T holding `specs`, entered from FORWARD with `match`. */
function fw(specs: string[], opts: { match?: string; ipsets?: DesiredFirewall['ipsets']; more?: DesiredFirewall['chains'] } = {}): DesiredFirewall {
  return {
    chains: [{ name: 'ROMANA-T', rules: specs.map((spec, i) => ({ spec, hash: `h${i}` })) }, ...(opts.more ?? [])],
    jumps: [{ from: 'FORWARD', to: 'ROMANA-T', match: opts.match ?? '', hash: 'j' }],
    ipsets: opts.ipsets ?? [],
  };
}

const P: Packet = { src: '10.0.0.1', dst: '10.0.1.1', protocol: 'tcp', dport: 80, chain: 'FORWARD', inIface: 'romanaA', outIface: 'eth0' };
const verdict = (f: DesiredFirewall, p: Partial<Packet> = {}) => evaluatePacket(f, { ...P, ...p });

describe('evaluatePacket', () => {
  it('falls off a built-in chain with ACCEPT and off an owned chain with RETURN', () => {
    const f = fw(['-s 10.9.9.9/32 -j DROP']);
    expect(verdict(f)).toBe('ACCEPT');
    expect(verdict(f, { chain: 'ROMANA-T' })).toBe('RETURN');
    expect(verdict(f, { src: '10.9.9.9' })).toBe('DROP');
  });

  it('matches addresses with prefixes and negation', () => {
    expect(verdict(fw(['-s 10.0.0.0/24 -j DROP']))).toBe('DROP');
    expect(verdict(fw(['-d 10.0.0.0/24 -j DROP']))).toBe('ACCEPT');
    expect(verdict(fw(['! -d 10.0.0.0/24 -j DROP']))).toBe('DROP');
    expect(verdict(fw(['-s 10.0.0.1 -j DROP']))).toBe('DROP');
  });

  it('matches interfaces exactly or by prefix with +', () => {
    expect(verdict(fw(['-i romana+ -j DROP']))).toBe('DROP');
    expect(verdict(fw(['-i romanaB -j DROP']))).toBe('ACCEPT');
    expect(verdict(fw(['-o romana+ -j DROP']))).toBe('ACCEPT');
    expect(verdict(fw(['-o romana+ -j DROP']), { outIface: undefined })).toBe('ACCEPT');
    // Jumps carry their own match.
    expect(verdict(fw(['-j DROP'], { match: '-o romana+' }))).toBe('ACCEPT');
    expect(verdict(fw(['-j DROP'], { match: '-i romana+' }))).toBe('DROP');
  });

  it('matches protocols, ports, ranges and multiport', () => {
    expect(verdict(fw(['-p udp -j DROP']))).toBe('ACCEPT');
    expect(verdict(fw(['-p tcp -m tcp --dport 80 -j DROP']))).toBe('DROP');
    expect(verdict(fw(['-p tcp -m tcp --dport 81:90 -j DROP']))).toBe('ACCEPT');
    expect(verdict(fw(['-p tcp -m tcp --dport 70:80 -j DROP']))).toBe('DROP');
    expect(verdict(fw(['-p tcp -m multiport --dports 1,2,79:81 -j DROP']))).toBe('DROP');
    expect(verdict(fw(['-p tcp -m multiport --dports 1,2,81:90 -j DROP']))).toBe('ACCEPT');
    expect(verdict(fw(['-p sctp -m sctp --dport 80 -j DROP']), { protocol: 'sctp' })).toBe('DROP');
  });

  it('matches ICMP type and code; an ICMP packet without them is an echo request', () => {
    const f = fw(['-p icmp -m icmp --icmp-type 8 -j DROP', '-p icmp -m icmp --icmp-type 3/4 -j DROP']);
    expect(verdict(f, { protocol: 'icmp' })).toBe('DROP');
    expect(verdict(f, { protocol: 'icmp', icmpType: 0 })).toBe('ACCEPT');
    expect(verdict(f, { protocol: 'icmp', icmpType: 3, icmpCode: 4 })).toBe('DROP');
    expect(verdict(f, { protocol: 'icmp', icmpType: 3, icmpCode: 1 })).toBe('ACCEPT');
  });

  it('matches ipsets by source or destination, hash:ip and hash:net, with negation', () => {
    const ipsets: DesiredFirewall['ipsets'] = [
      { name: 'romana-a', type: 'hash:ip', members: ['10.0.0.1'] },
      { name: 'romana-n', type: 'hash:net', members: ['10.0.1.0/24', '10.0.2.7'] },
    ];
    expect(verdict(fw(['-m set --match-set romana-a src -j DROP'], { ipsets }))).toBe('DROP');
    expect(verdict(fw(['-m set --match-set romana-a dst -j DROP'], { ipsets }))).toBe('ACCEPT');
    expect(verdict(fw(['-m set --match-set romana-n dst -j DROP'], { ipsets }))).toBe('DROP');
    expect(verdict(fw(['-m set ! --match-set romana-n dst -j DROP'], { ipsets }))).toBe('ACCEPT');
    expect(verdict(fw(['-m set --match-set romana-n src -j DROP'], { ipsets }), { src: '10.0.2.7' })).toBe('DROP');
    expect(verdict(fw(['-m set --match-set romana-n src -j DROP'], { ipsets }), { src: '10.0.2.8' })).toBe('ACCEPT');
  });

  it('matches conntrack state (NEW by default) and skips comments', () => {
    const f = fw(['-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "romana: a b" -j DROP']);
    expect(verdict(f)).toBe('ACCEPT');
    expect(verdict(f, { state: 'ESTABLISHED' })).toBe('DROP');
  });

  it('follows jumps: RETURN resumes the caller, ACCEPT and DROP end evaluation', () => {
    const more = [
      { name: 'ROMANA-U', rules: [{ spec: '-p udp -j ACCEPT', hash: 'u1' }, { spec: '-j RETURN', hash: 'u2' }, { spec: '-j ACCEPT', hash: 'u3' }] },
    ];
    const f = fw(['-j ROMANA-U', '-j DROP'], { more });
    expect(verdict(f)).toBe('DROP');
    expect(verdict(f, { protocol: 'udp' })).toBe('ACCEPT');
  });

  it('refuses syntax outside the rendered subset', () => {
    const bad = [
      '-p tcp -m tcp --sport 80 -j DROP',
      '-m state --state NEW -j DROP',
      '-m tcp --dport 80 -j DROP',
      '-p all -j DROP',
      '-m set --match-set romana-missing src -j DROP',
      '-m set --match-set romana-a src,dst -j DROP',
      '-j ROMANA-NOWHERE',
      '-j MARK --set-mark 1',
      '-s 10.0.0.1/24 -j DROP',
      '-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -j DROP',
      '-s 10.0.0.0/8',
      '--dport 80 -j DROP',
    ];
    const ipsets: DesiredFirewall['ipsets'] = [{ name: 'romana-a', type: 'hash:ip', members: [] }];
    for (const spec of bad) expect(() => verdict(fw([spec], { ipsets })), spec).toThrow(/cannot evaluate rule/);
  });

  it('refuses malformed ipset members and non-IPv4 packets', () => {
    expect(() => verdict(fw([], { ipsets: [{ name: 'romana-a', type: 'hash:net', members: ['10.0.0.1/24'] }] }))).toThrow(/invalid hash:net member/);
    expect(() => verdict(fw([]), { src: 'fe80::1' })).toThrow(/IPv4/);
  });

  it('tokenizes quoted words', () => {
    expect(tokenize('-m comment --comment "a \\"b\\" c" -j X')).toEqual(['-m', 'comment', '--comment', 'a "b" c', '-j', 'X']);
  });
});
