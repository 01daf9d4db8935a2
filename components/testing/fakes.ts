import { createHash } from "crypto";
import type { MockResourceArgs } from "@pulumi/pulumi/runtime";

const digest = (...parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex");

/**
 * Plausible, deterministic values for the outputs a provider computes, so programs that derive
 * URLs and connection strings from them resolve under mocks. Same inputs, same outputs: that is
 * what makes two synths of one stack byte-identical.
 */
export function fakeProviderOutputs(r: MockResourceArgs): Record<string, unknown> | undefined {
    // The only input fields read below; the engine may have marked the whole App spec secret.
    const i = r.inputs as { length?: number; name?: string; imageName?: string; spec?: { name?: string; value?: { name?: string } } };
    const h = digest(r.type, r.name);
    switch (r.type) {
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString": {
            // Alphanumeric only, so it survives URL building untouched; length as requested.
            const len = Number(i.length ?? 16);
            let s = "";
            for (let k = 0; s.length < len; k++) s += digest(h, String(k));
            return { result: s.slice(0, len) };
        }
        case "docker:index/container:Container":
            // A one-shot job (`attach`) that succeeded: the provider sets exitCode once it exited.
            return (r.inputs as { attach?: boolean }).attach ? { exitCode: 0, containerLogs: "" } : undefined;
        case "docker:index/remoteImage:RemoteImage":
            return { imageId: `sha256:${h}`, repoDigest: `${i.name}@sha256:${h}` };
        case "docker:index/image:Image":
            return { imageName: i.imageName, repoDigest: `${i.imageName}@sha256:${h}` };
        case "digitalocean:index/app:App": {
            const spec = i.spec?.value ?? i.spec; // unwrap: the engine may mark the whole spec secret
            const host = `${spec?.name ?? r.name}-${h.slice(0, 5)}.ondigitalocean.app`;
            return { defaultIngress: `https://${host}`, liveUrl: `https://${host}`, urn: `do:app:${h.slice(0, 8)}` };
        }
        case "digitalocean:index/databaseCluster:DatabaseCluster":
            return {
                host: `${i.name}-do-user-0.db.ondigitalocean.com`,
                privateHost: `private-${i.name}-do-user-0.db.ondigitalocean.com`,
                port: 25060,
                database: "defaultdb",
                user: "doadmin",
                password: `fake-${h.slice(0, 24)}`,
                urn: `do:dbaas:${h.slice(0, 8)}`,
            };
        case "digitalocean:index/databaseUser:DatabaseUser":
            return { password: `fake-${h.slice(0, 24)}` };
        case "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool":
            return { host: `pool-${h.slice(0, 6)}.db.ondigitalocean.com`, port: 25061, password: `fake-${h.slice(0, 24)}` };
        case "pulumi:pulumi:StackReference":
            // A stack with no outputs yet; tests that need a previous update pass their own.
            return { outputs: {}, secretOutputNames: [] };
        default:
            return undefined;
    }
}
