package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

func init() {
	caddy.RegisterModule(Deferred{})
}

// Deferred is a log encoder (`caddy.logging.encoders.slipway_deferred`) that encodes the fields
// given to a logger's With only when an entry is written, through the encoder it wraps.
//
// Why: zap encodes With's fields at once, for every log output, whether or not anything is then
// logged. Caddy's reverse proxy builds such a logger on every request, with the whole request as
// an object, for a debug line that is off at the default level: that encoding was about a
// twentieth of the Gateway's CPU per request. Deferred, an entry that is never written costs a
// reference. What a written entry shows is the object as it is at write time; every With of a
// request in Caddy is written, if at all, before the request moves on. A clone shares the wrapped
// encoder, which nothing but EncodeEntry touches (it encodes into a copy of its own), and copies
// only the list of fields: a With costs two small allocations, not a JSON encoder's copy.
//
// A written entry's request is redacted as slipway_edge's access log redacts it (redact.go).
type Deferred struct {
	base   zapcore.Encoder
	redact *logRedaction

	// The encoder that writes entries, e.g. {"format": "json"}. Required.
	WrappedRaw json.RawMessage `json:"wrap,omitempty" caddy:"namespace=caddy.logging.encoders inline_key=format"`
	// Request headers written as ["REDACTED"], besides Authorization, Proxy-Authorization, Cookie
	// and Set-Cookie (always).
	RedactHeaders []string `json:"redact_headers,omitempty"`
	// Query parameters whose values a written `uri` shows as REDACTED, besides access_token (always).
	RedactQuery []string `json:"redact_query,omitempty"`

	fields []zapcore.Field
}

// CaddyModule returns the Caddy module information.
func (Deferred) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.logging.encoders.slipway_deferred",
		New: func() caddy.Module { return new(Deferred) },
	}
}

// Provision loads the wrapped encoder.
func (d *Deferred) Provision(ctx caddy.Context) error {
	if d.WrappedRaw == nil {
		return errors.New("slipway_deferred: wrap is required, e.g. {\"format\": \"json\"}")
	}
	mod, err := ctx.LoadModule(d, "WrappedRaw")
	if err != nil {
		return fmt.Errorf("slipway_deferred: loading the wrapped encoder: %w", err)
	}
	enc, ok := mod.(zapcore.Encoder)
	if !ok {
		return fmt.Errorf("slipway_deferred: %T is not a log encoder", mod)
	}
	for _, k := range append(append([]string(nil), d.RedactHeaders...), d.RedactQuery...) {
		if k == "" {
			return errors.New("slipway_deferred: redact_headers and redact_query take names, not empty strings")
		}
	}
	d.base = enc
	d.redact = newLogRedaction(d.RedactHeaders, d.RedactQuery)
	return nil
}

// ConfigureDefaultFormat lets the wrapped encoder pick its defaults for the writer.
func (d *Deferred) ConfigureDefaultFormat(wo caddy.WriterOpener) error {
	if cfd, ok := d.base.(caddy.ConfiguresFormatterDefault); ok {
		return cfd.ConfigureDefaultFormat(wo)
	}
	return nil
}

// Clone shares the wrapped encoder and copies the list of fields kept so far.
func (d *Deferred) Clone() zapcore.Encoder {
	return &Deferred{base: d.base, redact: d.redact, fields: d.fields[:len(d.fields):len(d.fields)]}
}

// EncodeEntry encodes the kept fields, then the entry's own, redacted.
func (d *Deferred) EncodeEntry(e zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	all := fields
	if len(d.fields) > 0 {
		all = make([]zapcore.Field, 0, len(d.fields)+len(fields))
		all = append(append(all, d.fields...), fields...)
	}
	if d.redact != nil {
		all = d.redact.fields(all)
	}
	return d.base.EncodeEntry(e, all)
}

// keep is every Add below: the field waits for EncodeEntry.
func (d *Deferred) keep(f zapcore.Field) { d.fields = append(d.fields, f) }

func (d *Deferred) AddArray(k string, v zapcore.ArrayMarshaler) error {
	d.keep(zap.Array(k, v))
	return nil
}
func (d *Deferred) AddObject(k string, v zapcore.ObjectMarshaler) error {
	d.keep(zap.Object(k, v))
	return nil
}
func (d *Deferred) AddReflected(k string, v any) error    { d.keep(zap.Reflect(k, v)); return nil }
func (d *Deferred) AddBinary(k string, v []byte)          { d.keep(zap.Binary(k, v)) }
func (d *Deferred) AddByteString(k string, v []byte)      { d.keep(zap.ByteString(k, v)) }
func (d *Deferred) AddBool(k string, v bool)              { d.keep(zap.Bool(k, v)) }
func (d *Deferred) AddComplex128(k string, v complex128)  { d.keep(zap.Complex128(k, v)) }
func (d *Deferred) AddComplex64(k string, v complex64)    { d.keep(zap.Complex64(k, v)) }
func (d *Deferred) AddDuration(k string, v time.Duration) { d.keep(zap.Duration(k, v)) }
func (d *Deferred) AddFloat64(k string, v float64)        { d.keep(zap.Float64(k, v)) }
func (d *Deferred) AddFloat32(k string, v float32)        { d.keep(zap.Float32(k, v)) }
func (d *Deferred) AddInt(k string, v int)                { d.keep(zap.Int(k, v)) }
func (d *Deferred) AddInt64(k string, v int64)            { d.keep(zap.Int64(k, v)) }
func (d *Deferred) AddInt32(k string, v int32)            { d.keep(zap.Int32(k, v)) }
func (d *Deferred) AddInt16(k string, v int16)            { d.keep(zap.Int16(k, v)) }
func (d *Deferred) AddInt8(k string, v int8)              { d.keep(zap.Int8(k, v)) }
func (d *Deferred) AddString(k, v string)                 { d.keep(zap.String(k, v)) }
func (d *Deferred) AddTime(k string, v time.Time)         { d.keep(zap.Time(k, v)) }
func (d *Deferred) AddUint(k string, v uint)              { d.keep(zap.Uint(k, v)) }
func (d *Deferred) AddUint64(k string, v uint64)          { d.keep(zap.Uint64(k, v)) }
func (d *Deferred) AddUint32(k string, v uint32)          { d.keep(zap.Uint32(k, v)) }
func (d *Deferred) AddUint16(k string, v uint16)          { d.keep(zap.Uint16(k, v)) }
func (d *Deferred) AddUint8(k string, v uint8)            { d.keep(zap.Uint8(k, v)) }
func (d *Deferred) AddUintptr(k string, v uintptr)        { d.keep(zap.Uintptr(k, v)) }
func (d *Deferred) OpenNamespace(k string)                { d.keep(zap.Namespace(k)) }

var (
	_ zapcore.Encoder                  = (*Deferred)(nil)
	_ caddy.Provisioner                = (*Deferred)(nil)
	_ caddy.ConfiguresFormatterDefault = (*Deferred)(nil)
)
