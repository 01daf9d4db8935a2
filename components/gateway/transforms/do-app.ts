import type { GatewayCloudflareTransform } from "./cloudflare";

/**
 * `transform` keys of the do-app target (see `GatewayArgs.transform`): the Cloudflare zone's
 * resources (App Platform's ingress rules and domains are plain App spec data).
 */
export type GatewayDoAppTransform = GatewayCloudflareTransform;
