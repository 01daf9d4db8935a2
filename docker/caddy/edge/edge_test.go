package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/logging" // the file log writer
	dto "github.com/prometheus/client_model/go"
)

// provisioned is an Edge with the Gateway's settings, metrics on, the access log in a file.
func provisioned(t testing.TB, mutate func(e *Edge)) (*Edge, caddy.Context, string) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	logFile := filepath.Join(t.TempDir(), "access.log")
	e := &Edge{
		RequestIDHeader:      "X-Request-ID",
		ClientIPHeader:       "X-Real-IP",
		ResponseHeaders:      http.Header{"X-Frame-Options": {"DENY"}, "strict-transport-security": {"max-age=31536000"}},
		StripResponseHeaders: []string{"Server", "via"},
		Metrics:              true,
		AccessLog: &AccessLog{
			WritersRaw:    []json.RawMessage{json.RawMessage(fmt.Sprintf(`{"output":"file","filename":%q}`, logFile))},
			FlushInterval: caddy.Duration(time.Hour), // the tests flush by Cleanup
			RedactHeaders: []string{"x-api-key"},
			RedactQuery:   []string{"Signature"},
		},
	}
	if mutate != nil {
		mutate(e)
	}
	if err := e.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Cleanup() })
	return e, ctx, logFile
}

// request is a request as Caddy's server prepares it (replacer, vars, client address).
func request(method, target string, w http.ResponseWriter) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "192.0.2.10:41234"
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
}

// upstream stands for the reverse proxy: it answers with headers an application sends.
func upstream(seen *http.Header) caddyhttp.Handler {
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		*seen = r.Header.Clone()
		w.Header().Set("Server", "gunicorn")
		w.Header().Set("Via", "1.1 Caddy")
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, err := w.Write([]byte(`{"id":1}`))
		return err
	})
}

func logLines(t *testing.T, e *Edge, file string) []map[string]any {
	t.Helper()
	if err := e.Cleanup(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, l)
		}
		out = append(out, m)
	}
	return out
}

func histogramCount(t *testing.T, ctx caddy.Context, code, method string) uint64 {
	t.Helper()
	mfs, err := ctx.GetMetricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "slipway_gateway_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "code") == code && label(m, "method") == method {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestHeadersAreSetOnceAndTheUpstreamSeesTheRequestID(t *testing.T) {
	e, ctx, file := provisioned(t, nil)
	rr := httptest.NewRecorder()
	r := request("POST", "/v1/items?x=1&ACCESS_TOKEN=tok-123&signature=sig-456", rr)
	r.Header.Set("X-Request-ID", "forged-by-client")
	r.Header.Set("Authorization", "Bearer secret-token")
	r.Header.Set("X-Api-Key", "k-123")
	r.Header.Set("X-Api-Version", "2")
	var seen http.Header
	if err := e.ServeHTTP(rr, r, upstream(&seen)); err != nil {
		t.Fatal(err)
	}
	res := rr.Result()
	if res.StatusCode != 201 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := res.Header.Values("X-Frame-Options"); len(got) != 1 || got[0] != "DENY" {
		t.Errorf("X-Frame-Options = %q, want the edge's DENY only", got)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security = %q", got)
	}
	if res.Header.Get("Server") != "" || res.Header.Get("Via") != "" {
		t.Errorf("Server/Via not stripped: %v", res.Header)
	}
	id := res.Header.Get("X-Request-ID")
	if len(id) != 36 || id == "forged-by-client" || seen.Get("X-Request-ID") != id {
		t.Errorf("request id: response %q, upstream saw %q", id, seen.Get("X-Request-ID"))
	}
	if seen.Get("X-Real-IP") != "192.0.2.10" {
		t.Errorf("X-Real-IP to upstream = %q", seen.Get("X-Real-IP"))
	}
	if n := histogramCount(t, ctx, "201", "POST"); n != 1 {
		t.Errorf("code=201 method=POST observed %d times", n)
	}
	lines := logLines(t, e, file)
	if len(lines) != 1 {
		t.Fatalf("%d log lines", len(lines))
	}
	l := lines[0]
	req := l["request"].(map[string]any)
	if l["status"] != 201.0 || l["size"] != 8.0 || l["request_id"] != id || l["level"] != "info" || l["logger"] != "http.log.access" {
		t.Errorf("log line %v", l)
	}
	if req["method"] != "POST" || req["uri"] != "/v1/items?x=1&ACCESS_TOKEN=REDACTED&signature=REDACTED" || req["remote_ip"] != "192.0.2.10" || req["remote_port"] != "41234" || req["client_ip"] != "192.0.2.10" {
		t.Errorf("request fields %v", req)
	}
	hdrs := req["headers"].(map[string]any)
	if fmt.Sprint(hdrs["Authorization"]) != "[REDACTED]" || fmt.Sprint(hdrs["X-Api-Key"]) != "[REDACTED]" {
		t.Errorf("credentials logged as %v and %v", hdrs["Authorization"], hdrs["X-Api-Key"])
	}
	if fmt.Sprint(hdrs["X-Api-Version"]) != "[2]" {
		t.Errorf("a header not listed was redacted too: %v", hdrs["X-Api-Version"])
	}
	if fmt.Sprint(hdrs["X-Request-Id"]) != "[forged-by-client]" {
		t.Errorf("the log shows X-Request-ID %v, not what the client sent", hdrs["X-Request-Id"])
	}
}

