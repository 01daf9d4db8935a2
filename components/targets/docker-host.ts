import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { invalid, ErrorContext } from "../core/errors";
import { DOCKER_NAME } from "../core/naming";
import { MonthlyCost, hostCost } from "../core/prices";
import { REGISTRIES_SHAPE, RegistryCredential, RegistryCredentialArgs, normalizeRegistries, providerRegistryAuth } from "../core/registries";
import { Shape, checkShape, shape, unknownKeyFix } from "../core/shape";
import { DockerTarget } from "../core/target";
import { Transform, checkTransform, transform } from "../core/transform";
import { DockerHostSsh, SSH_SHAPE, SshAddress, checkSshEngine, parseSshHost, sshOptions, underMocks } from "./ssh";

/** Per child resource, args to merge over DockerHost's, or a function editing copies of them and the options. */
export interface DockerHostTransform {
    /**
     * The `docker.Provider` (`<name>-provider`), e.g. for registry credentials or SSH options.
     * @example `{ registryAuth: [{ address: "ghcr.io", username: "ci", password: cfg.requireSecret("ghcrToken") }] }`
     */
    provider?: Transform<docker.ProviderArgs>;
    /** The private bridge `docker.Network` (`<name>-network`). @example `{ ipamConfigs: [{ subnet: "172.30.0.0/24" }] }` */
    network?: Transform<docker.NetworkArgs>;
}

/** The resources a DockerHost created. */
export interface DockerHostNodes {
    readonly provider: docker.Provider;
    readonly network: docker.Network;
}

const TRANSFORM_KEYS = { provider: true, network: true } as const satisfies Record<keyof DockerHostTransform, true>;

export interface DockerHostArgs {
    /**
     * The engine to deploy to: the local socket, or a VM over SSH (`ssh://[user@]host[:port]`, or
     * `ssh://<alias>` with User, Port and IdentityFile from ~/.ssh/config). README: "Remote engine over SSH".
     * @default `"unix:///var/run/docker.sock"`
     * @example `"ssh://deploy@staging.example.com"`
     */
    host?: string;
    /**
     * SSH options of an `ssh://` host, passed to the provider as ssh flags. Strict host key
     * checking is on unless turned off here (never in production).
     * @default `{ strictHostKeyChecking: true, preflight: true }`
     * @example `{ port: 2222, identityFile: "~/.ssh/deploy_ed25519" }`
     */
    ssh?: DockerHostSsh;
    /** Environment name, used in names and labels. @example `"dev"` */
    environment: string;
    /** Production turns on protect/retainOnDelete for data. @default `false` */
    production?: boolean;
    /**
     * Prefix of every container, volume and network name on the engine. The default holds the
     * Pulumi project, so two projects' stacks of one name (`dev`) share an engine without their
     * names colliding. Slipway before 0.2 used `"slipway-<environment>"`: a project other than
     * `slipway` that was deployed then sets that to keep its names (a new name is a new volume:
     * see docs/aliases.md).
     * @default `"<pulumi project>-<environment>"`
     * @example `"slipway-dev"`
     */
    namePrefix?: string;
    /**
     * Interface that published ports bind to. Keep the loopback default unless the gateway faces
     * the internet directly; everything else is reached over the private network only.
     * @default `"127.0.0.1"`
     */
    publishAddress?: string;
    /**
     * Credentials for private registries: every image this host pulls from one of them (the
     * provider's `registryAuth`, matched by the reference's host). The token stays secret.
     * @default `[]` (public images, and images already on the engine)
     * @example `[{ host: "ghcr.io", username: "acme-ci", token: cfg.requireSecret("ghcrToken") }]`
     */
    registries?: RegistryCredentialArgs[];
    /**
     * What the host VM costs, in USD per month: the docker target has no price list, so the
     * stack's `monthlyCost` is this (counted once; the containers on it add nothing) or "not estimated".
     * @default none (not estimated)
     * @example `24`
     */
    hostMonthlyCost?: number;
    /**
     * Transform how this component creates its underlying resources: `provider` and `network`,
     * args merged over the component's (shallow) or a function editing copies of the args and
     * options in place. Containers join the network by the name it ends up with (`target.networkName`).
     * @default none
     * @example `{ network: { ipamConfigs: [{ subnet: "172.30.0.0/24" }] } }`
     */
    transform?: DockerHostTransform;
}

