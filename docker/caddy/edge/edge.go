// Package edge is the Gateway's per-request edge work in one Caddy handler
// (`http.handlers.slipway_edge`): the request id, the client address for the upstream, the
// security response headers, the edge's HTTP metrics and the access log.
//
// Caddy has a handler or a setting for each of these, and each pays on every request for its
// generality: the access logger JSON-encodes the whole request (every header) once per log output
// when the request starts, then writes one line per request with its own syscall; the HTTP
// metrics build label maps and look up six metric children per request; every `headers` handler
// runs the placeholder replacer over each value. Measured with the Gateway's config (bench/
// gateway.ts) those four took a third of the throughput of bare Caddy. Here the headers are
// resolved once at provision, the metric children once per (status, method), the log line is
// written field by field into a pooled buffer and flushed in batches (as nginx's `access_log ...
// buffer= flush=`), and one ResponseWriter wrapper serves all of it.
//
// A request that ends in a handler error (a 429, a 413, a 502) is answered by the server's error
// routes after this handler has returned; with `error_routes` the primary instance leaves it to a
// finishing instance (`finish: true`) at the start of those routes, which applies the same headers
// and records the error response's real status and size.
package edge

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(Edge{})
}

// Edge is the handler module. See the package documentation.
type Edge struct {
	// Set on the upstream request and on the response, to a random (version 4) UUID made for the
	// request, which the access log records too. Not Caddy's `{http.request.uuid}`, which no part of
	// the Gateway's config reads: that one costs a walk through the replacer and four allocations.
	RequestIDHeader string `json:"request_id_header,omitempty"`
	// Set on the upstream request to Caddy's client address (the peer, or what a trusted proxy's
	// header says when the server has `trusted_proxies` and `client_ip_headers`).
	ClientIPHeader string `json:"client_ip_header,omitempty"`
	// Send no X-Forwarded-Host upstream: the request's header is set to nil, which Caddy's reverse
	// proxy (as Go's) reads as "omit", so it neither passes on a client's value nor sets its own.
	// With the Host passed through unchanged it only repeated Host, and cost every hop a header.
	OmitForwardedHost bool `json:"omit_forwarded_host,omitempty"`
	// Set on every response, replacing what the upstream sent. Values are literal (no placeholders).
	ResponseHeaders http.Header `json:"response_headers,omitempty"`
	// Removed from every response.
	StripResponseHeaders []string `json:"strip_response_headers,omitempty"`
	// Refuse a request body larger than this with 413: at once when Content-Length says so (the
	// body is never read), else when a handler reads past it (a chunked body). 0: no limit.
	MaxRequestBodyBytes int64 `json:"max_request_body_bytes,omitempty"`
	// Observe every request in `slipway_gateway_*` metrics (Caddy's metrics registry).
	Metrics bool `json:"metrics,omitempty"`
	// Write one JSON line per request.
	AccessLog *AccessLog `json:"access_log,omitempty"`
	// The server's error routes start with a finishing instance: leave errored requests to it.
	ErrorRoutes bool `json:"error_routes,omitempty"`
	// This is the finishing instance in the server's error routes (no other field is read).
	Finish bool `json:"finish,omitempty"`

	setHeaders   []headerValue
	stripHeaders []string
	requestID    string
	clientIP     string
	metrics      *edgeMetrics
	log          *accessLogger
}

// headerValue is a response header resolved at provision: its canonical key and a full slice.
type headerValue struct {
	key    string
	values []string
}

// CaddyModule returns the Caddy module information.
func (Edge) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.slipway_edge",
		New: func() caddy.Module { return new(Edge) },
	}
}