func TestTheLogRecordsTheRequestAsItArrivedNotAsTheChainRewroteIt(t *testing.T) {
	e, _, file := provisioned(t, nil)
	rr := httptest.NewRecorder()
	r := request("GET", "/api/v1/items", rr)
	r.Header.Set("X-User-Id", "admin")
	rewrite := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		// What a JWT check and a prefix-stripping route do to the request before the proxy.
		r.Header.Set("X-User-Id", "user-42")
		r.Header.Set("X-Added", "by-the-gateway")
		r.RequestURI = "/v1/items"
		r.URL.Path = "/v1/items"
		return nil
	})
	_ = e.ServeHTTP(rr, r, rewrite)
	req := logLines(t, e, file)[0]["request"].(map[string]any)
	hdrs := req["headers"].(map[string]any)
	if req["uri"] != "/api/v1/items" || fmt.Sprint(hdrs["X-User-Id"]) != "[admin]" || hdrs["X-Added"] != nil {
		t.Errorf("logged %v", req)
	}
}

func TestAnErrorIsRecordedByTheFinishingInstanceWithTheErrorResponse(t *testing.T) {
	e, ctx, file := provisioned(t, func(e *Edge) { e.ErrorRoutes = true })
	fin := &Edge{Finish: true}
	if err := fin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	rr := httptest.NewRecorder()
	r := request("GET", "/v1/items", rr)
	limited := caddyhttp.Error(http.StatusTooManyRequests, fmt.Errorf("rate limited"))
	err := e.ServeHTTP(rr, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return limited }))
	if err == nil {
		t.Fatal("the primary swallowed the error")
	}
	if n := histogramCount(t, ctx, "429", "GET"); n != 0 {
		t.Fatalf("the primary recorded the error itself (%d)", n)
	}
	// What the server does next: the error in the context, then the error routes.
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.ErrorCtxKey, err))
	body := `{"error":"Too Many Requests"}` + "\n"
	errorRoute := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(429)
		_, err := w.Write([]byte(body))
		return err
	})
	if err := fin.ServeHTTP(rr, r, errorRoute); err != nil {
		t.Fatal(err)
	}
	if rr.Code != 429 || rr.Header().Get("X-Frame-Options") != "DENY" || len(rr.Header().Get("X-Request-ID")) != 36 {
		t.Errorf("error response %d %v", rr.Code, rr.Header())
	}
	if n := histogramCount(t, ctx, "429", "GET"); n != 1 {
		t.Errorf("code=429 observed %d times", n)
	}
	lines := logLines(t, e, file)
	if len(lines) != 1 || lines[0]["status"] != 429.0 || lines[0]["size"] != float64(len(body)) {
		t.Errorf("log %v", lines)
	}
}

