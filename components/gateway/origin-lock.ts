// The origin locked to Cloudflare (Authenticated Origin Pulls), on Caddy: the edge server's one TLS
// connection policy requires a client certificate that verifies against the origin-pull CA, so a
// TLS handshake without one (any client that did not come through Cloudflare) fails before HTTP.
//
// Caddy 2.10 (modules/caddytls/connpolicy.go, ClientAuthentication): `ca` is a
// `tls.ca_pool.source` module; `inline` takes base64 DER certificates. Mode `require_and_verify`
// refuses a handshake without a certificate, or with one the pool does not verify. The policy
// has no matcher, so it applies to every SNI, and to none: a handshake without SNI is locked too.
// Plain HTTP (port 80) only redirects to HTTPS and answers ACME HTTP-01 challenges.

/** `tls_connection_policies[]` entry with client authentication (the subset emitted here). */
export interface CaddyTlsConnectionPolicy {
    client_authentication: {
        ca: { provider: "inline"; trusted_ca_certs: string[] };
        mode: "require_and_verify";
    };
}

/** The base64 DER body of each PEM certificate, as the inline CA pool reads them. */
export function pemToBase64Der(pem: string): string {
    const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
    if (!m) throw new Error("pemToBase64Der: no PEM certificate");
    return m[1]!.replace(/\s+/g, "");
}

/** The edge server's connection policies: client certificates from `clientCaPems` only. */
export function originLockPolicies(clientCaPems: readonly string[]): CaddyTlsConnectionPolicy[] {
    return [{ client_authentication: { ca: { provider: "inline", trusted_ca_certs: clientCaPems.map(pemToBase64Der) }, mode: "require_and_verify" } }];
}
