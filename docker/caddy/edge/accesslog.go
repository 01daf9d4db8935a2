package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// AccessLog writes one JSON line per request to Caddy log writers (stdout, a rolled file, ...).
type AccessLog struct {
	// Caddy log writer modules (`caddy.logging.writers.*`), e.g. {"output": "stdout"} or
	// {"output": "file", "filename": "...", "roll_size_mb": 100}.
	WritersRaw []json.RawMessage `json:"writers,omitempty" caddy:"namespace=caddy.logging.writers inline_key=output"`
	// Lines wait in a buffer at most this long (default 250ms). A crash can lose this window; a
	// config unload (reload, shutdown) flushes.
	FlushInterval caddy.Duration `json:"flush_interval,omitempty"`
	// A buffer this full is written at once (default 64 KiB).
	BufferBytes int `json:"buffer_bytes,omitempty"`
	// Request headers logged as ["REDACTED"], besides Authorization, Proxy-Authorization, Cookie
	// and Set-Cookie (always): API keys and other credentials a client sends in its own header.
	RedactHeaders []string `json:"redact_headers,omitempty"`
	// Query parameters whose values the log's uri shows as REDACTED, besides access_token (always:
	// RFC 6750's bearer token in a URL). Names match in any case, percent-encoded or not.
	RedactQuery []string `json:"redact_query,omitempty"`
	// Successful health checks reach the log one in so many (monitors and load balancers poll
	// them all day); failed ones always do.
	HealthChecks *HealthCheckSampling `json:"health_checks,omitempty"`
}

// HealthCheckSampling names the paths of health checks and how many of their successful requests
// (status below 400) one log line stands for. The line says so (`"sampled_1_in": N`), so a
// count of requests from the log can be corrected; the metrics see every request.
type HealthCheckSampling struct {
	// Request paths, exact (as the client sent them, before any rewrite).
	Paths []string `json:"paths"`
	// One in this many is logged: the first, then every LogEvery-th. 1 logs all.
	LogEvery uint64 `json:"log_every"`
}

const (
	defaultFlushInterval = 250 * time.Millisecond
	defaultBufferBytes   = 64 << 10
)

type accessLogger struct {
	sinks  []*sink
	redact *logRedaction // the same names Caddy's runtime log hides (redact.go)

	healthPaths map[string]bool
	logEvery    uint64
	healthSeen  atomic.Uint64
}

func (a *AccessLog) open(ctx caddy.Context) (*accessLogger, error) {
	if len(a.WritersRaw) == 0 {
		return nil, errors.New("no writers")
	}
	mods, err := ctx.LoadModule(a, "WritersRaw")
	if err != nil {
		return nil, err
	}
	flush := time.Duration(a.FlushInterval)
	if flush <= 0 {
		flush = defaultFlushInterval
	}
	size := a.BufferBytes
	if size <= 0 {
		size = defaultBufferBytes
	}
	for _, k := range a.RedactHeaders {
		if k == "" {
			return nil, errors.New("redact_headers: an empty header name")
		}
	}
	for _, k := range a.RedactQuery {
		if k == "" {
			return nil, errors.New("redact_query: an empty parameter name")
		}
	}
	l := &accessLogger{redact: newLogRedaction(a.RedactHeaders, a.RedactQuery)}
	if hc := a.HealthChecks; hc != nil {
		if hc.LogEvery < 1 || len(hc.Paths) == 0 {
			return nil, errors.New("health_checks: needs paths and a log_every of 1 or more")
		}
		l.healthPaths, l.logEvery = map[string]bool{}, hc.LogEvery
		for _, p := range hc.Paths {
			if !strings.HasPrefix(p, "/") {
				return nil, fmt.Errorf("health_checks: %q is not a path", p)
			}
			l.healthPaths[p] = true
		}
	}
	for _, m := range mods.([]any) {
		wo, ok := m.(caddy.WriterOpener)
		if !ok {
			l.close()
			return nil, fmt.Errorf("%T is not a log writer", m)
		}
		s, err := acquireSink(wo, flush, size)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("opening %s: %w", wo, err)
		}
		l.sinks = append(l.sinks, s)
	}
	return l, nil
}

