import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { EdgeRecord } from "../core/edge";
import { Transform, checkTransform, transform } from "../core/transform";
import type { DoApp } from "./do-app";

/** Per child resource, args to merge over CloudflareEdge's, or a function editing copies of them and the options. */
export interface CloudflareEdgeTransform {
    /** Each `cloudflare.DnsRecord` (`<name>-dns-<hostname>`). @example `{ comment: "API (managed by Pulumi)" }` */
    record?: Transform<cloudflare.DnsRecordArgs>;
}

/** The resources a CloudflareEdge created. */
export interface CloudflareEdgeNodes {
    /** One `cloudflare.DnsRecord` per entry of `records`, in order. */
    readonly records: readonly cloudflare.DnsRecord[];
}

const TRANSFORM_KEYS = { record: true } as const satisfies Record<keyof CloudflareEdgeTransform, true>;

export interface CloudflareEdgeArgs {
    /** The App the records point at. */
    app: DoApp;
    /** What to point: usually `gateway.edgeRecords`. @example `gateway.edgeRecords ?? []` */
    records: readonly EdgeRecord[];
    /** @default the default Cloudflare provider (or the target's, when built from a target) */
    provider?: pulumi.ProviderResource;
    /** Production protects the records from deletion. @default `false` */
    production?: boolean;
    /**
     * Transform how this component creates its underlying resources: `record` (each DNS record),
     * args merged over the component's (shallow) or a function editing copies of the args and
     * options in place. Logical names never change.
     * @default none
     * @example `{ record: { comment: "API (managed by Pulumi)" } }`
     */
    transform?: CloudflareEdgeTransform;
}

/**
 * Proxied CNAMEs from each hostname to the App's default ingress. Built after the App, which it
 * needs, so neither DoApp nor the components know Cloudflare exists.
 */
export class CloudflareEdge extends pulumi.ComponentResource {
    readonly records: cloudflare.DnsRecord[];
    /** The underlying resources this component created: the ones `transform` reaches. */
    readonly nodes: CloudflareEdgeNodes;

    constructor(name: string, args: CloudflareEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        checkTransform({ kind: "CloudflareEdge", name }, args.transform, Object.keys(TRANSFORM_KEYS));
        super("slipway:targets:CloudflareEdge", name, {}, opts);
        const host = args.app.defaultIngress.apply(u => u.replace(/^https?:\/\//, "").replace(/\/.*$/, ""));
        this.records = args.records.map(r => new cloudflare.DnsRecord(...transform(args.transform?.record, `${name}-dns-${r.hostname}`, {
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
        })));
        this.nodes = { records: this.records };
        this.registerOutputs({ hostnames: args.records.map(r => r.hostname) });
    }
}
