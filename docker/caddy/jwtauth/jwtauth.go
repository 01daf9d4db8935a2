// Package jwtauth is Slipway's JWT check at the edge: a Caddy HTTP handler (`slipway_jwt`) that
// lets a request through only with a valid bearer token for one issuer and audience, and forwards
// chosen claims to the service as request headers. The Gateway generates its config per route
// (components/gateway/jwt.ts); docker/caddy/build.sh compiles it into the Gateway's Caddy.
//
// Every refusal is a 401 with a JSON body and an RFC 6750 `WWW-Authenticate` header. The key
// decides the algorithm family (an RSA key never verifies an HMAC token, whatever the token's
// header says), and `none` is never accepted.
package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults of the optional fields; the Gateway's TSDoc documents the same numbers.
const (
	DefaultJWKSRefresh           = 15 * time.Minute
	DefaultUnknownKIDMinInterval = 30 * time.Second
	DefaultLeeway                = 30 * time.Second
	DefaultRealm                 = "api"
	// How long one JWKS fetch may take, in the background and on an unknown kid alike.
	jwksFetchTimeout = 5 * time.Second
)

// Handler is the `http.handlers.slipway_jwt` module. Exactly one key source must be set.
type Handler struct {
	// Issuer the token's `iss` must equal. Required with public keys; optional (not checked when
	// empty) with an HMAC secret, which only the issuer and this gateway hold.
	Issuer string `json:"issuer,omitempty"`
	// Audience the token's `aud` must contain. Required and optional as Issuer.
	Audience string `json:"audience,omitempty"`
	// Algorithms the token's `alg` must be one of; each must suit the key source.
	Algorithms []string `json:"algorithms"`

	// JWKSURL is where the signing keys are published (RSA, EC and Ed25519 keys are used).
	JWKSURL string `json:"jwks_url,omitempty"`
	// JWKSRefresh is how often the JWKS is fetched again. Default 15m.
	JWKSRefresh caddy.Duration `json:"jwks_refresh,omitempty"`
	// UnknownKIDMinInterval spaces the extra fetches that a token with an unknown `kid` causes.
	// Default 30s: a client sending made-up kids makes at most one fetch per interval.
	UnknownKIDMinInterval caddy.Duration `json:"jwks_unknown_kid_min_interval,omitempty"`
	// PublicKeyPEM is a static public key (PKIX `PUBLIC KEY`, or `RSA PUBLIC KEY`).
	PublicKeyPEM string `json:"public_key_pem,omitempty"`
	// HMACSecretFile holds the shared secret (read at provision; trailing newline removed).
	HMACSecretFile string `json:"hmac_secret_file,omitempty"`

	// ForwardClaims maps a claim name to the request header that carries its value upstream.
	// Incoming headers of these names are always removed first, so a client cannot set them.
	ForwardClaims map[string]string `json:"forward_claims,omitempty"`
	// Leeway for exp, nbf and iat against clock skew. Default 30s.
	Leeway *caddy.Duration `json:"leeway,omitempty"`
	// Realm named in WWW-Authenticate. Default "api".
	Realm string `json:"realm,omitempty"`

	keys      keySource
	parser    *jwt.Parser
	validator *jwt.Validator
	leeway    time.Duration
	cache     *tokenCache
	now       func() time.Time // tests set a clock; time.Now otherwise
	cancel    context.CancelFunc
	logger    *zap.Logger
}

func (h *Handler) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.slipway_jwt",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision sets up the key source; a JWKS is fetched in the background from now on.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	return h.setup(ctx)
}

// setup is Provision without Caddy's context, so tests can run it.
func (h *Handler) setup(parent context.Context) error {
	if h.logger == nil {
		h.logger = zap.NewNop()
	}
	if err := h.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(parent)
	h.cancel = cancel
	keys, err := h.newKeySource(ctx)
	if err != nil {
		cancel()
		return err
	}
	h.keys = keys
	leeway := DefaultLeeway
	if h.Leeway != nil {
		leeway = time.Duration(*h.Leeway)
	}
	h.leeway = leeway
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(h.Algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(h.clock),
	}
	if h.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(h.Issuer))
	}
	if h.Audience != "" {
		opts = append(opts, jwt.WithAudience(h.Audience))
	}
	h.parser = jwt.NewParser(opts...)
	// The same checks for a cached token (cache.go) as the parser makes on a fresh one.
	h.validator = jwt.NewValidator(opts...)
	h.cache = newTokenCache(cacheMaxEntries)
	return nil
}

