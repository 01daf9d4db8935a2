// Every rule of the pack with a resource it accepts and one it rejects, called as pure functions
// (no engine). A rule added without cases here fails the last test.
import { strict as assert } from "assert";
import { DEFAULT_SETTINGS, Options, Props, RULES, Rule, Settings, StackResource, UNKNOWN, settingsFor } from "../../policy/rules";
import { unpinned } from "../../policy/rules/docker";

const C = "docker:index/container:Container";
const IMG = "docker:index/remoteImage:RemoteImage";
const VOL = "docker:index/volume:Volume";
const APP = "digitalocean:index/app:App";
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const FW = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const ZS = "cloudflare:index/zoneSetting:ZoneSetting";
const DNS = "cloudflare:index/dnsRecord:DnsRecord";

const PROD: Settings = { ...DEFAULT_SETTINGS, production: true };

/** A container that passes every Docker rule; cases change one thing. */
const HARDENED: Props = {
    image: "registry.example.com/shop/api:1.4.2", user: "10001:10001", securityOpts: ["no-new-privileges:true"],
    capabilities: { drops: ["ALL"] }, memory: 512, logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" },
    ports: [{ internal: 8080, external: 8080, ip: "127.0.0.1" }],
};
const withC = (p: Props): Props => ({ ...HARDENED, ...p });

function res(type: string, name: string, props: Props, options: Options = {}, dependencies: string[] = []): StackResource {
    return { urn: `urn:pulumi:prod::shop::${type}::${name}`, type, name, props, options: { protect: false, ...options }, dependencies };
}
const urn = (type: string, name: string) => `urn:pulumi:prod::shop::${type}::${name}`;

type Case = { type: string; props: Props; options?: Options } | StackResource[];
interface Cases { pass: Case[]; fail: [Case, RegExp][]; settings?: Settings }

/** A Postgres volume as a database container mounts it; `protect`/`retain` set its options. */
function pgStack(options: Options): StackResource[] {
    return [
        res(IMG, "pg", { name: "postgres:16.4" }),
        res(VOL, "pg-data", { name: "pg-data" }, options),
        res(C, "db", withC({ image: UNKNOWN, volumes: [{ volumeName: "pg-data", containerPath: "/var/lib/postgresql/data" }] }), {},
            [urn(IMG, "pg"), urn(VOL, "pg-data")]),
    ];
}
const app = (services: Props[], envs: Props[] = []) => ({ type: APP, props: { spec: { name: "shop", services, envs } } });
const cfZone = (ssl: string, tls: string): StackResource[] => [
    res(ZS, "ssl", { zoneId: "z1", settingId: "ssl", value: ssl }),
    res(ZS, "tls", { zoneId: "z1", settingId: "min_tls_version", value: tls }),
    res(DNS, "www", { zoneId: "z1", name: "www.example.com", proxied: true }),
];

