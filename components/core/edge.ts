import type * as pulumi from "@pulumi/pulumi";

/** A hostname an edge (Cloudflare) must point at the App's ingress once the App exists. */
export interface EdgeRecord {
    readonly zoneId: pulumi.Input<string>;
    /** The full hostname, e.g. `api.example.com`. */
    readonly hostname: string;
    readonly proxied: boolean;
}
