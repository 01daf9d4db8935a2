package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func testApp(t *testing.T, store Store, logs io.Writer) (*App, *httptest.Server) {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	app := NewApp(store, slog.New(slog.NewJSONHandler(logs, nil)))
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return app, srv
}

func do(t *testing.T, method, url, body string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

func TestHealthNeverTouchesTheDatabase(t *testing.T) {
	store := &MemStore{Down: true}
	_, srv := testApp(t, store, nil)
	resp, _ := do(t, "GET", srv.URL+"/health", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("health with the database down: %d, want 200", resp.StatusCode)
	}
}

func TestReadyFollowsTheDatabase(t *testing.T) {
	store := &MemStore{}
	app, srv := testApp(t, store, nil)
	if resp, body := do(t, "GET", srv.URL+"/ready", "", nil); resp.StatusCode != 503 || body["status"] != "database not migrated yet" {
		t.Fatalf("before migration: %d %v", resp.StatusCode, body)
	}
	app.dbState.Store(dbReady)
	if resp, _ := do(t, "GET", srv.URL+"/ready", "", nil); resp.StatusCode != 200 {
		t.Fatalf("database up: %d, want 200", resp.StatusCode)
	}
	store.SetDown(true)
	if resp, body := do(t, "GET", srv.URL+"/ready", "", nil); resp.StatusCode != 503 || body["status"] != "database unreachable" {
		t.Fatalf("database down: %d %v", resp.StatusCode, body)
	}
}

// A request the replica accepted before its stop signal, and whose handler runs after the drain
// began, gets its real answer. This is the race a rollout under load meets: the gateway sent the
// request on a kept-alive connection a moment before the old replica was stopped.
func TestDrainAnswersARequestAcceptedBeforeIt(t *testing.T) {
	store := &MemStore{}
	app := NewApp(store, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	app.dbState.Store(dbReady)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted, draining := make(chan struct{}), make(chan struct{})
	inner := app.Handler()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(accepted)
		<-draining
		inner.ServeHTTP(w, r)
	})}
	srv.RegisterOnShutdown(func() { close(draining) })
	go func() { _ = srv.Serve(ln) }()
	type reply struct {
		status int
		body   string
		err    error
	}
	got := make(chan reply, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/ready")
		if err != nil {
			got <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- reply{status: resp.StatusCode, body: string(body)}
	}()
	<-accepted
	if err := drain(srv, 5*time.Second); err != nil {
		t.Fatalf("drain: %v", err)
	}
	if r := <-got; r.err != nil || r.status != 200 {
		t.Fatalf("a request accepted before the drain: %+v, want 200", r)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting connections after the drain")
	}
}

func TestReadyWithoutDatabase(t *testing.T) {
	_, srv := testApp(t, nil, nil)
	resp, body := do(t, "GET", srv.URL+"/ready", "", nil)
	if resp.StatusCode != 503 || body["status"] != "database not configured" {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", srv.URL+"/v1/items", "", nil); resp.StatusCode != 503 {
		t.Fatalf("items without a database: %d, want 503", resp.StatusCode)
	}
}

func TestItemsRoundTrip(t *testing.T) {
	app, srv := testApp(t, &MemStore{}, nil)
	app.dbState.Store(dbReady)
	resp, created := do(t, "POST", srv.URL+"/v1/items", `{"name":"  first  "}`, nil)
	if resp.StatusCode != 201 || created["name"] != "first" || created["id"] != float64(1) {
		t.Fatalf("create: %d %v", resp.StatusCode, created)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/items/1" {
		t.Fatalf("Location %q", loc)
	}
	do(t, "POST", srv.URL+"/v1/items", `{"name":"second"}`, nil)
	resp, got := do(t, "GET", srv.URL+"/v1/items/2", "", nil)
	if resp.StatusCode != 200 || got["name"] != "second" {
		t.Fatalf("get: %d %v", resp.StatusCode, got)
	}
	resp, list := do(t, "GET", srv.URL+"/v1/items?limit=1", "", nil)
	items, _ := list["items"].([]any)
	if resp.StatusCode != 200 || len(items) != 1 {
		t.Fatalf("list limit=1: %d %v", resp.StatusCode, list)
	}
	if resp, _ := do(t, "GET", srv.URL+"/v1/items/99", "", nil); resp.StatusCode != 404 {
		t.Fatalf("missing item: %d", resp.StatusCode)
	}
}

