package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

type family int

const (
	famRSA family = iota
	famEC
	famEd
	famHMAC
)

// algFamily lists every algorithm the handler accepts; `none` is deliberately absent.
var algFamily = map[string]family{
	"RS256": famRSA, "RS384": famRSA, "RS512": famRSA,
	"PS256": famRSA, "PS384": famRSA, "PS512": famRSA,
	"ES256": famEC, "ES384": famEC, "ES512": famEC,
	"EdDSA": famEd,
	"HS256": famHMAC, "HS384": famHMAC, "HS512": famHMAC,
}

// ecCurveBits is the curve each ES algorithm is defined on (RFC 7518 3.4).
var ecCurveBits = map[string]int{"ES256": 256, "ES384": 384, "ES512": 521}

// minHMACSecret is RFC 7518 3.2's minimum for HS256: a key as long as the hash.
const minHMACSecret = 32

var errNoKey = errors.New("no key of the token's algorithm")

// suits tells whether key can verify alg: the key's type decides, never the token's header
// alone, so an HS256 token is never checked against an RSA public key's bytes.
func suits(alg string, key any) bool {
	fam, ok := algFamily[alg]
	if !ok {
		return false
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return fam == famRSA
	case *ecdsa.PublicKey:
		return fam == famEC && k.Curve.Params().BitSize == ecCurveBits[alg]
	case ed25519.PublicKey:
		return fam == famEd
	case []byte:
		return fam == famHMAC
	default:
		return false
	}
}

type keySource interface {
	keyfunc(ctx context.Context) jwt.Keyfunc
}

func (h *Handler) newKeySource(ctx context.Context) (keySource, error) {
	switch {
	case h.PublicKeyPEM != "":
		key, err := parsePublicKey(h.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		for _, a := range h.Algorithms {
			if !suits(a, key) {
				return nil, fmt.Errorf("slipway_jwt: algorithm %s does not suit the public key (a %T)", a, key)
			}
		}
		return staticKey{key}, nil
	case h.HMACSecretFile != "":
		b, err := os.ReadFile(h.HMACSecretFile)
		if err != nil {
			return nil, fmt.Errorf("slipway_jwt: reading the HMAC secret: %w", err)
		}
		secret := []byte(strings.TrimRight(string(b), "\r\n"))
		if len(secret) < minHMACSecret {
			return nil, fmt.Errorf("slipway_jwt: the HMAC secret in %s is %d bytes; at least %d are needed", h.HMACSecretFile, len(secret), minHMACSecret)
		}
		return staticKey{secret}, nil
	default:
		return h.newJWKS(ctx)
	}
}

// parsePublicKey reads one PEM public key; a private key is refused (it would be a secret in the config).
func parsePublicKey(s string) (any, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("slipway_jwt: public_key_pem holds no PEM block")
	}
	switch block.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("slipway_jwt: public_key_pem is a %q block; give the PUBLIC KEY only", block.Type)
	}
}

type staticKey struct{ key any }

func (s staticKey) keyfunc(context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if !suits(t.Method.Alg(), s.key) {
			return nil, errNoKey
		}
		return s.key, nil
	}
}

type jwksKeys struct{ kf keyfunc.Keyfunc }

// newJWKS starts keyfunc's JWK Set storage: fetched now (a failure is logged, not fatal, so an
// identity provider that is down does not stop Caddy's config from loading), every JWKSRefresh
// after, and again on a kid it does not know, at most once per UnknownKIDMinInterval.
func (h *Handler) newJWKS(ctx context.Context) (keySource, error) {
	refresh := time.Duration(h.JWKSRefresh)
	if refresh <= 0 {
		refresh = DefaultJWKSRefresh
	}
	unknown := time.Duration(h.UnknownKIDMinInterval)
	if unknown <= 0 {
		unknown = DefaultUnknownKIDMinInterval
	}
	url := h.JWKSURL
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		Client:      &http.Client{Timeout: jwksFetchTimeout, CheckRedirect: noDowngrade},
		HTTPTimeout: jwksFetchTimeout,
		// Also bounds the fetch an unknown kid triggers; a wait longer than this fails at once
		// (rate.Limiter.Wait knows the delay up front), so made-up kids never hold requests.
		RateLimitWaitMax:  jwksFetchTimeout,
		RefreshInterval:   refresh,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknown), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				h.logger.Warn("JWKS refresh failed; keeping the keys fetched before", zap.String("url", u), zap.Error(err))
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("slipway_jwt: JWKS %s: %w", url, err)
	}
	return jwksKeys{kf}, nil
}

// maxJWKSRedirects bounds the redirects a JWK Set fetch follows.
const maxJWKSRedirects = 5

// noDowngrade follows a JWK Set URL's redirects (an identity provider may move it), but never from
// https to another scheme: keys fetched over plain HTTP could be anyone's, and every token they
// verify would be forgeable by whoever sits on that path.
func noDowngrade(req *http.Request, via []*http.Request) error {
	if len(via) >= maxJWKSRedirects {
		return fmt.Errorf("slipway_jwt: JWKS: stopped after %d redirects", len(via))
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("slipway_jwt: JWKS: refusing the redirect from %s to %s (https to %s)", via[len(via)-1].URL.Redacted(), req.URL.Redacted(), req.URL.Scheme)
	}
	return nil
}

func (j jwksKeys) keyfunc(ctx context.Context) jwt.Keyfunc {
	inner := j.kf.KeyfuncCtx(ctx)
	return func(t *jwt.Token) (any, error) {
		key, err := inner(t)
		if err != nil {
			return nil, errors.Join(errNoKey, err)
		}
		alg := t.Method.Alg()
		if set, ok := key.(jwt.VerificationKeySet); ok {
			fit := jwt.VerificationKeySet{}
			for _, k := range set.Keys {
				if suits(alg, k) {
					fit.Keys = append(fit.Keys, k)
				}
			}
			if len(fit.Keys) == 0 {
				return nil, errNoKey
			}
			return fit, nil
		}
		if !suits(alg, key) {
			return nil, errNoKey
		}
		return key, nil
	}
}
