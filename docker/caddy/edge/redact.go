package edge

import (
	"net/http"
	"strings"

	"go.uber.org/zap/zapcore"
)

// logRedaction hides credentials in Caddy's runtime log the way the access log does: Caddy
// writes a request (every header, the full URI) into the lines it logs about it, such as an
// upstream response broken off midway or an error route that failed. Caddy itself only redacts
// Authorization, Proxy-Authorization, Cookie and Set-Cookie there; an API key header or a token in
// the query would reach stderr, and from there `docker logs` and whatever ships them.
type logRedaction struct {
	headers map[string]bool // canonical names
	query   map[string]bool // lowercase names
}

func newLogRedaction(headers, query []string) *logRedaction {
	r := &logRedaction{headers: map[string]bool{}, query: map[string]bool{"access_token": true}}
	for k := range alwaysRedacted {
		r.headers[k] = true
	}
	for _, h := range headers {
		r.headers[http.CanonicalHeaderKey(h)] = true
	}
	for _, q := range query {
		r.query[strings.ToLower(q)] = true
	}
	return r
}

// fields is the entry's fields with every object wrapped and every `uri` string redacted. It
// copies only when there is something to wrap: most runtime lines carry no object.
func (r *logRedaction) fields(fs []zapcore.Field) []zapcore.Field {
	var out []zapcore.Field
	for i, f := range fs {
		g, changed := r.field(f)
		if !changed {
			if out != nil {
				out = append(out, f)
			}
			continue
		}
		if out == nil {
			out = append(make([]zapcore.Field, 0, len(fs)), fs[:i]...)
		}
		out = append(out, g)
	}
	if out == nil {
		return fs
	}
	return out
}

func (r *logRedaction) field(f zapcore.Field) (zapcore.Field, bool) {
	switch {
	case f.Type == zapcore.ObjectMarshalerType:
		if m, ok := f.Interface.(zapcore.ObjectMarshaler); ok {
			f.Interface = redactedObject{m, r}
			return f, true
		}
	case f.Type == zapcore.ArrayMarshalerType:
		if m, ok := f.Interface.(zapcore.ArrayMarshaler); ok {
			f.Interface = redactedArray{m, r}
			return f, true
		}
	case f.Type == zapcore.StringType && f.Key == "uri":
		if u := redactURI(f.String, r.query); u != f.String {
			f.String = u
			return f, true
		}
	}
	return f, false
}

// redactedObject encodes an object through a redacting encoder, so nested objects (a request's
// `headers`) are redacted too.
type redactedObject struct {
	zapcore.ObjectMarshaler
	r *logRedaction
}

func (o redactedObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return o.ObjectMarshaler.MarshalLogObject(redactingEncoder{enc, o.r})
}

type redactedArray struct {
	zapcore.ArrayMarshaler
	r *logRedaction
}

func (a redactedArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	return a.ArrayMarshaler.MarshalLogArray(redactingArrayEncoder{enc, a.r})
}

// redactingEncoder is an object encoder that redacts as it goes: a `uri` string's credential
// query values, and the values of a credential header (Caddy writes each header as an array under
// its name).
type redactingEncoder struct {
	zapcore.ObjectEncoder
	r *logRedaction
}

func (e redactingEncoder) AddString(k, v string) {
	if k == "uri" {
		v = redactURI(v, e.r.query)
	}
	e.ObjectEncoder.AddString(k, v)
}

func (e redactingEncoder) AddArray(k string, v zapcore.ArrayMarshaler) error {
	if e.r.headers[http.CanonicalHeaderKey(k)] {
		return e.ObjectEncoder.AddArray(k, redactedValue{})
	}
	return e.ObjectEncoder.AddArray(k, redactedArray{v, e.r})
}

func (e redactingEncoder) AddObject(k string, v zapcore.ObjectMarshaler) error {
	return e.ObjectEncoder.AddObject(k, redactedObject{v, e.r})
}

type redactingArrayEncoder struct {
	zapcore.ArrayEncoder
	r *logRedaction
}

func (e redactingArrayEncoder) AppendObject(v zapcore.ObjectMarshaler) error {
	return e.ArrayEncoder.AppendObject(redactedObject{v, e.r})
}

func (e redactingArrayEncoder) AppendArray(v zapcore.ArrayMarshaler) error {
	return e.ArrayEncoder.AppendArray(redactedArray{v, e.r})
}

// redactedValue is a header's values as Caddy writes a redacted one: ["REDACTED"].
type redactedValue struct{}

func (redactedValue) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	enc.AppendString("REDACTED")
	return nil
}