// Provision resolves the headers, registers the metrics and opens the log writers.
func (e *Edge) Provision(ctx caddy.Context) error {
	if e.Finish {
		if e.RequestIDHeader != "" || e.ClientIPHeader != "" || e.OmitForwardedHost || len(e.ResponseHeaders) > 0 || len(e.StripResponseHeaders) > 0 || e.Metrics || e.AccessLog != nil || e.ErrorRoutes || e.MaxRequestBodyBytes != 0 {
			return errors.New("slipway_edge: a finishing instance (finish: true) takes no other setting; it uses the primary instance's")
		}
		return nil
	}
	if e.MaxRequestBodyBytes < 0 {
		return errors.New("slipway_edge: max_request_body_bytes must be 0 (no limit) or more")
	}
	for k, vs := range e.ResponseHeaders {
		if strings.ContainsAny(k, "{}") || strings.Contains(strings.Join(vs, ""), "{") {
			return fmt.Errorf("slipway_edge: response header %q: values are literal, placeholders are not replaced", k)
		}
		// A full slice (len == cap): a later Header().Add appends to a copy, never into this one.
		v := append([]string(nil), vs...)
		e.setHeaders = append(e.setHeaders, headerValue{http.CanonicalHeaderKey(k), v[:len(v):len(v)]})
	}
	for _, k := range e.StripResponseHeaders {
		e.stripHeaders = append(e.stripHeaders, http.CanonicalHeaderKey(k))
	}
	e.requestID = canonicalOrEmpty(e.RequestIDHeader)
	e.clientIP = canonicalOrEmpty(e.ClientIPHeader)
	if e.Metrics {
		m, err := registerMetrics(ctx.GetMetricsRegistry())
		if err != nil {
			return fmt.Errorf("slipway_edge: metrics: %w", err)
		}
		e.metrics = m
	}
	if e.AccessLog != nil {
		l, err := e.AccessLog.open(ctx)
		if err != nil {
			return fmt.Errorf("slipway_edge: access_log: %w", err)
		}
		e.log = l
	}
	return nil
}

// Cleanup flushes and releases the access log's writers.
func (e *Edge) Cleanup() error {
	if e.log != nil {
		return e.log.close()
	}
	return nil
}

func canonicalOrEmpty(k string) string {
	if k == "" {
		return ""
	}
	return http.CanonicalHeaderKey(k)
}

const forwardedHost = "X-Forwarded-Host"

// stateVar is the request variable under which the primary instance leaves its record for the
// finishing instance.
const stateVar = "slipway_edge"

// record is one request's observation, from the primary instance to the finishing one. It holds
// the primary's response writer and the one-value header slices too: one allocation per request
// instead of six (record, writer, wrapper, and three header values).
type record struct {
	edge     *Edge
	start    time.Time
	id       string
	bodyRead *countingBody
	// The access log's `request` object, written when the request arrived; nil for a health check
	// the sample skips, whose line is written only if it fails, from the fields below.
	request *[]byte
	// A health check's LogEvery (0 for other requests): the line of a successful one says so.
	sample   uint64
	ip       string
	replaced [3]arrivedHeader // X-Request-ID, X-Real-IP and X-Forwarded-Host as the client sent them

	ww      writer
	wrapper caddyhttp.ResponseWriterWrapper
	idValue [1]string // X-Request-ID's value on the request
	respID  [1]string // and on the response (its own: a handler may edit either in place)
	ipValue [1]string // X-Real-IP's value
}

// one is a header value backed by a record's array: full (len == cap), so a later Add appends to
// a copy, never into the record.
func one(a *[1]string, v string) []string {
	a[0] = v
	return a[:1:1]
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if e.Finish {
		return finish(w, r, next)
	}
	rec := &record{edge: e, start: time.Now()}
	var ip string // a walk up the request's context chain: once
	if e.clientIP != "" || e.log != nil {
		ip = clientIP(r)
	}
	if e.log != nil {
		var skipped bool
		if rec.sample, skipped = e.log.sample(r); skipped {
			rec.ip = ip
			rec.replaced = [3]arrivedHeader{{e.requestID, r.Header[e.requestID]}, {e.clientIP, r.Header[e.clientIP]}}
			if e.OmitForwardedHost {
				rec.replaced[2] = arrivedHeader{forwardedHost, r.Header[forwardedHost]}
			}
		} else {
			rec.request = e.log.begin(r, ip)
		}
	}
	if e.requestID != "" || e.log != nil {
		rec.id = newRequestID()
	}
	if e.requestID != "" {
		r.Header[e.requestID] = one(&rec.idValue, rec.id)
	}
	if e.clientIP != "" {
		r.Header[e.clientIP] = one(&rec.ipValue, ip)
	}
	if e.OmitForwardedHost {
		r.Header[forwardedHost] = nil
	}
	if e.log != nil && r.Body != nil && r.Body != http.NoBody {
		rec.bodyRead = &countingBody{ReadCloser: r.Body}
		r.Body = rec.bodyRead
	}
	if e.ErrorRoutes {
		caddyhttp.SetVar(r.Context(), stateVar, rec)
	}
	if e.metrics != nil {
		e.metrics.inFlight.Inc()
		defer e.metrics.inFlight.Dec()
	}
	rec.wrapper.ResponseWriter = w
	rec.ww = writer{ResponseWriterWrapper: &rec.wrapper, rec: rec}
	ww := &rec.ww
	err := e.limitBody(ww, r)
	if err == nil {
		err = next.ServeHTTP(ww, r)
	}
	if err != nil && e.ErrorRoutes {
		return err // the finishing instance records the error response
	}
	rec.done(r, ww, err)
	return err
}

