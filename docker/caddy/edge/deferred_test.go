package edge

import (
	"bytes"
	"encoding/json"
	"testing"

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
	enc := &Deferred{Encoder: zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())}
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