func TestWithoutErrorRoutesThePrimaryRecordsTheHandlerErrorStatus(t *testing.T) {
	e, ctx, file := provisioned(t, nil)
	rr := httptest.NewRecorder()
	r := request("DELETE", "/v1/items/1", rr)
	_ = e.ServeHTTP(rr, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return caddyhttp.Error(http.StatusBadGateway, fmt.Errorf("dial tcp: refused"))
	}))
	if n := histogramCount(t, ctx, "502", "DELETE"); n != 1 {
		t.Errorf("code=502 observed %d times", n)
	}
	if l := logLines(t, e, file); len(l) != 1 || l[0]["status"] != 502.0 || l[0]["level"] != "error" {
		t.Errorf("log %v", l)
	}
}

func TestMethodsOutsideTheKnownSetShareOneLabel(t *testing.T) {
	e, ctx, _ := provisioned(t, func(e *Edge) { e.AccessLog = nil })
	ok := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error { return nil })
	for _, m := range []string{"PROPFIND", "BREW", "GET"} {
		rr := httptest.NewRecorder()
		_ = e.ServeHTTP(rr, request(m, "/", rr), ok)
	}
	if histogramCount(t, ctx, "200", "OTHER") != 2 || histogramCount(t, ctx, "200", "GET") != 1 {
		t.Errorf("OTHER %d, GET %d", histogramCount(t, ctx, "200", "OTHER"), histogramCount(t, ctx, "200", "GET"))
	}
}

