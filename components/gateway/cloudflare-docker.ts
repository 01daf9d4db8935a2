// Cloudflare in front of a docker Gateway: proxied A/AAAA records of the domains to the host's
// public address, the zone's TLS settings and rulesets (the same `createCloudflareZone` as on
// do-app, so both targets derive them from one route and zone table), and, with `originLock`, the
// zone's Authenticated Origin Pulls, whose client certificate Caddy then requires (origin-lock.ts).
//
// The origin's own certificate: Caddy's ACME certificate (tls "auto"), which Cloudflare's SSL mode
// "strict" verifies like any public one. Renewals pass through Cloudflare (Caddy answers HTTP-01
// challenges on HTTPS too, modules/caddyhttp/server.go); the first issuance cannot, so the first
// deploy runs with `proxied: false` (README, "Cloudflare in front of a Docker host").
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { isIP } from "net";
import { ErrorContext, invalid } from "../core/errors";
import type { DockerTarget } from "../core/target";
import { transform } from "../core/transform";
import type { GatewayCloudflareArgs } from "./args";
import { CloudflareZoneResources, createCloudflareZone } from "./cloudflare";
import { cidrContains } from "./client-ip";
import { NormalizedGateway, isLocalHost } from "./normalize";
import type { GatewayCloudflareTransform } from "./transforms/cloudflare";

export interface GatewayDockerCloudflareResources extends CloudflareZoneResources {
    /** One proxied record per domain and address family. */
    dnsRecords: cloudflare.DnsRecord[];
    /** With `originLock`: the zone's Authenticated Origin Pulls, on. */
    originPulls?: cloudflare.AuthenticatedOriginPullsSettings;
}

/** Addresses Cloudflare cannot connect to: private, loopback, link-local, shared, multicast, unique-local. */
const NOT_PUBLIC = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3", "::/127", "fc00::/7", "fe80::/10", "ff00::/8",
];

/** The docker half of the `cloudflare` checks (checkGatewayDocker runs it): what a host behind Cloudflare needs. */
export function checkGatewayDockerCloudflare(ctx: ErrorContext, cf: GatewayCloudflareArgs, n: NormalizedGateway, target: DockerTarget): void {
    if (n.domains.length === 0) invalid(ctx, "cloudflare", "is set but there are no domains to put behind it", "add domains, or remove cloudflare");
    const local = n.domains.filter(isLocalHost);
    if (local.length) invalid(ctx, "domains", `${local.join(", ")} cannot be served through Cloudflare`, "use public hostnames of the Cloudflare zone");
    if (cf.originIpv4 === undefined && cf.originIpv6 === undefined) {
        invalid(ctx, "cloudflare.originIpv4", "is missing (and so is originIpv6): the DNS records need the host's public address",
            "pass the host's public IPv4 (e.g. a droplet's ipv4Address) as cloudflare.originIpv4, and/or its IPv6 as cloudflare.originIpv6");
    }
    checkOriginAddress(ctx, "cloudflare.originIpv4", cf.originIpv4, 4);
    checkOriginAddress(ctx, "cloudflare.originIpv6", cf.originIpv6, 6);
    if (n.tls !== "auto") {
        invalid(ctx, "tls", `is "${n.tls}", and Cloudflare's SSL mode "strict" connects to the origin over HTTPS and verifies its certificate`,
            `remove tls (ACME, "auto", is the default with public domains)`);
    }
    if (/^127\./.test(target.publishAddress) || target.publishAddress === "::1") {
        invalid(ctx, "cloudflare", `puts Cloudflare in front of a gateway published on ${target.publishAddress}, which Cloudflare cannot reach`,
            `build the DockerHost with publishAddress: "0.0.0.0" (or the host's public IP)`);
    }
}

function checkOriginAddress(ctx: ErrorContext, path: string, value: unknown, family: 4 | 6): void {
    if (typeof value !== "string") return; // an Output: known only at deploy time
    if (isIP(value) !== family) {
        invalid(ctx, path, `${JSON.stringify(value)} is not an IPv${family} address`,
            family === 4 ? `use the host's public IPv4, e.g. "203.0.113.10" (no port, no CIDR)` : `use the host's public IPv6, e.g. "2a03:b0c0:3:d0::1a2b:1"`);
    }
    const range = NOT_PUBLIC.find(r => cidrContains(r, value));
    if (range) {
        invalid(ctx, path, `${value} is not a public address (it is in ${range}), so Cloudflare cannot connect to it`,
            "use the address the host is reached at from the internet");
    }
}

/**
 * The zone's resources for a docker Gateway. The records point the domains at the host; the zone
 * settings and rulesets come from `createCloudflareZone` (nothing with `manageZone: false`).
 * Resources use the default Cloudflare provider unless a `transform` sets `opts.provider`.
 */
export function createGatewayDockerCloudflare(
    name: string, parent: pulumi.Resource, n: NormalizedGateway, cf: GatewayCloudflareArgs, t: GatewayCloudflareTransform = {},
    metricsToken?: pulumi.Input<string>, production = false,
): GatewayDockerCloudflareResources {
    const dnsRecords: cloudflare.DnsRecord[] = [];
    for (const hostname of n.domains) {
        for (const [type, content] of [["A", cf.originIpv4], ["AAAA", cf.originIpv6]] as const) {
            if (content === undefined) continue;
            dnsRecords.push(new cloudflare.DnsRecord(...transform(t.dnsRecord, `${name}-cf-dns-${type.toLowerCase()}-${hostname}`, {
                zoneId: cf.zoneId,
                name: hostname,
                type,
                content,
                proxied: cf.proxied ?? true,
                ttl: 1, // "automatic"; required to be 1 when proxied.
                comment: `Managed by Slipway (${pulumi.getStack()}): Gateway "${name}" origin`,
            }, { parent, protect: production })));
        }
    }
    const zone = createCloudflareZone(name, parent, n, cf, undefined, t, metricsToken);
    // Zone-level Authenticated Origin Pulls: Cloudflare's set-up guide enables it with "set
    // enablement for a zone" (PUT /zones/:id/origin_tls_client_auth/settings), the endpoint this
    // resource manages; the `tls_client_auth` zone setting is the older switch for the same thing.
    const originPulls = n.cloudflare?.originLock
        ? new cloudflare.AuthenticatedOriginPullsSettings(...transform(t.originPulls, `${name}-cf-origin-pulls`, { zoneId: cf.zoneId, enabled: true }, { parent }))
        : undefined;
    return { dnsRecords, originPulls, ...zone };
}
