// Hardening for every docker.Container, after seed 004's checklist (non-root, no-new-privileges,
// capabilities, memory, log rotation, no privileged/host namespaces/socket, pinned images, data
// ports off the public interfaces). Each reads the container's inputs as the program set them.
import { Props, ResourceRule, asArray, asRecord, isKnown, isUnknown } from "./types";

export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

/** What an entrypoint that starts as root needs to hand its files to a service user and step down to it (Postgres' does). */
export const STEP_DOWN_CAPABILITIES = ["CHOWN", "DAC_READ_SEARCH", "FOWNER", "SETGID", "SETUID"];

const capName = (c: unknown) => String(c).toUpperCase().replace(/^CAP_/, "");

function capabilities(props: Props): { drops: string[]; adds: string[] } {
    const c = asRecord(props.capabilities);
    return { drops: asArray(c.drops).map(capName), adds: asArray(c.adds).map(capName) };
}

/** The uid part of `user` ("uid", "uid:gid", "name", "name:group"); undefined when unset or unknown. */
function userOf(props: Props): string | undefined {
    const u = props.user;
    return typeof u === "string" && isKnown(u) && u.trim() !== "" ? u.trim().split(":")[0] : undefined;
}

function container(rule: Omit<ResourceRule, "kind" | "types" | "level"> & { level?: ResourceRule["level"] }): ResourceRule {
    return { kind: "resource", types: [CONTAINER], level: "advisory", ...rule };
}

export const nonRootUser = container({
    name: "docker-non-root-user",
    description: "Containers run as a non-root user.",
    fix: "Set `user` to the image's non-root uid:gid (e.g. \"10001:10001\"). An image whose entrypoint must start as root to " +
        "step down to a service user (Postgres) may leave `user` unset only if the container drops ALL capabilities and adds " +
        "back no more than CHOWN, DAC_READ_SEARCH, FOWNER, SETGID, SETUID.",
    settings: [],
    check(_t, props) {
        const uid = userOf(props);
        if (uid !== undefined) return uid === "0" || uid === "root" ? [`runs as root (user "${props.user}")`] : [];
        if (props.user === undefined || props.user === "") {
            const { drops, adds } = capabilities(props);
            const extra = adds.filter(a => !STEP_DOWN_CAPABILITIES.includes(a));
            if (!drops.includes("ALL")) return ["sets no `user`, so it runs as the image's user (root unless the image says otherwise), with root's capabilities"];
            if (extra.length) return [`sets no \`user\` and adds ${extra.join(", ")}: more than a root entrypoint needs to step down to a service user`];
        }
        return [];
    },
});

export const noNewPrivileges = container({
    name: "docker-no-new-privileges",
    description: "Containers set no-new-privileges, so no setuid binary can gain privileges.",
    fix: "Add `securityOpts: [\"no-new-privileges:true\"]`.",
    settings: [],
    check(_t, props) {
        const opts = props.securityOpts;
        if (!isKnown(opts)) return opts === undefined ? ["has no `securityOpts`: no-new-privileges is off"] : [];
        return asArray(opts).some(o => /^no-new-privileges(?:[:=]true)?$/i.test(String(o).trim())) ? [] : ["does not set no-new-privileges"];
    },
});

export const capabilitiesDropped = container({
    name: "docker-capabilities-dropped",
    description: "Containers drop ALL Linux capabilities and add back only those listed in the policy config.",
    fix: "Set `capabilities: { drops: [\"ALL\"] }` and add back (`adds`) only what the process needs; allow more with the " +
        "policy config's `allowedCapabilities`.",
    settings: ["allowedCapabilities"],
    check(_t, props, _o, s) {
        if (!isKnown(props.capabilities) && props.capabilities !== undefined) return [];
        const { drops, adds } = capabilities(props);
        const out: string[] = [];
        if (!drops.includes("ALL")) out.push("does not drop ALL capabilities (Docker's default set stays)");
        const allowed = s.allowedCapabilities.map(capName);
        const extra = adds.filter(a => !allowed.includes(a));
        if (extra.length) out.push(`adds capabilities not allowed by the policy config: ${extra.join(", ")}`);
        return out;
    },
});

export const memoryLimit = container({
    name: "docker-memory-limit",
    description: "Containers have a memory limit, so one leak cannot take the host down.",
    fix: "Set `memory` (MiB), and `memorySwap` to the same value to forbid swap.",
    settings: [],
    check(_t, props) {
        const m = props.memory;
        if (!isKnown(m) && m !== undefined) return [];
        return typeof m === "number" && m > 0 ? [] : ["has no memory limit (`memory` unset)"];
    },
});

/** Drivers that keep no unbounded file on the host. json-file (Docker's default) does unless max-size is set. */
const BOUNDED_DRIVERS = ["local", "none", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "gcplogs", "logentries", "etwlogs"];