func TestLogLinesStayValidJSONWhateverTheClientSends(t *testing.T) {
	e, _, file := provisioned(t, nil)
	rr := httptest.NewRecorder()
	r := request("GET", "/", rr)
	nasty := "a\"b\\c\x01\x7f\tend\xff\xfe" + "ü😀\u2028"
	r.Header["User-Agent"] = []string{nasty}
	r.Header["X-Weird"] = []string{"}", "{"}
	_ = e.ServeHTTP(rr, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
	lines := logLines(t, e, file)
	hdrs := lines[0]["request"].(map[string]any)["headers"].(map[string]any)
	want := "a\"b\\c\x01\x7f\tend\ufffd\ufffdü😀\u2028"
	if got := hdrs["User-Agent"].([]any)[0]; got != want {
		t.Errorf("User-Agent round-trips as %q, want %q", got, want)
	}
	if fmt.Sprint(hdrs["X-Weird"]) != "[} {]" {
		t.Errorf("X-Weird %v", hdrs["X-Weird"])
	}
}

func TestTwoInstancesOnOneDestinationShareItsBufferAndTheLastFlushes(t *testing.T) {
	var raw []json.RawMessage
	a, ctx, file := provisioned(t, func(e *Edge) { raw = append(raw, e.AccessLog.WritersRaw...) })
	// A reload: the new config's instance opens the same file while the old one still serves.
	b := &Edge{AccessLog: &AccessLog{WritersRaw: raw, FlushInterval: caddy.Duration(time.Hour)}}
	if err := b.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if a.log.sinks[0] != b.log.sinks[0] {
		t.Fatal("two sinks for one file: their flushes could interleave")
	}
	ok := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	for i := 0; i < 3; i++ {
		rr := httptest.NewRecorder()
		_ = a.ServeHTTP(rr, request("GET", fmt.Sprintf("/a%d", i), rr), ok)
		rr = httptest.NewRecorder()
		_ = b.ServeHTTP(rr, request("GET", fmt.Sprintf("/b%d", i), rr), ok)
	}
	if err := a.Cleanup(); err != nil { // the old config unloads: its lines must not wait for b
		t.Fatal(err)
	}
	written, _ := os.ReadFile(file)
	if n := strings.Count(string(written), "\n"); n != 6 {
		t.Errorf("after the first unload %d lines in the file, want 6", n)
	}
	lines := logLines(t, b, file)
	if len(lines) != 6 {
		t.Errorf("%d lines", len(lines))
	}
}

func TestTheFlushIntervalBoundsHowLongALineWaits(t *testing.T) {
	e, _, file := provisioned(t, func(e *Edge) { e.AccessLog.FlushInterval = caddy.Duration(50 * time.Millisecond) })
	rr := httptest.NewRecorder()
	_ = e.ServeHTTP(rr, request("GET", "/health", rr), caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if raw, _ := os.ReadFile(file); strings.Contains(string(raw), `"/health"`) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the line never reached the file without an unload")
}

func TestTheProxyIsToldToOmitXForwardedHostWhateverTheClientSent(t *testing.T) {
	e, _, file := provisioned(t, func(e *Edge) { e.OmitForwardedHost = true })
	rr := httptest.NewRecorder()
	r := request("GET", "/v1/items", rr)
	r.Header.Set("X-Forwarded-Host", "evil.example")
	var seen http.Header
	_ = e.ServeHTTP(rr, r, upstream(&seen))
	if v, ok := seen["X-Forwarded-Host"]; !ok || v != nil {
		t.Errorf("X-Forwarded-Host reached the proxy as %#v, want a nil value (the proxy's omit)", v)
	}
	hdrs := logLines(t, e, file)[0]["request"].(map[string]any)["headers"].(map[string]any)
	if fmt.Sprint(hdrs["X-Forwarded-Host"]) != "[evil.example]" {
		t.Errorf("the log shows %v, want what the client sent", hdrs["X-Forwarded-Host"])
	}
}

func TestSuccessfulHealthChecksAreLoggedOneInNAndCountedAll(t *testing.T) {
	e, ctx, file := provisioned(t, func(e *Edge) {
		e.AccessLog.HealthChecks = &HealthCheckSampling{Paths: []string{"/health", "/ready"}, LogEvery: 3}
	})
	ok := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error { _, err := w.Write([]byte("ok")); return err })
	for i := 0; i < 7; i++ {
		rr := httptest.NewRecorder()
		_ = e.ServeHTTP(rr, request("GET", "/health", rr), ok)
		if len(rr.Header().Get("X-Request-ID")) != 36 {
			t.Fatalf("a skipped health check lost its response headers: %v", rr.Header())
		}
	}
	rr := httptest.NewRecorder()
	_ = e.ServeHTTP(rr, request("GET", "/healthz", rr), ok) // not a health path: always logged
	if n := histogramCount(t, ctx, "200", "GET"); n != 8 {
		t.Errorf("the metrics saw %d requests, want all 8", n)
	}
	var got []string
	for _, l := range logLines(t, e, file) {
		got = append(got, fmt.Sprintf("%v %v", l["request"].(map[string]any)["uri"], l["sampled_1_in"]))
	}
	// the 1st, 4th and 7th health check, each standing for 3; the other path without the field
	if want := "/health 3,/health 3,/health 3,/healthz <nil>"; strings.Join(got, ",") != want {
		t.Errorf("lines %v, want %s", got, want)
	}
}

func TestAFailedHealthCheckIsLoggedAsItArrivedEvenWhenTheSampleSkippedIt(t *testing.T) {
	e, _, file := provisioned(t, func(e *Edge) {
		e.AccessLog.HealthChecks = &HealthCheckSampling{Paths: []string{"/api/health"}, LogEvery: 100}
		e.OmitForwardedHost = true
	})
	ok := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	rr := httptest.NewRecorder()
	_ = e.ServeHTTP(rr, request("GET", "/api/health", rr), ok) // the first: logged, as one of 100
	rr = httptest.NewRecorder()
	r := request("GET", "/api/health?access_token=t0ken-value", rr)
	r.Header.Set("X-Request-ID", "from-the-client")
	r.Header.Set("X-Api-Key", "k3y")
	r.Header.Set("X-Forwarded-Host", "evil.example")
	failing := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		r.RequestURI, r.URL.Path = "/health?access_token=t0ken-value", "/health" // a route strips its prefix
		w.WriteHeader(503)
		return nil
	})
	_ = e.ServeHTTP(rr, r, failing)
	lines := logLines(t, e, file)
	if len(lines) != 2 {
		t.Fatalf("%d lines, want the first check and the failed one: %v", len(lines), lines)
	}
	failed := lines[1]
	req := failed["request"].(map[string]any)
	hdrs := req["headers"].(map[string]any)
	if failed["status"] != 503.0 || failed["sampled_1_in"] != nil || failed["request_id"] != rr.Header().Get("X-Request-ID") {
		t.Errorf("failed check logged as %v", failed)
	}
	if req["uri"] != "/api/health?access_token=REDACTED" || req["client_ip"] != "192.0.2.10" {
		t.Errorf("request logged as %v, want the URI as it arrived, redacted", req)
	}
	if fmt.Sprint(hdrs["X-Request-Id"]) != "[from-the-client]" || hdrs["X-Real-Ip"] != nil || fmt.Sprint(hdrs["X-Api-Key"]) != "[REDACTED]" ||
		fmt.Sprint(hdrs["X-Forwarded-Host"]) != "[evil.example]" {
		t.Errorf("headers logged as %v, want the client's", hdrs)
	}
	if raw, _ := os.ReadFile(file); strings.Contains(string(raw), "t0ken-value") || strings.Contains(string(raw), "k3y") {
		t.Error("a secret reached the log")
	}
}