const CASES: Record<string, Cases> = {
    "docker-non-root-user": {
        pass: [{ type: C, props: HARDENED },
            // Postgres: starts as root to hand PGDATA to uid 999, holds only what stepping down needs.
            { type: C, props: withC({ user: undefined, capabilities: { drops: ["ALL"], adds: ["SETUID", "SETGID", "DAC_READ_SEARCH"] } }) }],
        fail: [[{ type: C, props: withC({ user: "0:0" }) }, /runs as root \(user "0:0"\)/],
            [{ type: C, props: withC({ user: "root" }) }, /runs as root/],
            [{ type: C, props: withC({ user: undefined, capabilities: undefined }) }, /sets no `user`.*root's capabilities/],
            [{ type: C, props: withC({ user: undefined, capabilities: { drops: ["ALL"], adds: ["SETUID", "NET_ADMIN"] } }) }, /adds NET_ADMIN/]],
    },
    "docker-no-new-privileges": {
        pass: [{ type: C, props: HARDENED }, { type: C, props: withC({ securityOpts: ["no-new-privileges"] }) }],
        fail: [[{ type: C, props: withC({ securityOpts: undefined }) }, /no-new-privileges is off/],
            [{ type: C, props: withC({ securityOpts: ["apparmor=docker-default"] }) }, /does not set no-new-privileges/]],
    },
    "docker-capabilities-dropped": {
        pass: [{ type: C, props: HARDENED }, { type: C, props: withC({ capabilities: { drops: ["all"], adds: ["CAP_NET_BIND_SERVICE"] } }) }],
        fail: [[{ type: C, props: withC({ capabilities: undefined }) }, /does not drop ALL/],
            [{ type: C, props: withC({ capabilities: { drops: ["ALL"], adds: ["SYS_ADMIN"] } }) }, /not allowed by the policy config: SYS_ADMIN/]],
    },
    "docker-memory-limit": {
        pass: [{ type: C, props: HARDENED }],
        fail: [[{ type: C, props: withC({ memory: undefined }) }, /no memory limit/], [{ type: C, props: withC({ memory: 0 }) }, /no memory limit/]],
    },
    "docker-log-rotation": {
        pass: [{ type: C, props: HARDENED }, { type: C, props: withC({ logDriver: "local", logOpts: undefined }) },
            { type: C, props: withC({ logDriver: "journald", logOpts: undefined }) }],
        fail: [[{ type: C, props: withC({ logDriver: undefined, logOpts: undefined }) }, /json-file and no `max-size`/],
            [{ type: C, props: withC({ logOpts: { "max-file": "3" } }) }, /json-file and no `max-size`/]],
    },
    "docker-no-privileged": {
        pass: [{ type: C, props: HARDENED }, { type: C, props: withC({ privileged: false }) }],
        fail: [[{ type: C, props: withC({ privileged: true }) }, /runs privileged/]],
    },
    "docker-no-host-namespaces": {
        pass: [{ type: C, props: HARDENED }, { type: C, props: withC({ networkMode: "none" }) }],
        fail: [[{ type: C, props: withC({ networkMode: "host" }) }, /host's network namespace/],
            [{ type: C, props: withC({ pidMode: "host" }) }, /host's PID namespace/]],
    },
    "docker-no-docker-socket": {
        pass: [{ type: C, props: withC({ volumes: [{ hostPath: "/srv/app/config", containerPath: "/config", readOnly: true }] }) }],
        fail: [[{ type: C, props: withC({ volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }] }) }, /Docker socket \(\/var\/run\/docker\.sock\)/],
            [{ type: C, props: withC({ mounts: [{ type: "bind", source: "/run", target: "/host-run" }] }) }, /Docker socket \(\/run\)/]],
    },
    "docker-no-public-data-port": {
        pass: [{ type: C, props: withC({ ports: [{ internal: 5432, external: 5432, ip: "127.0.0.1" }] }) },
            // The gateway's public port is not a data port.
            { type: C, props: withC({ ports: [{ internal: 443, external: 443, ip: "0.0.0.0" }] }) }],
        fail: [[{ type: C, props: withC({ ports: [{ internal: 5432, external: 5432 }] }) }, /data port 5432 on 0\.0\.0\.0/],
            [{ type: C, props: withC({ ports: [{ internal: 6379, external: 16379, ip: "::" }] }) }, /data port 6379 on ::/]],
    },
    "docker-image-pinned": {
        pass: [{ type: C, props: HARDENED }, { type: C, props: withC({ image: `sha256:${"a".repeat(64)}` }) },
            { type: C, props: withC({ image: UNKNOWN }) }, // the RemoteImage's imageId before it exists: judged on the RemoteImage
            { type: IMG, props: { name: `postgres@sha256:${"b".repeat(64)}` } }, { type: IMG, props: { name: "localhost:5000/team/api:2" } }],
        fail: [[{ type: IMG, props: { name: "postgres" } }, /"postgres" has no tag/],
            [{ type: C, props: withC({ image: "nginx:latest" }) }, /moving tag latest/],
            [{ type: IMG, props: { name: "localhost:5000/team/api" } }, /no tag/]],
    },
    "production-data-protected": {
        settings: PROD,
        pass: [pgStack({ protect: true, retainOnDelete: true }),
            // The analyzer protocol does not send retainOnDelete: undefined is "not known", not a violation.
            pgStack({ protect: true }),
            [res(CLUSTER, "db", { engine: "pg" }, { protect: true, retainOnDelete: true })],
            // A volume no database mounts (a cache of rendered pages) is not data.
            [res(VOL, "scratch", { name: "scratch" })]],
        fail: [[pgStack({ protect: false, retainOnDelete: true }), /pg-data is a database volume and not protected/],
            [pgStack({ protect: true, retainOnDelete: false }), /pg-data is a database volume and not retained on delete/],
            [[res(CLUSTER, "cache", { engine: "valkey" })], /cache is a valkey cluster and not protected/]],
    },
    "do-app-min-instances": {
        settings: PROD,
        pass: [app([{ name: "api", instanceCount: 2 }]), app([{ name: "api", instanceCount: 1, autoscaling: { minInstanceCount: 2, maxInstanceCount: 4 } }])],
        fail: [[app([{ name: "api", instanceCount: 1 }]), /service "api" runs 1 instance \(production needs 2\)/],
            [app([{ name: "api" }]), /runs 1 instance/]],
    },
    "do-database-trusted-sources": {
        pass: [[res(CLUSTER, "db", {}), res(FW, "db-fw", { clusterId: UNKNOWN, rules: [{ type: "app", value: UNKNOWN }] }, {}, [urn(CLUSTER, "db")])]],
        fail: [[[res(CLUSTER, "db", {})], /db has no DatabaseFirewall/],
            [[res(CLUSTER, "db", {}), res(FW, "db-fw", { rules: [{ type: "ip_addr", value: "0.0.0.0/0" }] }, {}, [urn(CLUSTER, "db")])], /db-fw trusts 0\.0\.0\.0\/0/]],
    },
    "do-app-no-secret-in-general-env": {
        pass: [app([{ name: "api", envs: [{ key: "STRIPE_SECRET_KEY", value: "sk_live_x1", type: "SECRET" }, { key: "LOG_LEVEL", value: "info" },
            { key: "PASSWORD_FILE", value: "/run/secrets/pw" }] }])],
        fail: [[app([{ name: "api", envs: [{ key: "SESSION_SECRET", value: "abc", type: "GENERAL" }] }]), /service "api": env SESSION_SECRET is GENERAL but its name says secret/],
            [app([], [{ key: "DB", value: "postgres://app:hunter2@db:5432/app" }]), /app: env DB is GENERAL but its value looks like a secret/]],
    },
    "cloudflare-ssl-strict": {
        pass: [cfZone("strict", "1.2"), [res(DNS, "dev", { zoneId: "z1", proxied: false })]],
        fail: [[cfZone("full", "1.2"), /ssl sets ssl to "full" \(want "strict"\)/],
            [[res(DNS, "www", { zoneId: "z2", name: "www.example.org", proxied: true })], /zone z2 proxies www\.example\.org but the stack does not set its ssl/]],
    },
    "cloudflare-min-tls-1-2": {
        pass: [cfZone("strict", "1.2"), cfZone("strict", "1.3")],
        fail: [[cfZone("strict", "1.1"), /tls sets min_tls_version to "1\.1"/],
            [[res(DNS, "www", { zoneId: "z2", name: "www.example.org", proxied: true })], /does not set its min_tls_version/]],
    },
};

function run(rule: Rule, c: Case, settings: Settings): string[] {
    if (rule.kind === "stack") {
        assert.ok(Array.isArray(c), `${rule.name} is a stack rule: its cases are resource lists`);
        return rule.check(c, settings).map(v => v.message);
    }
    assert.ok(!Array.isArray(c), `${rule.name} is a resource rule: its cases are single resources`);
    assert.ok(rule.types.includes(c.type), `${rule.name} does not apply to ${c.type}`);
    return rule.check(c.type, c.props, c.options ?? {}, settings);
}

describe("policy rules: each accepts a compliant resource and names the problem in a bad one", function () {
    for (const rule of RULES) {
        const cases = CASES[rule.name];
        if (!cases) continue;
        const settings = cases.settings ?? settingsFor({}, "dev");
        it(`${rule.name} (${rule.level})`, function () {
            for (const c of cases.pass) assert.deepEqual(run(rule, c, settings), [], `${rule.name} should accept ${JSON.stringify(c)}`);
            for (const [c, want] of cases.fail) {
                const got = run(rule, c, settings);
                assert.ok(got.some(m => want.test(m)), `${rule.name} on ${JSON.stringify(c)}: want ${want}, got ${JSON.stringify(got)}`);
            }
        });
    }

    it("has cases for every rule, and only for rules that exist", function () {
        assert.deepEqual(Object.keys(CASES).sort(), RULES.map(r => r.name).sort());
    });

    it("names, descriptions with a fix, and levels: advisory by default, mandatory for data protection", function () {
        assert.equal(new Set(RULES.map(r => r.name)).size, RULES.length, "names are unique");
        for (const r of RULES) {
            assert.match(r.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, r.name);
            assert.ok(r.description.length > 20 && r.fix.length > 20, `${r.name} needs a description and a fix`);
            assert.equal(r.level, r.name.startsWith("production-data-") ? "mandatory" : "advisory", r.name);
        }
    });

    it("production-only rules stay quiet outside production, and production follows config before the stack name", function () {
        const bad = app([{ name: "api", instanceCount: 1 }]);
        const rule = RULES.find(r => r.name === "do-app-min-instances")!;
        assert.deepEqual(run(rule, bad, settingsFor({}, "dev")), []);
        assert.equal(run(rule, bad, settingsFor({}, "prod")).length, 1);
        assert.equal(run(rule, bad, settingsFor({}, "shop-production")).length, 1);
        assert.deepEqual(run(rule, bad, settingsFor({ production: false }, "prod")), []);
        assert.equal(run(rule, bad, settingsFor({ production: true }, "staging")).length, 1);
        assert.equal(settingsFor({}, "reproduce").production, false, "prod must be a word of the name, not a substring");
    });

    it("settings from the config replace the defaults (allowedCapabilities, dataPorts, minInstances)", function () {
        const caps = RULES.find(r => r.name === "docker-capabilities-dropped")!;
        const sysAdmin = { type: C, props: withC({ capabilities: { drops: ["ALL"], adds: ["SYS_ADMIN"] } }) };
        assert.deepEqual(run(caps, sysAdmin, settingsFor({ allowedCapabilities: ["SYS_ADMIN"] }, "dev")), []);
        const ports = RULES.find(r => r.name === "docker-no-public-data-port")!;
        assert.equal(run(ports, { type: C, props: withC({ ports: [{ internal: 9999, external: 9999 }] }) }, settingsFor({ dataPorts: [9999] }, "dev")).length, 1);
        const min = RULES.find(r => r.name === "do-app-min-instances")!;
        assert.equal(run(min, app([{ name: "api", instanceCount: 2 }]), settingsFor({ minInstances: 3 }, "prod")).length, 1);
    });

    it("reads image references as Docker does: a registry port is not a tag", function () {
        assert.equal(unpinned("localhost:5000/api:1.2"), undefined);
        assert.match(unpinned("localhost:5000/api")!, /no tag/);
        assert.match(unpinned("ghcr.io/org/api:latest")!, /latest/);
        assert.equal(unpinned("api:1@sha256:" + "c".repeat(64)), undefined);
    });
});