func TestItemsRejectBadInput(t *testing.T) {
	app, srv := testApp(t, &MemStore{}, nil)
	app.dbState.Store(dbReady)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/items", `{"name":""}`},
		{"POST", "/v1/items", `{"name":"` + strings.Repeat("x", 201) + `"}`},
		{"POST", "/v1/items", `{"name":"a","extra":1}`},
		{"POST", "/v1/items", `not json`},
		{"GET", "/v1/items/abc", ""},
		{"GET", "/v1/items/0", ""},
		{"GET", "/v1/items?limit=0", ""},
		{"GET", "/v1/slow?ms=5001", ""},
		{"GET", "/v1/slow?ms=-1", ""},
	} {
		resp, body := do(t, c.method, srv.URL+c.path, c.body, nil)
		if resp.StatusCode != 400 || body["error"] == nil {
			t.Errorf("%s %s %q: %d %v, want 400 with an error", c.method, c.path, c.body, resp.StatusCode, body)
		}
	}
}

func TestStoreErrorsAre503(t *testing.T) {
	store := &MemStore{}
	app, srv := testApp(t, store, nil)
	app.dbState.Store(dbReady)
	store.SetDown(true)
	if resp, _ := do(t, "POST", srv.URL+"/v1/items", `{"name":"x"}`, nil); resp.StatusCode != 503 {
		t.Fatalf("create with the database down: %d, want 503", resp.StatusCode)
	}
}

func TestRequestIDIsHonouredOrGenerated(t *testing.T) {
	var logs bytes.Buffer
	_, srv := testApp(t, nil, &logs)
	resp, _ := do(t, "GET", srv.URL+"/health", "", map[string]string{"X-Request-ID": "abc-123"})
	if got := resp.Header.Get("X-Request-ID"); got != "abc-123" {
		t.Fatalf("echoed id %q", got)
	}
	if !strings.Contains(logs.String(), `"request_id":"abc-123"`) {
		t.Fatalf("access log lacks the request id: %s", logs.String())
	}
	resp, _ = do(t, "GET", srv.URL+"/health", "", map[string]string{"X-Request-ID": "bad id\twith spaces"})
	if got := resp.Header.Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \t") {
		t.Fatalf("an unsafe id must be replaced, got %q", got)
	}
}