func (l *accessLogger) close() error {
	var errs []error
	for _, s := range l.sinks {
		errs = append(errs, s.release())
	}
	l.sinks = nil
	return errors.Join(errs...)
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// sample is how many successful requests this one's line would stand for: 0 when it is not a
// health check, LogEvery when it is the one logged, and skipped when it is one of the others (whose
// line is written only if it fails).
func (l *accessLogger) sample(r *http.Request) (every uint64, skipped bool) {
	if l.logEvery == 0 || !l.healthPaths[r.URL.Path] {
		return 0, false
	}
	return l.logEvery, (l.healthSeen.Add(1)-1)%l.logEvery != 0
}

// begin writes the request as it arrived, before any handler rewrites its URI or headers (a JWT
// check replaces claim headers, a route strips a prefix): Caddy's access log records the same.
func (l *accessLogger) begin(r *http.Request, clientIP string) *[]byte {
	bp := linePool.Get().(*[]byte)
	*bp = appendRequest((*bp)[:0], r, r.RequestURI, clientIP, l.redact)
	return bp
}

// late is the `request` object of a skipped health check that failed, written when it ended: the
// URI as it arrived (Caddy keeps it), the headers this handler replaced as the client sent them.
// Health paths behind a token check are never skipped (the Gateway leaves them out), so no other
// handler has edited the request's headers.
func (l *accessLogger) late(r *http.Request, rec *record) *[]byte {
	uri := r.RequestURI
	if orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok && orig.RequestURI != "" {
		uri = orig.RequestURI
	}
	bp := linePool.Get().(*[]byte)
	*bp = appendRequest((*bp)[:0], r, uri, rec.ip, l.redact, rec.replaced[:]...)
	return bp
}

func (l *accessLogger) write(rec *record, r *http.Request, status int, size int64, d time.Duration) {
	if rec.request == nil {
		if status < 400 {
			return // a successful health check the sample skips
		}
		rec.request = l.late(r, rec)
	}
	bp := linePool.Get().(*[]byte)
	line := appendLine((*bp)[:0], *rec.request, rec, status, size, d, time.Now())
	for _, s := range l.sinks {
		s.add(line)
	}
	put(bp, line)
	put(rec.request, *rec.request)
	rec.request = nil
}

func put(bp *[]byte, b []byte) {
	if cap(b) <= 64<<10 {
		*bp = b
		linePool.Put(bp)
	}
}

// appendRequest is the line's `request` object, with Caddy's field names; `arrived` gives the
// client's values of headers a handler replaced since.
func appendRequest(b []byte, r *http.Request, uri, clientIP string, redact *logRedaction, arrived ...arrivedHeader) []byte {
	b = append(b, `{"remote_ip":`...)
	host, port, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host, port = r.RemoteAddr, ""
	}
	b = appendString(b, host)
	b = append(b, `,"remote_port":`...)
	b = appendString(b, port)
	b = append(b, `,"client_ip":`...)
	b = appendString(b, clientIP)
	b = append(b, `,"proto":`...)
	b = appendString(b, r.Proto)
	b = append(b, `,"method":`...)
	b = appendString(b, r.Method)
	b = append(b, `,"host":`...)
	b = appendString(b, r.Host)
	b = append(b, `,"uri":`...)
	b = appendString(b, redactURI(uri, redact.query))
	b = append(b, `,"headers":`...)
	b = appendHeaders(b, r.Header, redact.headers, arrived)
	if r.TLS != nil {
		b = append(b, `,"tls":{"version":`...)
		b = strconv.AppendUint(b, uint64(r.TLS.Version), 10)
		b = append(b, `,"server_name":`...)
		b = appendString(b, r.TLS.ServerName)
		b = append(b, '}')
	}
	return append(b, '}')
}

// redactURI is uri with the values of the named query parameters replaced by REDACTED: a token in a
// URL (?access_token=, a signed link's signature) is as secret as one in a header. A URI without a
// parameter to redact comes back as it was, without a copy.
func redactURI(uri string, names map[string]bool) string {
	q := strings.IndexByte(uri, '?')
	if q < 0 || len(names) == 0 {
		return uri
	}
	var out []byte // nil until a parameter is redacted
	start := q + 1
	for i := start; i <= len(uri); i++ {
		if i < len(uri) && uri[i] != '&' {
			continue
		}
		param := uri[start:i]
		name, _, hasValue := strings.Cut(param, "=")
		switch {
		case hasValue && names[queryName(name)]:
			if out == nil {
				out = append(make([]byte, 0, len(uri)+8), uri[:start]...)
			}
			out = append(append(out, name...), "=REDACTED"...)
		case out != nil:
			out = append(out, param...)
		}
		if out != nil && i < len(uri) {
			out = append(out, '&')
		}
		start = i + 1
	}
	if out == nil {
		return uri
	}
	return string(out)
}

// queryName is a parameter name as a server reads it: unescaped, in lower case.
func queryName(raw string) string {
	if strings.ContainsAny(raw, "%+") {
		if u, err := url.QueryUnescape(raw); err == nil {
			raw = u
		}
	}
	return strings.ToLower(raw)
}

