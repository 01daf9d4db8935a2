// The policy pack's program: `pulumi preview --policy-pack node_modules/@slipway/components/policy`.
// The CLI starts it with the pack's folder as working directory (PolicyPack reads the version from
// ./package.json there) and talks to it over gRPC.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./pack";

new PolicyPack(PACK_NAME, {
    description: "Slipway guardrails: hardened Docker containers, protected production data, App Platform and Cloudflare edge settings.",
    policies: policies(),
});