// Cleanup stops the JWKS refresh of this config's instance.
func (h *Handler) Cleanup() error {
	if h.cancel != nil {
		h.cancel()
	}
	return nil
}

// check refuses a config that could accept forged tokens or never accept any.
func (h *Handler) check() error {
	sources := 0
	for _, s := range []string{h.JWKSURL, h.PublicKeyPEM, h.HMACSecretFile} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return errors.New("slipway_jwt: set exactly one of jwks_url, public_key_pem, hmac_secret_file")
	}
	if len(h.Algorithms) == 0 {
		return errors.New("slipway_jwt: algorithms is empty")
	}
	hmacKey := h.HMACSecretFile != ""
	// A public key verifies tokens its issuer minted for every API it serves: iss and aud are
	// what make one of them this route's.
	if !hmacKey && (h.Issuer == "" || h.Audience == "") {
		return errors.New("slipway_jwt: issuer and audience are required with jwks_url and public_key_pem")
	}
	for _, a := range h.Algorithms {
		fam, ok := algFamily[a]
		if !ok {
			return fmt.Errorf("slipway_jwt: algorithm %q is not supported (none never is)", a)
		}
		if (fam == famHMAC) != hmacKey {
			return fmt.Errorf("slipway_jwt: algorithm %q does not suit the key source (HS* only with hmac_secret_file, and only HS* there)", a)
		}
	}
	for claim, header := range h.ForwardClaims {
		if claim == "" || header == "" || strings.ContainsAny(header, " :\r\n\t") {
			return fmt.Errorf("slipway_jwt: forward_claims %q -> %q is not a claim and a header name", claim, header)
		}
	}
	return nil
}

// ServeHTTP strips the forwarded-claim headers, then passes a request with a valid token on
// with the claims as headers, and answers everything else with 401.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	for _, header := range h.ForwardClaims {
		r.Header.Del(header)
	}
	raw, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return h.refuse(w, "", "a bearer token is required")
	}
	claims, err := h.verify(r.Context(), raw)
	if err != nil {
		h.logger.Debug("token refused", zap.String("reason", reason(err)), zap.Error(err))
		return h.refuse(w, "invalid_token", reason(err))
	}
	for claim, header := range h.ForwardClaims {
		v, present := claims[claim]
		if !present {
			continue
		}
		s, ok := headerValue(v)
		if !ok {
			return h.refuse(w, "invalid_token", fmt.Sprintf("the %s claim cannot be forwarded as a header", claim))
		}
		r.Header.Set(header, s)
	}
	return next.ServeHTTP(w, r)
}

// bearer returns the token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
func bearer(header string) (string, bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// refuse writes the 401. Without a token at all, RFC 6750 (3.1) wants no error code.
func (h *Handler) refuse(w http.ResponseWriter, code, description string) error {
	realm := h.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	challenge := "Bearer realm=" + strconv.Quote(realm)
	body := map[string]string{"error": "unauthorized", "error_description": description}
	if code != "" {
		challenge += ", error=" + strconv.Quote(code) + ", error_description=" + strconv.Quote(description)
		body["error"] = code
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	b, _ := json.Marshal(body)
	_, err := w.Write(append(b, '\n'))
	return err
}

// reason turns a parse error into a short description for the client; it never echoes the token.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the token is malformed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "the token is not for this audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "the token is not from the expected issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the token lacks a required claim"
	case errors.Is(err, errNoKey):
		return "no key verifies the token"
	default:
		return "the token signature is invalid"
	}
}

// headerValue renders a claim as a header value; values with control characters are refused.
func headerValue(v any) (string, bool) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(t)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return "", false
		}
		s = string(b)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	return s, true
}

var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