func TestMetricsUseRoutePatterns(t *testing.T) {
	app, srv := testApp(t, &MemStore{}, nil)
	app.dbState.Store(dbReady)
	do(t, "POST", srv.URL+"/v1/items", `{"name":"x"}`, nil)
	do(t, "GET", srv.URL+"/v1/items/1", "", nil)
	do(t, "GET", srv.URL+"/v1/items/12345", "", nil)
	do(t, "GET", srv.URL+"/nope", "", nil)
	c := app.metrics.requests
	if v := testutil.ToFloat64(c.WithLabelValues("GET", "/v1/items/{id}", "200")); v != 1 {
		t.Errorf("GET /v1/items/{id} 200 = %v, want 1", v)
	}
	if v := testutil.ToFloat64(c.WithLabelValues("GET", "/v1/items/{id}", "404")); v != 1 {
		t.Errorf("GET /v1/items/{id} 404 = %v, want 1", v)
	}
	if v := testutil.ToFloat64(c.WithLabelValues("GET", "unmatched", "404")); v != 1 {
		t.Errorf("unmatched 404 = %v, want 1", v)
	}
	_, _ = http.Get(srv.URL + "/metrics")
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(raw)
	for _, want := range []string{
		`http_requests_total{method="POST",route="/v1/items",status="201"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="/v1/items/{id}",status="200",le="+Inf"} 1`,
		`http_requests_total{method="GET",route="/metrics",status="200"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "12345") {
		t.Error("a raw path leaked into a label")
	}
}

func TestConfigSecretFileWinsAndIsTrimmed(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/DATABASE_URL"
	if err := os.WriteFile(path, []byte("postgres://u:from-file@db/app\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": "postgres://u:from-env@db/app", "DATABASE_URL_FILE": path, "OTEL_SERVICE_NAME": "svc"}
	cfg, err := LoadConfig(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://u:from-file@db/app" || cfg.Sources["DATABASE_URL"] != "file" {
		t.Fatalf("file must win: %q %v", cfg.DatabaseURL, cfg.Sources)
	}
	if strings.Join(cfg.Configured, ",") != "DATABASE_URL,OTEL_SERVICE_NAME" {
		t.Fatalf("configured %v", cfg.Configured)
	}
	env["DATABASE_URL_FILE"] = dir + "/missing"
	if _, err := LoadConfig(func(k string) string { return env[k] }, os.ReadFile); err == nil || strings.Contains(err.Error(), "from-env") {
		t.Fatalf("a missing secret file must fail without echoing values: %v", err)
	}
	env = map[string]string{"PORT": "70000"}
	if _, err := LoadConfig(func(k string) string { return env[k] }, os.ReadFile); err == nil {
		t.Fatal("PORT=70000 accepted")
	}
}

// The startup log names the secrets that are configured and never contains their values.
func TestRunNeverLogsSecrets(t *testing.T) {
	var logs bytes.Buffer
	cfg := Config{Port: 0, ShutdownGrace: time.Second, DBMaxConns: 2, ServiceName: "t",
		DatabaseURL: "postgres://app:s3cr3t-pw@127.0.0.1:1/app?connect_timeout=1", SentryDSN: "https://key-xyz@sentry.invalid/1",
		Configured: []string{"DATABASE_URL", "SENTRY_DSN"}, Sources: map[string]string{"DATABASE_URL": "file", "SENTRY_DSN": "env"}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil)), ln) }()
	// Port 1 refuses: the retry loop logs connection errors, which must still hide the password.
	time.Sleep(700 * time.Millisecond)
	resp, err := http.Get("http://" + ln.Addr().String() + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/health must answer while the database is down: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, secret := range []string{"s3cr3t-pw", "key-xyz"} {
		if strings.Contains(out, secret) {
			t.Fatalf("logs contain a secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `"configured":["DATABASE_URL","SENTRY_DSN"]`) || !strings.Contains(out, "database not reachable yet") {
		t.Fatalf("startup log lacks the configured names or the retry:\n%s", out)
	}
}

// In-flight requests finish after the stop signal; new connections are refused; run returns nil.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	cfg := Config{ShutdownGrace: 5 * time.Second, ServiceName: "t"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln) }()
	type result struct {
		status int
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/v1/slow?ms=800")
		if err != nil {
			slow <- result{0, err}
			return
		}
		resp.Body.Close()
		slow <- result{resp.StatusCode, nil}
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	cancel()
	r := <-slow
	if r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request: %+v, want 200", r)
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if time.Since(start) < 400*time.Millisecond {
		t.Fatal("run returned before the in-flight request could finish")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
}

func TestShutdownPastGraceIsAnError(t *testing.T) {
	cfg := Config{ShutdownGrace: 100 * time.Millisecond, ServiceName: "t"}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln) }()
	go func() {
		if resp, err := http.Get("http://" + ln.Addr().String() + "/v1/slow?ms=2000"); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("want a grace-period error, got %v", err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// The alert thresholds Slipway ships by default (P95 above 500 ms, above 2 s) are bucket bounds, so
// a request taking 1.01 s lands in le="2" and cannot read as a P95 beyond it.
func TestLatencyBucketsHoldTheAlertThresholds(t *testing.T) {
	app, srv := testApp(t, &MemStore{}, nil)
	app.dbState.Store(dbReady)
	do(t, "GET", srv.URL+"/v1/slow?ms=0", "", nil)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(raw)
	for _, le := range []string{"0.5", "1", "2", "2.5", "+Inf"} {
		want := `http_request_duration_seconds_bucket{method="GET",route="/v1/slow",status="200",le="` + le + `"} 1`
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for i := 1; i < len(LatencyBuckets); i++ {
		if LatencyBuckets[i] <= LatencyBuckets[i-1] {
			t.Fatalf("LatencyBuckets must ascend: %v", LatencyBuckets)
		}
	}
}