/** A `transform` entry: args to merge or a function, which only a program can give. */
const child = (what: string) => shape.program(`${what}: args to merge over the component's, or (args, opts, name) => void`);

/**
 * Every key DockerHostArgs takes, with its type: `checkShape` runs it first in normalize (unknown
 * keys with a did-you-mean, types before meaning), and `toJsonSchema` turns it into the schema of a
 * stack file's `slipway:docker` block (where `environment` and `production` come from the stack's
 * top-level settings). `PropsOf` makes an Args field without a shape here fail to compile.
 */
export const DOCKER_HOST_SHAPE: Shape = shape.object<DockerHostArgs>({
    host: shape.string(undefined, "the engine: unix:///var/run/docker.sock, ssh://user@host[:port] or ssh://<alias from ~/.ssh/config>"),
    ssh: SSH_SHAPE,
    environment: shape.string(undefined, "environment name, used in names and labels"),
    production: shape.bool("protect and retain data"),
    namePrefix: shape.string(undefined, "prefix of every container, volume and network name"),
    publishAddress: shape.string(undefined, "the IPv4 address published ports bind to, e.g. 127.0.0.1"),
    registries: REGISTRIES_SHAPE,
    hostMonthlyCost: shape.number("the host VM's price in USD per month, for the stack's monthlyCost"),
    transform: shape.object<DockerHostTransform>({
        provider: child("the docker.Provider"),
        network: child("the private network"),
    }, [], "program only: per child resource, how it is created"),
}, ["environment"]);

export interface NormalizedDockerHost {
    host: string;
    /** An ssh:// host's parts and the provider's `sshOpts`. */
    ssh?: { address: SshAddress; sshOpts: string[]; preflight: boolean };
    environment: string;
    production: boolean;
    namePrefix: string;
    publishAddress: string;
    /** Not a unix socket: the engine runs elsewhere and sees none of this machine's images. */
    remote: boolean;
    registries: RegistryCredential[];
    hostMonthlyCost?: number;
}

const HOST = /^(unix:\/\/\/\S+|tcp:\/\/[a-zA-Z0-9.-]+:\d{1,5})$/;

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `transform` before the shape, in the wording every component shares (its keys name child
 * resources, and a misspelt one gets a did-you-mean); then each value is args or a function.
 */
function checkTransformKeys(ctx: ErrorContext, given: unknown, keys: readonly string[]): void {
    for (const k of Object.keys(isMapping(given) ? given : {})) {
        if (!keys.includes(k)) invalid(ctx, `transform.${k}`, `${JSON.stringify(k)} is not a child resource ${ctx.kind} creates`, unknownKeyFix(k, keys));
    }
    checkTransform(ctx, given, keys);
}

/**
 * `project`: the Pulumi project, part of the default `namePrefix`; outside a Pulumi program there
 * is none and `slipway` stands in.
 */
