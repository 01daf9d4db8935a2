package edge

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

func init() {
	caddy.RegisterModule(Deferred{})
}

// Deferred is a log encoder (`caddy.logging.encoders.slipway_deferred`) that encodes object fields
// given to a logger's With only when an entry is written, through the encoder it wraps.
//
// Why: zap encodes With's fields at once, for every log output, whether or not anything is then
// logged. Caddy's reverse proxy builds such a logger on every request, with the whole request as
// an object, for a debug line that is off at the default level: that encoding was about a
// twentieth of the Gateway's CPU per request. Deferred, an entry that is never written costs a
// reference. What a written entry shows is the object as it is at write time; every With of a
// request in Caddy is written, if at all, before the request moves on.
type Deferred struct {
	zapcore.Encoder `json:"-"`

	// The encoder that writes entries, e.g. {"format": "json"}. Required.
	WrappedRaw json.RawMessage `json:"wrap,omitempty" caddy:"namespace=caddy.logging.encoders inline_key=format"`

	objects []zapcore.Field
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
	d.Encoder = enc
	return nil
}

// ConfigureDefaultFormat lets the wrapped encoder pick its defaults for the writer.
func (d *Deferred) ConfigureDefaultFormat(wo caddy.WriterOpener) error {
	if cfd, ok := d.Encoder.(caddy.ConfiguresFormatterDefault); ok {
		return cfd.ConfigureDefaultFormat(wo)
	}
	return nil
}

// AddObject keeps the object for EncodeEntry.
func (d *Deferred) AddObject(key string, m zapcore.ObjectMarshaler) error {
	d.objects = append(d.objects, zap.Object(key, m))
	return nil
}

// Clone copies the wrapped encoder and the kept objects.
func (d *Deferred) Clone() zapcore.Encoder {
	return &Deferred{Encoder: d.Encoder.Clone(), objects: d.objects[:len(d.objects):len(d.objects)]}
}

// EncodeEntry encodes the kept objects, then the entry's own fields.
func (d *Deferred) EncodeEntry(e zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	if len(d.objects) == 0 {
		return d.Encoder.EncodeEntry(e, fields)
	}
	all := make([]zapcore.Field, 0, len(d.objects)+len(fields))
	all = append(append(all, d.objects...), fields...)
	return d.Encoder.EncodeEntry(e, all)
}

var (
	_ zapcore.Encoder                  = (*Deferred)(nil)
	_ caddy.Provisioner                = (*Deferred)(nil)
	_ caddy.ConfiguresFormatterDefault = (*Deferred)(nil)
)