export const logRotation = container({
    name: "docker-log-rotation",
    description: "Container logs are rotated, so they cannot fill the host's disk.",
    fix: "Set `logDriver: \"json-file\"` with `logOpts: { \"max-size\": \"10m\", \"max-file\": \"3\" }`, or use the `local` driver.",
    settings: [],
    check(_t, props) {
        const driver = props.logDriver ?? "json-file";
        if (isUnknown(driver) || isUnknown(props.logOpts)) return [];
        if (BOUNDED_DRIVERS.includes(String(driver))) return [];
        if (driver !== "json-file") return [];
        return asRecord(props.logOpts)["max-size"] ? [] : [`logs with json-file and no \`max-size\`: the log file grows without bound`];
    },
});

export const noPrivileged = container({
    name: "docker-no-privileged",
    description: "Containers never run privileged (every capability and every host device).",
    fix: "Remove `privileged: true`; add the one capability or device the process needs instead.",
    settings: [],
    check: (_t, props) => (props.privileged === true ? ["runs privileged"] : []),
});

export const noHostNamespaces = container({
    name: "docker-no-host-namespaces",
    description: "Containers do not share the host's network, PID or IPC namespace.",
    fix: "Remove `networkMode: \"host\"` (use a Docker network and publish ports on 127.0.0.1), `pidMode: \"host\"` and `ipcMode: \"host\"`.",
    settings: [],
    check(_t, props) {
        const out: string[] = [];
        for (const [k, what] of [["networkMode", "network"], ["pidMode", "PID"], ["ipcMode", "IPC"]] as const) {
            if (props[k] === "host") out.push(`shares the host's ${what} namespace (\`${k}: "host"\`)`);
        }
        return out;
    },
});

const SOCKET = /(^|\/)docker\.sock$|^\/(var\/)?run\/?$/;

export const noDockerSocket = container({
    name: "docker-no-docker-socket",
    description: "No container mounts the Docker socket (root on the host for whoever reaches it).",
    fix: "Remove the mount of /var/run/docker.sock; if a tool needs the API, give it a filtering proxy with read-only access.",
    settings: [],
    check(_t, props) {
        const paths = [
            ...asArray<Record<string, unknown>>(props.volumes).map(v => v?.hostPath),
            ...asArray<Record<string, unknown>>(props.mounts).map(m => m?.source),
        ];
        return paths.filter(p => typeof p === "string" && SOCKET.test(p)).map(p => `mounts the Docker socket (${p})`);
    },
});

const ALL_INTERFACES = ["", "0.0.0.0", "::", "[::]"];

export const noPublicDataPort = container({
    name: "docker-no-public-data-port",
    description: "No database, cache or queue port is published on every interface (0.0.0.0).",
    fix: "Publish it on 127.0.0.1 (`ports: [{ internal, external, ip: \"127.0.0.1\" }]`) or not at all: containers reach it over the Docker network.",
    settings: ["dataPorts"],
    check(_t, props, _o, s) {
        return asArray<Record<string, unknown>>(props.ports)
            .filter(p => s.dataPorts.includes(Number(p?.internal)) && !isUnknown(p?.ip) && ALL_INTERFACES.includes(String(p?.ip ?? "")))
            .map(p => `publishes data port ${p.internal} on ${p.ip || "0.0.0.0"} (as ${p.external ?? "a random port"})`);
    },
});

/** Why an image reference is not pinned, or undefined when it is (a tag other than latest, a digest, an image ID). */
export function unpinned(ref: string): string | undefined {
    const r = ref.trim();
    if (/^sha256:[0-9a-f]{64}$/.test(r) || /@sha256:[0-9a-f]{64}$/.test(r)) return undefined;
    const lastSegment = r.slice(r.lastIndexOf("/") + 1);
    const colon = lastSegment.lastIndexOf(":");
    if (colon < 0) return `"${r}" has no tag, so Docker pulls latest`;
    return lastSegment.slice(colon + 1) === "latest" ? `"${r}" uses the moving tag latest` : undefined;
}

export const imagePinned: ResourceRule = {
    kind: "resource",
    types: [CONTAINER, REMOTE_IMAGE],
    name: "docker-image-pinned",
    description: "Images are pinned by a version tag or a digest, never latest (what runs must not change under the same config).",
    fix: "Name a version tag (`postgres:16.4`) or a digest (`postgres@sha256:...`); for a Container, use the RemoteImage's `imageId`.",
    level: "advisory",
    settings: [],
    check(type, props) {
        const ref = type === REMOTE_IMAGE ? props.name : props.image;
        if (typeof ref !== "string" || !isKnown(ref)) return [];
        const why = unpinned(ref);
        return why ? [`image ${why}`] : [];
    },
};

export const DOCKER_RULES: ResourceRule[] = [
    nonRootUser, noNewPrivileges, capabilitiesDropped, memoryLimit, logRotation, noPrivileged, noHostNamespaces, noDockerSocket,
    noPublicDataPort, imagePinned,
];