export function normalizeDockerHost(name: string, args: DockerHostArgs, project: string = pulumi.getProject()): NormalizedDockerHost {
    const ctx: ErrorContext = { kind: "DockerHost", name };
    checkTransformKeys(ctx, (args as { transform?: unknown } | undefined)?.transform, Object.keys(TRANSFORM_KEYS));
    // Types before meaning: an unknown key or a value of the wrong type is named first.
    checkShape(ctx, DOCKER_HOST_SHAPE, args ?? null);
    const host = args.host ?? "unix:///var/run/docker.sock";
    const ssh = host.startsWith("ssh://") ? normalizeSsh(ctx, host, args) : undefined;
    if (!ssh && !HOST.test(host)) {
        invalid(ctx, "host", `${JSON.stringify(host)} is not a Docker engine address`,
            `use "unix:///var/run/docker.sock" or "ssh://user@host"`);
    }
    if (!ssh && args.ssh !== undefined) {
        invalid(ctx, "ssh", `applies to an ssh:// host only, and host is ${JSON.stringify(host)}`, `remove ssh, or set host to "ssh://user@host"`);
    }
    // A plain tcp:// engine has no TLS here: anyone on the path could run containers as root.
    if (host.startsWith("tcp://") && !/^tcp:\/\/(127\.0\.0\.1|localhost):/.test(host)) {
        invalid(ctx, "host", `${JSON.stringify(host)} reaches a remote engine over unencrypted TCP`,
            `use "ssh://user@host", which tunnels the Docker API over SSH`);
    }
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(args.environment ?? "")) {
        invalid(ctx, "environment", `${JSON.stringify(args.environment)} is not an environment name`,
            `use lowercase letters, digits and hyphens, e.g. "dev" or "staging"`);
    }
    const namePrefix = args.namePrefix ?? `${project || "slipway"}-${args.environment}`;
    if (!DOCKER_NAME.test(namePrefix)) {
        invalid(ctx, "namePrefix", `${JSON.stringify(namePrefix)}${args.namePrefix === undefined ? " (the Pulumi project, then the environment)" : ""} cannot start a Docker object name`,
            "use letters, digits, '_', '.' and '-'" + (args.namePrefix === undefined ? ", e.g. namePrefix: \"<project>-<environment>\" spelt that way" : ""));
    }
    const publishAddress = args.publishAddress ?? "127.0.0.1";
    const octets = publishAddress.split(".");
    if (octets.length !== 4 || !octets.every(o => /^\d{1,3}$/.test(o) && Number(o) <= 255)) {
        invalid(ctx, "publishAddress", `${JSON.stringify(publishAddress)} is not an IPv4 address`, `use "127.0.0.1" or "0.0.0.0"`);
    }
    const production = args.production ?? false;
    const registries = normalizeRegistries(ctx, "registries", args.registries, production);
    const hostMonthlyCost = args.hostMonthlyCost;
    if (hostMonthlyCost !== undefined && !(Number.isFinite(hostMonthlyCost) && hostMonthlyCost >= 0)) {
        invalid(ctx, "hostMonthlyCost", `${hostMonthlyCost} is not a price`, "give the VM's monthly price in USD, e.g. 24, or leave it out");
    }
    return { host, ssh, environment: args.environment, production, namePrefix, publishAddress, remote: !host.startsWith("unix://"), registries, hostMonthlyCost };
}

function normalizeSsh(ctx: ErrorContext, host: string, args: DockerHostArgs): NonNullable<NormalizedDockerHost["ssh"]> {
    const address = parseSshHost(ctx, host);
    const sshOpts = sshOptions(ctx, address, args.ssh ?? {}, args.production ?? false);
    return { address, sshOpts, preflight: args.ssh?.preflight ?? true };
}

/**
 * A single Docker host: its provider and a private bridge network. Components deploy onto
 * `host.target`. It comes first in a stack because every container needs the provider and network.
 */
export class DockerHost extends pulumi.ComponentResource {
    readonly target: DockerTarget;
    readonly provider: docker.Provider;
    readonly network: docker.Network;
    /** The VM's price (`hostMonthlyCost`), or not estimated: the docker stack's whole cost, counted once. */
    readonly monthlyCost: pulumi.Output<MonthlyCost>;
    /** The underlying resources this component created. */
    readonly nodes: DockerHostNodes;

    constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const n = normalizeDockerHost(name, args);
        // A real run only: under mocks (tests, synth) there is no VM to reach.
        if (n.ssh?.preflight && !underMocks()) checkSshEngine({ kind: "DockerHost", name }, n.host, n.ssh.address, n.ssh.sshOpts, args.ssh ?? {});
        super("slipway:targets:DockerHost", name, {}, opts);
        const labels = { "slipway.stack": pulumi.getStack(), "slipway.environment": n.environment, "slipway.managed": "true" };
        this.provider = new docker.Provider(...transform(args.transform?.provider, `${name}-provider`, {
            host: n.host, ...(n.ssh && { sshOpts: n.ssh.sshOpts }),
            registryAuth: n.registries.length ? providerRegistryAuth(n.registries) : undefined,
        }, { parent: this }));
        this.network = new docker.Network(...transform(args.transform?.network, `${name}-network`, {
            name: `${n.namePrefix}-net`,
            driver: "bridge",
            labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
        }, { parent: this, provider: this.provider }));
        this.nodes = { provider: this.provider, network: this.network };
        this.target = {
            kind: "docker",
            environment: n.environment,
            production: n.production,
            provider: this.provider,
            networkName: this.network.name,
            publishAddress: n.publishAddress,
            remote: n.remote,
            namePrefix: n.namePrefix,
            labels,
            ...(n.hostMonthlyCost !== undefined && { hostMonthlyCost: n.hostMonthlyCost }),
        };
        this.monthlyCost = pulumi.output(hostCost(n.hostMonthlyCost));
        this.registerOutputs({ networkName: this.network.name, monthlyCost: this.monthlyCost });
    }
}
