package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// counted is an object that counts how often it is encoded.
type counted struct{ n *int }

func (c counted) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	*c.n++
	enc.AddString("uri", "/v1/items")
	return nil
}

func TestAnObjectGivenToWithIsEncodedOnlyWhenAnEntryIsWritten(t *testing.T) {
	var out bytes.Buffer
	enc := &Deferred{base: zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())}
	logger := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&out), zapcore.InfoLevel))
	n := 0
	withReq := logger.With(zap.String("upstream", "api-1:8080"), zap.Object("request", counted{&n}))
	withReq.Debug("upstream roundtrip") // off at info, as Caddy's reverse proxy line is
	if n != 0 || out.Len() != 0 {
		t.Fatalf("a With whose logger wrote nothing encoded the object %d times", n)
	}
	withReq.Error("upstream failed", zap.Int("status", 502))
	if n != 1 {
		t.Fatalf("encoded %d times for one entry", n)
	}
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	req, _ := line["request"].(map[string]any)
	if line["upstream"] != "api-1:8080" || req["uri"] != "/v1/items" || line["status"] != 502.0 || line["msg"] != "upstream failed" {
		t.Errorf("line %s", out.String())
	}
	// A child logger keeps its parent's objects and adds its own without touching the parent's.
	child := withReq.With(zap.Object("extra", counted{&n}))
	out.Reset()
	withReq.Info("parent")
	if bytes.Contains(out.Bytes(), []byte(`"extra"`)) {
		t.Errorf("the child's object leaked into the parent: %s", out.String())
	}
	out.Reset()
	child.Info("child")
	if !bytes.Contains(out.Bytes(), []byte(`"request"`)) || !bytes.Contains(out.Bytes(), []byte(`"extra"`)) {
		t.Errorf("the child lost an object: %s", out.String())
	}
}

// Clones share the wrapped encoder: siblings written from many goroutines each show only their
// own fields (any kind, and a namespace), and the root stays empty.
func TestSiblingsShareTheWrappedEncoderWithoutSharingFields(t *testing.T) {
	var out lockedBuffer
	enc := &Deferred{base: zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())}
	root := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&out), zapcore.InfoLevel))
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			for j := 0; j < 50; j++ {
				root.With(zap.Int("worker", i), zap.Duration("d", time.Duration(j)), zap.Namespace("ns"), zap.Bool("in_ns", true)).Info("x")
			}
		}(i)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 400 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var line map[string]any
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		ns, _ := line["ns"].(map[string]any)
		if _, ok := line["worker"].(float64); !ok || ns["in_ns"] != true || bytes.Count(l, []byte(`"worker"`)) != 1 {
			t.Fatalf("line %s", l)
		}
	}
	out.Reset()
	root.Info("root")
	if bytes.Contains(out.Bytes(), []byte(`"worker"`)) {
		t.Fatalf("a child's field reached the root: %s", out.Bytes())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// Caddy writes the request into its runtime lines (an upstream that broke off a response, a failed
// error route); those lines hide what the access log hides, in With fields and an entry's own.
func TestRuntimeLinesRedactTheRequestAsTheAccessLogDoes(t *testing.T) {
	var out bytes.Buffer
	enc := &Deferred{base: zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), redact: newLogRedaction([]string{"x-partner-key"}, []string{"Sig"})}
	logger := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&out), zapcore.InfoLevel))
	r := httptest.NewRequest("GET", "/v1/items?access_token=tok1&page=2&sig=s3cr3t", nil)
	r.Header.Set("X-Partner-Key", "pk-live")
	r.Header.Set("Authorization", "Bearer tok2")
	r.Header.Set("Accept", "application/json")
	req := caddyhttp.LoggableHTTPRequest{Request: r}
	logger.With(zap.Object("request", req)).Warn("aborting with incomplete response")
	logger.Error("error handling handler error", zap.Object("request", req), zap.String("uri", r.RequestURI))
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	for _, secret := range []string{"tok1", "tok2", "s3cr3t", "pk-live"} {
		if bytes.Contains(out.Bytes(), []byte(secret)) {
			t.Errorf("%q reached the runtime log: %s", secret, out.String())
		}
	}
	for _, l := range lines {
		var line struct {
			URI     string `json:"uri"`
			Request struct {
				URI     string              `json:"uri"`
				Headers map[string][]string `json:"headers"`
			} `json:"request"`
		}
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if want := "/v1/items?access_token=REDACTED&page=2&sig=REDACTED"; line.Request.URI != want {
			t.Errorf("request.uri %q, want %q", line.Request.URI, want)
		}
		if h := line.Request.Headers; h["X-Partner-Key"][0] != "REDACTED" || h["Authorization"][0] != "REDACTED" || h["Accept"][0] != "application/json" {
			t.Errorf("headers %v", h)
		}
	}
	if !bytes.Contains(lines[1], []byte(`"uri":"/v1/items?access_token=REDACTED&page=2&sig=REDACTED"`)) {
		t.Errorf("an entry's own uri field kept its query: %s", lines[1])
	}
}

// Provisioned from JSON as the Gateway writes it, the encoder redacts without being told about
// access_token, and refuses an empty name.
func TestDeferredTakesItsRedactionFromItsConfig(t *testing.T) {
	d := &Deferred{RedactHeaders: []string{"X-Partner-Key"}, RedactQuery: []string{""}}
	d.redact = newLogRedaction(d.RedactHeaders, nil)
	if !d.redact.query["access_token"] || !d.redact.headers["X-Partner-Key"] || !d.redact.headers["Cookie"] {
		t.Errorf("redaction %+v", d.redact)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	d.WrappedRaw = json.RawMessage(`{"format":"json"}`)
	if err := d.Provision(ctx); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty query name: %v", err)
	}
}