func TestHealthCheckSamplingNeedsPathsAndARate(t *testing.T) {
	for _, hc := range []*HealthCheckSampling{{Paths: []string{"/health"}}, {LogEvery: 10}, {Paths: []string{"health"}, LogEvery: 10}} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		e := &Edge{AccessLog: &AccessLog{WritersRaw: []json.RawMessage{json.RawMessage(`{"output":"discard"}`)}, HealthChecks: hc}}
		if err := e.Provision(ctx); err == nil || !strings.Contains(err.Error(), "health_checks") {
			t.Errorf("%+v: provisioned (%v)", hc, err)
		}
		cancel()
	}
}

func TestABodyOverTheLimitIsRefusedUnreadOrWhenReadPastIt(t *testing.T) {
	e, ctx, _ := provisioned(t, func(e *Edge) { e.MaxRequestBodyBytes = 10; e.AccessLog = nil })
	reached := 0
	readAll := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		reached++
		_, err := io.ReadAll(r.Body)
		return err
	})
	status := func(body string, declared bool) int {
		rr := httptest.NewRecorder()
		r := request("POST", "/v1/items", rr)
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = -1
		if declared {
			r.ContentLength = int64(len(body))
		}
		return statusOf(e.ServeHTTP(rr, r, readAll))
	}
	if got := status("0123456789", true); got != 200 {
		t.Errorf("a body at the limit: %d", got)
	}
	if got := status("0123456789x", true); got != 413 || reached != 1 {
		t.Errorf("a declared body over the limit: %d, next reached %d times (want once: the first request)", got, reached)
	}
	if got := status(strings.Repeat("x", 100), false); got != 413 || reached != 2 {
		t.Errorf("a chunked body over the limit: %d", got)
	}
	if n := histogramCount(t, ctx, "413", "POST"); n != 2 {
		t.Errorf("413 observed %d times", n)
	}
}

func TestAFinishingInstanceTakesNoSettings(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := (&Edge{Finish: true, Metrics: true}).Provision(ctx); err == nil {
		t.Error("finish with metrics provisioned")
	}
	if err := (&Edge{ResponseHeaders: http.Header{"X-Id": {"{http.request.uuid}"}}}).Provision(ctx); err == nil {
		t.Error("a placeholder in a literal header value provisioned")
	}
}