// limitBody refuses a declared body over the limit and bounds an undeclared one.
func (e *Edge) limitBody(w http.ResponseWriter, r *http.Request) error {
	max := e.MaxRequestBodyBytes
	if max == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > max {
		return caddyhttp.Error(http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes is over the limit of %d", r.ContentLength, max))
	}
	r.Body = tooLarge{http.MaxBytesReader(w, r.Body, max)}
	return nil
}

// tooLarge makes reading past the limit a 413 handler error (as Caddy's request_body does).
type tooLarge struct{ io.ReadCloser }

func (b tooLarge) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = caddyhttp.Error(http.StatusRequestEntityTooLarge, err)
	}
	return n, err
}

// finish is the finishing instance: the error response of a request the primary began.
func finish(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rec, _ := caddyhttp.GetVar(r.Context(), stateVar).(*record)
	if rec == nil {
		return next.ServeHTTP(w, r)
	}
	if m := rec.edge.metrics; m != nil {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
	}
	ww := &writer{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, rec: rec}
	err := next.ServeHTTP(ww, r)
	if err == nil && ww.status == 0 {
		// The error routes wrote nothing: the server answers the original error's status.
		var he caddyhttp.HandlerError
		if herr, ok := r.Context().Value(caddyhttp.ErrorCtxKey).(error); ok && errors.As(herr, &he) && he.StatusCode != 0 {
			ww.status = he.StatusCode
		}
	}
	rec.done(r, ww, err)
	return err
}

// done records the request in the metrics and the access log.
func (rec *record) done(r *http.Request, ww *writer, err error) {
	status := ww.status
	if status == 0 {
		status = statusOf(err)
	}
	e := rec.edge
	d := time.Since(rec.start)
	if e.metrics != nil {
		e.metrics.observe(status, r.Method, d)
	}
	if e.log != nil {
		e.log.write(rec, r, status, ww.size, d)
	}
}

// newRequestID is a random (version 4) UUID in its usual text form, with one allocation.
func newRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails: crypto/rand crashes the program rather than return short
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	hex.Encode(b[9:13], u[4:6])
	hex.Encode(b[14:18], u[6:8])
	hex.Encode(b[19:23], u[8:10])
	hex.Encode(b[24:36], u[10:16])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b[:])
}

// clientIP is Caddy's client address (trusted proxies and their headers applied), else the peer's.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// statusOf is the status a request that wrote no header ends with: Go's implicit 200, or the
// status of the handler error the server answers.
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode != 0 {
		return he.StatusCode
	}
	return http.StatusInternalServerError
}

// writer applies the response headers once, when the final status is written, and counts what
// the client is sent.
type writer struct {
	*caddyhttp.ResponseWriterWrapper
	rec    *record
	status int
	size   int64
}

func (w *writer) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	// 1xx other than 101 are interim: the final header comes later.
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.status = status
	e := w.rec.edge
	h := w.ResponseWriter.Header()
	for _, k := range e.stripHeaders {
		delete(h, k)
	}
	for _, hv := range e.setHeaders {
		h[hv.key] = hv.values
	}
	if e.requestID != "" {
		h[e.requestID] = one(&w.rec.respID, w.rec.id)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *writer) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's sendfile/splice path and still counts the bytes.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriterWrapper.ReadFrom(r)
	w.size += n
	return n, err
}

// countingBody counts the request body bytes a handler read (the log's bytes_read).
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

var (
	_ caddy.Provisioner           = (*Edge)(nil)
	_ caddy.CleanerUpper          = (*Edge)(nil)
	_ caddyhttp.MiddlewareHandler = (*Edge)(nil)
)
