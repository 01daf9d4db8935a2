import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { EdgeRecord } from "../core/edge";
import type { DoApp } from "./do-app";

export interface CloudflareEdgeArgs {
    /** The App the records point at. */
    app: DoApp;
    /** What to point: usually `gateway.edgeRecords`. @example `gateway.edgeRecords ?? []` */
    records: readonly EdgeRecord[];
    /** @default the default Cloudflare provider (or the target's, when built from a target) */
    provider?: pulumi.ProviderResource;
    /** Production protects the records from deletion. @default `false` */
    production?: boolean;
}

/**
 * Proxied CNAMEs from each hostname to the App's default ingress. Built after the App, which it
 * needs, so neither DoApp nor the components know Cloudflare exists.
 */
export class CloudflareEdge extends pulumi.ComponentResource {
    readonly records: cloudflare.DnsRecord[];

    constructor(name: string, args: CloudflareEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("slipway:targets:CloudflareEdge", name, {}, opts);
        const host = args.app.defaultIngress.apply(u => u.replace(/^https?:\/\//, "").replace(/\/.*$/, ""));
        this.records = args.records.map(r => new cloudflare.DnsRecord(`${name}-dns-${r.hostname}`, {
            zoneId: r.zoneId,
            name: r.hostname,
            type: "CNAME",
            content: host,
            proxied: r.proxied,
            ttl: 1, // "automatic"; required to be 1 when proxied.
            comment: `Managed by Slipway (${pulumi.getStack()}): App Platform ingress`,
        }, {
            parent: this,
            provider: args.provider,
            protect: args.production ?? false,
            // DoApp created these before 0.2 (docs/aliases.md).
            aliases: [{ name: `${args.app.logicalName}-dns-${r.hostname}`, parent: args.app }],
        }));
        this.registerOutputs({ hostnames: args.records.map(r => r.hostname) });
    }
}