func TestRedactURI(t *testing.T) {
	names := map[string]bool{"access_token": true, "sig": true}
	for _, c := range []struct{ in, want string }{
		{"/v1/items", "/v1/items"},
		{"/v1/items?page=2", "/v1/items?page=2"},
		{"/v1/items?access_token=abc", "/v1/items?access_token=REDACTED"},
		{"/v1/items?page=2&Access_Token=abc&sort=name", "/v1/items?page=2&Access_Token=REDACTED&sort=name"},
		{"/f?sig=1&sig=2", "/f?sig=REDACTED&sig=REDACTED"},
		{"/f?access%5Ftoken=abc&x=%26", "/f?access%5Ftoken=REDACTED&x=%26"},
		{"/f?sig&x=1", "/f?sig&x=1"},                   // no value: nothing to hide
		{"/f?signature=1", "/f?signature=1"},           // names match whole
		{"/f?x=access_token=1", "/f?x=access_token=1"}, // a value that looks like a name
		{"/f?sig=", "/f?sig=REDACTED"},
		{"/f?", "/f?"},
		{"/f?&&sig=a&", "/f?&&sig=REDACTED&"},
	} {
		if got := redactURI(c.in, names); got != c.want {
			t.Errorf("redactURI(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// A URI with nothing to redact is not copied: this runs on every request.
	uri := "/v1/items?page=2&sort=name"
	if n := testing.AllocsPerRun(100, func() { redactURI(uri, names) }); n != 0 {
		t.Errorf("%v allocations for a URI with nothing to redact", n)
	}
}

// nopWriter is a ResponseWriter that keeps nothing but its header map.
type nopWriter struct{ h http.Header }

func (w nopWriter) Header() http.Header       { return w.h }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

// proxied is n requests as wrk sends them, and a handler that answers as the proxy does without
// allocating, so what is measured is the edge's.
func proxied(n int, w http.ResponseWriter) ([]*http.Request, caddyhttp.Handler) {
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = request("GET", "/v1/items?page=2", w)
		reqs[i].Header.Set("User-Agent", "wrk")
		reqs[i].Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
	}
	contentType, body := []string{"application/json"}, []byte(`{"status":"ok"}`)
	return reqs, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header()["Content-Type"] = contentType
		w.WriteHeader(200)
		_, err := w.Write(body)
		return err
	})
}

// The edge runs on every request: its own allocations (the record, the request id, the log line's
// buffers from a pool) stay few. Each allocation costs CPU and adds to the garbage collector's work.
func TestAProxiedRequestCostsTheEdgeFewAllocations(t *testing.T) {
	e, _, logFile := provisioned(t, nil)
	w := nopWriter{h: http.Header{}}
	const runs = 200
	reqs, next := proxied(runs+1, w) // AllocsPerRun runs once more to warm up
	i := 0
	n := testing.AllocsPerRun(runs, func() {
		_ = e.ServeHTTP(w, reqs[i], next)
		i++
	})
	// The record (which holds the response writer and the header values) and the id's text.
	if n > 2 && !raceEnabled {
		t.Errorf("%v allocations per request, want at most 2", n)
	}
	if lines := logLines(t, e, logFile); len(lines) != runs+1 {
		t.Errorf("%d log lines for %d requests", len(lines), runs+1)
	}
}

func TestRequestIDsAreRandomVersion4UUIDs(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := newRequestID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("id %d: %q (a repeat: %v)", i, id, seen[id])
		}
		seen[id] = true
	}
}

// What the edge costs a proxied request on its own (go test -bench .): the request id, the
// headers, the metrics and the access log line, without Caddy's server or the proxy around it.
func BenchmarkAProxiedRequest(b *testing.B) {
	e, _, _ := provisioned(b, nil)
	w := nopWriter{h: http.Header{}}
	// A ring of requests, reused: building one per iteration would measure the collector.
	reqs, next := proxied(1024, w)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = e.ServeHTTP(w, reqs[i%len(reqs)], next)
	}
}
