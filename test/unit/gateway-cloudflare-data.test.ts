// Cloudflare's published data kept in components/gateway/cloudflare-data.ts: the IP ranges parse
// as CIDRs (non-empty for IPv4 and IPv6, no overlaps, no catch-all) and the origin-pull CA is the
// self-signed CA its source names (it verifies its own signature, so no character was lost).
import { strict as assert } from "assert";
import { X509Certificate, createHash } from "crypto";
import {
    CLOUDFLARE_IPV4_RANGES, CLOUDFLARE_IPV6_RANGES, CLOUDFLARE_IP_RANGES_SOURCE, CLOUDFLARE_ORIGIN_PULL_CA, CLOUDFLARE_ORIGIN_PULL_CA_SOURCE,
} from "../../components/gateway/cloudflare-data";
import { cidrContains, parseCidr } from "../../components/gateway/client-ip";

describe("Cloudflare data", () => {
    for (const [family, ranges] of [[4, CLOUDFLARE_IPV4_RANGES], [6, CLOUDFLARE_IPV6_RANGES]] as const) {
        it(`IPv${family} ranges: non-empty, each a CIDR of that family, none inside another, none a catch-all`, () => {
            assert.ok(ranges.length > 0);
            for (const r of ranges) {
                const c = parseCidr(r);
                assert.ok(c, `${r} parses`);
                assert.equal(c.family, family, r);
                assert.equal(c.text, r, `${r} is written canonically`);
                assert.ok(c.bits >= 8, `${r} is not a catch-all`);
            }
            for (const a of ranges) for (const b of ranges) if (a !== b) assert.ok(!cidrContains(a, b.split("/")[0]!), `${b} lies in ${a}`);
        });
    }

    it("says where the ranges come from and when they were written down", () => {
        assert.equal(CLOUDFLARE_IP_RANGES_SOURCE.v4, "https://www.cloudflare.com/ips-v4");
        assert.equal(CLOUDFLARE_IP_RANGES_SOURCE.v6, "https://www.cloudflare.com/ips-v6");
        assert.match(CLOUDFLARE_IP_RANGES_SOURCE.written, /^\d{4}-\d{2}-\d{2}$/);
    });

    it("the origin-pull CA is Cloudflare's, self-signed, and matches the recorded fingerprint", () => {
        const ca = new X509Certificate(CLOUDFLARE_ORIGIN_PULL_CA);
        assert.ok(ca.ca);
        assert.match(ca.subject, /CN=origin-pull\.cloudflare\.net/);
        assert.ok(ca.verify(ca.publicKey), "the PEM verifies its own signature");
        assert.equal(ca.fingerprint256, CLOUDFLARE_ORIGIN_PULL_CA_SOURCE.sha256);
        assert.equal(ca.validTo, "Nov  1 17:00:00 2029 GMT");
        assert.equal(createHash("sha256").update(ca.raw).digest("hex").toUpperCase().match(/../g)!.join(":"), CLOUDFLARE_ORIGIN_PULL_CA_SOURCE.sha256);
    });

    describe("parseCidr and cidrContains (what normalize and the origin checks rely on)", () => {
        it("takes addresses and ranges, refuses host bits, junk and out-of-range prefixes", () => {
            assert.deepEqual(parseCidr("127.0.0.1"), { text: "127.0.0.1/32", family: 4, bits: 32 });
            assert.deepEqual(parseCidr("2400:CB00::/32"), { text: "2400:cb00::/32", family: 6, bits: 32 });
            for (const bad of ["10.0.0.1/8", "1.2.3.4/33", "::/129", "abc", "1.2.3/24", "", "10.0.0.0/8/8", 42]) assert.equal(parseCidr(bad), undefined, String(bad));
            assert.ok(cidrContains("172.16.0.0/12", "172.31.255.255"));
            assert.ok(!cidrContains("172.16.0.0/12", "172.32.0.1"));
            assert.ok(cidrContains("fc00::/7", "fdff::1"));
            assert.ok(!cidrContains("fc00::/7", "2001:db8::1"));
            assert.ok(!cidrContains("10.0.0.0/8", "::1"));
        });
    });
});
