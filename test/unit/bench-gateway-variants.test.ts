// The Gateway bench's "as before" rows must measure the config the Gateway really generated before
// slipway_edge, or the gain they show is made up. test/golden/before-edge/ holds the two golden
// configs as of commit 6bf000d (the last one with Caddy's access logger, HTTP metrics, headers
// handlers and body-limit routes), copied unchanged; this test rebuilds them from today's config.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { GATEWAY_VARIANTS, integerAbove } from "../../bench/gateway";
import { buildCaddyConfig, CaddyConfig, renderCaddyJson } from "../../components/gateway/caddy-config";
import { normalizeGateway } from "../../components/gateway/normalize";
import { domainArgs, localArgs, plainDocker, publicDocker } from "./gateway-fixtures";

const BEFORE = path.join(__dirname, "..", "golden", "before-edge");
const variant = (name: string) => {
    const v = GATEWAY_VARIANTS.find(x => x.name.trim() === name);
    assert.ok(v?.config, `no variant ${name}`);
    return v.config;
};

describe("Gateway bench variants", () => {
    const configs: [string, () => CaddyConfig][] = [
        ["gateway-caddy-local.json", () => buildCaddyConfig(normalizeGateway("edge", localArgs(plainDocker())))],
        ["gateway-caddy-domains.json", () => buildCaddyConfig(normalizeGateway("edge", domainArgs(publicDocker(true))))],
    ];

    it("rebuilds the config before slipway_edge byte for byte (Caddy's access log, HTTP metrics, headers and body-limit handlers)", () => {
        const before = variant("as before (Caddy's log, metrics, headers and body-limit handlers, eager runtime log)");
        for (const [file, build] of configs) {
            assert.equal(renderCaddyJson(before(build())), fs.readFileSync(path.join(BEFORE, file), "utf8"), file);
        }
    });

    it("matched a declared Content-Length over maxBodySize exactly, before slipway_edge (the old 413 route's pattern)", () => {
        for (const max of [1, 9, 99, 190, 1_048_576, 10_000_000]) {
            const re = new RegExp(integerAbove(max));
            for (const v of [0, 1, max - 1, max, max + 1, max + 9, max * 10, 10 ** String(max).length, 2 * max + 7]) {
                for (const text of [String(v), `000${v}`]) assert.equal(re.test(text), v > max, `${text} vs ${max}`);
            }
            assert.ok(!re.test("") && !re.test("1e9") && !re.test(`${max + 1} `));
        }
    });

    it("each partial 'as before' row swaps exactly one part, and leaves the gateway's config untouched", () => {
        for (const [file, build] of configs) {
            const today = renderCaddyJson(build());
            const edge = (c: CaddyConfig) => c.apps.http.servers.edge!.routes[0]!.handle[0] as unknown as Record<string, unknown>;
            const log = variant("as before: Caddy's access log")(build());
            assert.ok(!("access_log" in edge(log)) && log.apps.http.servers.edge!.logs && edge(log).metrics === true, file);
            const metrics = variant("as before: Caddy's HTTP metrics")(build());
            assert.ok(!("metrics" in edge(metrics)) && metrics.apps.http.metrics && "access_log" in edge(metrics), file);
            const headers = variant("as before: headers handlers")(build());
            assert.ok(!("response_headers" in edge(headers)) && !("request_id_header" in edge(headers)) && edge(headers).metrics === true, file);
            const body = variant("as before: 413 route and request_body")(build());
            assert.ok(!("max_request_body_bytes" in edge(body)) && renderCaddyJson(body).includes('"request_body"') && edge(body).metrics === true, file);
            const eager = variant("as before: runtime log encodes With at once")(build());
            assert.deepEqual(eager.logging.logs.default!.encoder, { format: "json" }, file);
            assert.equal(build().logging.logs.default!.encoder.format, "slipway_deferred", file);
            assert.equal(renderCaddyJson({ ...eager, logging: build().logging }), today, `${file}: only the runtime log's encoder`);
            const c = build();
            for (const v of GATEWAY_VARIANTS) v.config?.(c);
            assert.equal(renderCaddyJson(c), today, "the variants edit copies");
        }
    });
});
