// The pieces both alert tests declare: a receiver standing in for Slack (busybox httpd with a CGI
// script that records every POST to a file) and a service of two example-API replicas linked to
// the Observability, on the stack's own network.
import type { DockerTarget } from "../../components/core/target";
import type { Observability } from "../../components/observability";
import type { DockerHarness } from "./harness";

const BASE_REF = "slipway/base:local";
const API_REF = "slipway/example-api:local";
const RECORDS = "/tmp/hooks";
/** busybox httpd runs CGI programs from <home>/cgi-bin; one file per POST, named by its path. */
const HOOK_SCRIPT = [
    "#!/bin/sh",
    `f=$(mktemp ${RECORDS}/rec.XXXXXX)`,
    "head -c \"${CONTENT_LENGTH:-0}\" > \"$f\"",
    "name=$(echo \"${PATH_INFO#/}\" | tr -c 'a-z0-9-' '_')",
    "mv \"$f\" \"$f-$name.json\"",
    "printf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nok'",
    "",
].join("\n");

export interface SlackMessage { channel?: string; attachments: { title: string; text: string; color: string }[] }
export interface ReceivedPost { file: string; path: string; body: SlackMessage }

/** The receiver (`rcv`, alias `rcv`, port 8080) and the replicas `svc-1`, `svc-2` of the service `svc`, handed to Prometheus. */
export async function declareReceiverAndService(target: DockerTarget, obs: Observability): Promise<{ hosts: string[]; replicas: import("@pulumi/docker").Container[] }> {
    // Loaded once the Recorder has installed its mocks, like the components the tests import.
    const docker = await import("@pulumi/docker");
    const opts = { provider: target.provider };
    const base = new docker.RemoteImage("rcv-image", { name: BASE_REF, keepLocally: true }, opts);
    new docker.Container("rcv", {
        image: base.imageId,
        user: "65534:65534",
        entrypoints: ["/bin/sh", "-c"],
        command: [`mkdir -p ${RECORDS} && exec busybox httpd -f -v -p 8080 -h /www`],
        uploads: [{ file: "/www/cgi-bin/hook", content: HOOK_SCRIPT, permissions: "0755" }, { file: "/www/index.html", content: "ok\n", permissions: "0444" }],
        networksAdvanced: [{ name: target.networkName, aliases: ["rcv"] }],
        healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "1s" },
        capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"],
        memory: 32, memorySwap: 32, wait: true, waitTimeout: 60,
    }, opts);
    const image = new docker.RemoteImage("svc-image", { name: API_REF, keepLocally: true }, opts);
    const hosts = [1, 2].map(i => `svc-${i}`);
    const replicas = hosts.map(host => new docker.Container(host, {
        image: image.imageId,
        // No DATABASE_URL: /health answers 200, /ready 503.
        envs: ["PORT=8080"],
        networksAdvanced: [{ name: target.networkName, aliases: [host] }],
        healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "1s" },
        user: "10001:10001", capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"],
        memory: 64, memorySwap: 64, stopTimeout: 5, destroyGraceSeconds: 5, wait: true, waitTimeout: 60,
    }, opts));
    obs.link({ service: "svc", port: 8080 }).docker!.scrape!.addTargets({ service: "svc", hosts, port: 8080, release: "r1" }, replicas);
    return { hosts, replicas };
}

/** Every POST the receiver has recorded, oldest first. */
export async function receivedPosts(h: DockerHarness): Promise<ReceivedPost[]> {
    const r = await h.exec(h.containers.get("rcv")!, ["sh", "-c", `cd ${RECORDS} && for f in $(ls -tr); do echo "=== $f"; cat "$f"; echo; done`]);
    return r.output.split("=== ").filter(Boolean).map(chunk => {
        const nl = chunk.indexOf("\n");
        const file = chunk.slice(0, nl).trim();
        const path = /^rec\.[A-Za-z0-9]+-(.*)\.json$/.exec(file)?.[1] ?? "";
        return { file, path, body: JSON.parse(chunk.slice(nl + 1)) as SlackMessage };
    });
}

/** The attachment titles of the posts to receiver paths starting with `path`. */
export const titlesAt = (rs: ReceivedPost[], path: string) => rs.filter(r => r.path.startsWith(path)).flatMap(r => r.body.attachments.map(a => a.title));
