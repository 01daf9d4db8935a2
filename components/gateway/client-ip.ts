// The real client address behind a proxy, on Caddy: the edge server trusts `CF-Connecting-IP` only
// on connections from `trusted_proxies` (static CIDRs), and everything that keys on the client
// (rate-limit zones, X-Real-IP, the access log's `client_ip`) reads Caddy's `client_ip` variable.
//
// Caddy 2.10 (modules/caddyhttp/server.go, determineTrustedProxy): each request's `client_ip`
// var is the connection's address unless that address is in `trusted_proxies`; then it is the
// first valid address in `client_ip_headers` (with `trusted_proxies_strict`, the right-most one
// that is not itself a trusted proxy), or the connection's address when the header is absent. A
// client elsewhere that sends the header is therefore keyed by its own address. The access log
// writes it as `request.client_ip` next to `remote_ip` (modules/caddyhttp/marshalers.go).
// reverse_proxy appends to a trusted proxy's X-Forwarded-For and replaces anyone else's.
import { isIP } from "net";

/** `{http.vars.client_ip}`: the address Caddy settled on for this request (see above). */
export const CLIENT_IP_PLACEHOLDER = "{http.vars.client_ip}";
/** The connection's own address, where no proxy is trusted (the default without `cloudflare`). */
export const REMOTE_HOST_PLACEHOLDER = "{http.request.remote.host}";

/** The server fields that make Caddy believe `header` from `ranges` and nowhere else. */
export interface CaddyClientIpFields {
    trusted_proxies: { source: "static"; ranges: string[] };
    client_ip_headers: string[];
    trusted_proxies_strict: 1;
}

export function clientIpServerFields(ranges: readonly string[], header: string): CaddyClientIpFields {
    return { trusted_proxies: { source: "static", ranges: [...ranges] }, client_ip_headers: [header], trusted_proxies_strict: 1 };
}

/**
 * An address or CIDR range, in the canonical text Caddy's netip parser accepts (`a.b.c.d/n`,
 * IPv6 lowercased), or undefined. A bare address is a /32 or /128. Host bits must be zero, as
 * Cloudflare writes its ranges: `10.0.0.1/8` is most likely a typo for an address.
 */
export function parseCidr(text: unknown): { text: string; family: 4 | 6; bits: number } | undefined {
    if (typeof text !== "string") return undefined;
    const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
    if (!m) return undefined;
    const family = isIP(m[1]!);
    if (family !== 4 && family !== 6) return undefined;
    const max = family === 4 ? 32 : 128;
    const bits = m[2] === undefined ? max : Number(m[2]);
    if (bits > max) return undefined;
    const value = family === 4 ? ipv4Bits(m[1]!) : ipv6Bits(m[1]!);
    if (value === undefined) return undefined;
    const hostMask = (1n << BigInt(max - bits)) - 1n;
    if ((value & hostMask) !== 0n) return undefined;
    return { text: `${family === 6 ? m[1]!.toLowerCase() : m[1]}/${bits}`, family, bits };
}

function ipv4Bits(a: string): bigint {
    return a.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function ipv6Bits(a: string): bigint | undefined {
    if (a.includes(".") || a.includes("%")) return undefined; // embedded IPv4 and zones: not for ranges
    const [head, tail] = a.split("::") as [string, string | undefined];
    const groups = (s: string | undefined) => (s ? s.split(":") : []);
    const h = groups(head), t = groups(tail);
    const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
    if (all.length !== 8) return undefined;
    return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Whether `ip` lies in `cidr` (both parsed by parseCidr's rules). */
export function cidrContains(cidr: string, ip: string): boolean {
    const range = parseCidr(cidr), addr = parseCidr(ip);
    if (!range || !addr || range.family !== addr.family) return false;
    const max = range.family === 4 ? 32 : 128;
    const toBits = (t: string) => (range.family === 4 ? ipv4Bits(t.split("/")[0]!) : ipv6Bits(t.split("/")[0]!)!);
    const shift = BigInt(max - range.bits);
    return toBits(range.text) >> shift === toBits(addr.text) >> shift;
}