// appendLine is the access log's JSON line: Caddy's field names where Caddy has the field.
func appendLine(b []byte, request []byte, rec *record, status int, size int64, d time.Duration, now time.Time) []byte {
	level := "info"
	if status >= 500 {
		level = "error"
	}
	b = append(b, `{"level":"`...)
	b = append(b, level...)
	b = append(b, `","ts":`...)
	b = strconv.AppendFloat(b, float64(now.UnixMicro())/1e6, 'f', 6, 64)
	b = append(b, `,"logger":"http.log.access","msg":"handled request","request":`...)
	b = append(b, request...)
	b = append(b, `,"request_id":`...)
	b = appendString(b, rec.id)
	b = append(b, `,"bytes_read":`...)
	var read int64
	if rec.bodyRead != nil {
		read = rec.bodyRead.n
	}
	b = strconv.AppendInt(b, read, 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendFloat(b, d.Seconds(), 'f', 9, 64)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, size, 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	if rec.sample > 0 && status < 400 {
		b = append(b, `,"sampled_1_in":`...)
		b = strconv.AppendUint(b, rec.sample, 10)
	}
	return append(b, "}\n"...)
}

// alwaysRedacted are the request headers whose values never reach the log (as Caddy's access log).
var alwaysRedacted = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true}

// arrivedHeader is a request header a handler replaced, with the client's values (nil: none).
type arrivedHeader struct {
	key    string
	values []string
}

// appendHeaders writes the request's headers as Caddy does ({"Name":["v", ...]}), credentials
// redacted, those in `arrived` with the client's values.
func appendHeaders(b []byte, h http.Header, redact map[string]bool, arrived []arrivedHeader) []byte {
	b = append(b, '{')
	first := true
	for k, vs := range h {
		if a := find(arrived, k); a != nil {
			if vs = a.values; len(vs) == 0 {
				continue
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ":["...)
		if redact[k] {
			b = append(b, `"REDACTED"`...)
		} else {
			for i, v := range vs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, v)
			}
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func find(arrived []arrivedHeader, key string) *arrivedHeader {
	for i := range arrived {
		if arrived[i].key == key {
			return &arrived[i]
		}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string: control characters, quotes and backslashes escaped,
// invalid UTF-8 as U+FFFD (a header is bytes; a log line must stay valid JSON).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c < 0x80 {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// sink is one writer's buffer, shared by every edge instance (old and new config during a
// reload) that writes to the same destination, so their lines never interleave mid-line.
type sink struct {
	key   string
	w     io.WriteCloser
	limit int

	mu   sync.Mutex
	buf  []byte
	refs int
	stop chan struct{}
	done chan struct{}
}

var (
	sinksMu sync.Mutex
	sinks   = map[string]*sink{}
)

func acquireSink(wo caddy.WriterOpener, flush time.Duration, limit int) (*sink, error) {
	sinksMu.Lock()
	defer sinksMu.Unlock()
	key := wo.WriterKey()
	if s := sinks[key]; s != nil {
		s.mu.Lock()
		s.refs++
		s.mu.Unlock()
		return s, nil
	}
	w, err := wo.OpenWriter()
	if err != nil {
		return nil, err
	}
	s := &sink{key: key, w: w, limit: limit, buf: make([]byte, 0, limit+4096), refs: 1, stop: make(chan struct{}), done: make(chan struct{})}
	sinks[key] = s
	go s.flushEvery(flush)
	return s, nil
}

func (s *sink) add(line []byte) {
	s.mu.Lock()
	s.buf = append(s.buf, line...)
	if len(s.buf) >= s.limit {
		s.flushLocked()
	}
	s.mu.Unlock()
}

func (s *sink) flushLocked() {
	if len(s.buf) == 0 {
		return
	}
	_, _ = s.w.Write(s.buf) // a log that cannot be written must not fail the request
	s.buf = s.buf[:0]
}

func (s *sink) flushEvery(d time.Duration) {
	defer close(s.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.mu.Lock()
			s.flushLocked()
			s.mu.Unlock()
		case <-s.stop:
			return
		}
	}
}

// release drops one user; the last flushes and closes the writer.
func (s *sink) release() error {
	sinksMu.Lock()
	defer sinksMu.Unlock()
	s.mu.Lock()
	s.refs--
	last := s.refs == 0
	s.flushLocked()
	s.mu.Unlock()
	if !last {
		return nil
	}
	delete(sinks, s.key)
	close(s.stop)
	<-s.done
	return s.w.Close()
}
