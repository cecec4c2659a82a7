// Allowed address ranges (CIDR, IPv4 and IPv6) on node's own BlockList: no
// parsing of our own, IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a
// dual-stack socket reports) compared as the IPv4 address they are.
import { BlockList, isIP } from 'node:net';
import { invalidInput } from '../../errors.ts';

/** Validates and normalises one CIDR range (a bare address is a /32 or /128). */
export function checkCidr(input: string): string {
  const [address = '', bits, ...rest] = input.trim().split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  if (!family || rest.length || (bits !== undefined && !/^\d{1,3}$/.test(bits)) || Number(bits ?? max) > max) {
    throw invalidInput(`"${input}" is not an address range: use CIDR such as 203.0.113.0/24 or 2001:db8::/32`);
  }
  return `${address.toLowerCase()}/${bits ?? max}`;
}

const lists = new Map<string, BlockList>();

function listFor(cidrs: readonly string[]): BlockList {
  const id = cidrs.join(',');
  let list = lists.get(id);
  if (!list) {
    list = new BlockList();
    for (const cidr of cidrs) {
      const [address, bits] = cidr.split('/') as [string, string];
      list.addSubnet(address, Number(bits), isIP(address) === 4 ? 'ipv4' : 'ipv6');
    }
    if (lists.size >= 1000) lists.clear();
    lists.set(id, list);
  }
  return list;
}

/** The address as compared: an IPv4-mapped IPv6 address becomes its IPv4 address; undefined when not an address. */
export function normalizeAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const a = address.trim().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  const plain = mapped ? mapped[1]! : a;
  return isIP(plain) ? plain.toLowerCase() : undefined;
}

export function addressAllowed(cidrs: readonly string[], address: string | undefined): boolean {
  const a = normalizeAddress(address);
  if (!a) return false;
  return listFor(cidrs).check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
}
